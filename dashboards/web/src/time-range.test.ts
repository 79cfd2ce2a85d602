import { describe, expect, it } from 'vitest';
import { chartWindow, isoMinute, resolveRange } from './time-range';

const NOW = Date.UTC(2026, 11, 5, 2, 30, 15);

describe('time ranges', () => {
  it('follows the present when relative (1h by default), stays put when absolute', () => {
    expect(resolveRange({}, NOW)).toEqual({ from: NOW - 3_600_000, to: NOW, live: true });
    expect(resolveRange({ range: '7d' }, NOW)).toEqual({
      from: NOW - 7 * 86_400_000,
      to: NOW,
      live: true,
    });
    expect(
      resolveRange({ range: '7d', from: '2026-12-01T00:00Z', to: '2026-12-01T06:00Z' }, NOW),
    ).toEqual({
      from: Date.UTC(2026, 11, 1, 0),
      to: Date.UTC(2026, 11, 1, 6),
      live: false,
    });
  });

  it('plots a wider window over a long range, the picked one over a short one', () => {
    expect(chartWindow(3_600_000, '1m')).toBe('1m');
    expect(chartWindow(86_400_000, '1m')).toBe('15m');
    expect(chartWindow(86_400_000, '1h')).toBe('1h');
    expect(chartWindow(30 * 86_400_000, '1m')).toBe('1h');
  });

  it('writes whole minutes in UTC', () => {
    expect(isoMinute(NOW)).toBe('2026-12-05T02:30Z');
    expect(Date.parse(isoMinute(NOW))).toBe(Date.UTC(2026, 11, 5, 2, 30));
  });
});
