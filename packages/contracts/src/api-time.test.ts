import { describe, expect, it } from 'vitest';
import {
  isoTimeField,
  isoTimeParam,
  parseApiTime,
  timeParam,
  TIME_MAX_MS,
  TIME_MIN_MS,
} from './api-time';

describe('API times (issue 16: out-of-range and sloppy times)', () => {
  it('takes epoch ms in decimal digits and ISO-8601 with an offset', () => {
    expect(timeParam.parse('1767225600000')).toBe(1767225600000);
    expect(timeParam.parse('2026-01-01T08:00:00+08:00')).toBe(1767225600000);
    expect(timeParam.parse('2026-01-01T00:00:00.5Z')).toBe(1767225600500);
    expect(isoTimeParam.parse('2026-01-01T08:00:00+08:00')).toBe('2026-01-01T00:00:00.000Z');
    expect(timeParam.parse(String(TIME_MIN_MS))).toBe(TIME_MIN_MS);
    expect(timeParam.parse(String(TIME_MAX_MS))).toBe(TIME_MAX_MS);
  });

  it.each([
    ['', /expected a time/],
    [' ', /expected a time/],
    ['0x10', /expected a time/],
    ['1e12', /expected a time/],
    ['-5', /expected a time/],
    ['+1767225600000', /expected a time/],
    [' 1767225600000', /expected a time/],
    ['1767225600000.5', /expected a time/],
    ['2026-01-01T00:00:00', /expected a time/], // no offset: whose midnight?
    ['2026-02-30T00:00:00Z', /expected a time/],
    ['0', /out of range/],
    ['8640000000000001', /out of range/],
    ['99999999999999999', /out of range/],
    ['9'.repeat(400), /out of range/],
    ['1999-12-31T23:59:59.999Z', /out of range/],
    ['2100-01-01T00:00:00.001Z', /out of range/],
    ['+275760-09-13T00:00:00Z', /expected a time/],
  ])('refuses %j', (s, why) => {
    const r = parseApiTime(s);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(why);
    const z = timeParam.safeParse(s);
    expect(z.success).toBe(false);
    expect(z.error?.issues[0]?.message).toMatch(why);
  });

  it('refuses what is not a string (a repeated query parameter is an array)', () => {
    expect(timeParam.safeParse(['1767225600000', '1767225600001']).success).toBe(false);
    expect(timeParam.safeParse(1767225600000).success).toBe(false);
  });

  it('a body time stays the text sent, within the same range', () => {
    expect(isoTimeField.parse('2026-01-01T08:00:00+08:00')).toBe('2026-01-01T08:00:00+08:00');
    expect(isoTimeField.safeParse('9999-01-01T00:00:00Z').error?.issues[0]?.message).toMatch(
      /out of range/,
    );
    expect(isoTimeField.safeParse('1767225600000').success).toBe(false);
    // one problem per field: not a time, or out of range, never both
    expect(isoTimeField.safeParse('soon').error?.issues).toHaveLength(1);
    expect(isoTimeField.safeParse('9999-01-01T00:00:00Z').error?.issues).toHaveLength(1);
  });
});
