import { describe, expect, it } from 'vitest';
import { Calendar } from './calendar';
import { DEFAULT_RULES_CONFIG, parseRulesConfig } from './config';

const cal = new Calendar(DEFAULT_RULES_CONFIG.calendar);
/** local wall-clock time in Shanghai (UTC+8) as epoch ms */
const sh = (y: number, mo: number, d: number, h: number) => Date.UTC(y, mo - 1, d, h - 8);

describe('trading calendar', () => {
  it('a slot is the local hour on a working day, 24 + the hour on a rest day', () => {
    expect(cal.slot(sh(2026, 3, 2, 10), 'CN-31')).toBe(10); // Monday
    expect(cal.kind(sh(2026, 3, 2, 10), 'CN-31')).toBe('workday');
    expect(cal.slot(sh(2026, 3, 7, 21), 'CN-31')).toBe(24 + 21); // Saturday
    expect(cal.kind(sh(2026, 3, 8, 0), 'CN-31')).toBe('weekend'); // Sunday, just after midnight
    // 23:30 on Friday local is 15:30 UTC: still Friday, a working day
    expect(cal.slot(sh(2026, 3, 6, 23) + 30 * 60_000, 'CN-31')).toBe(23);
  });

  it('public holidays are rest days, peak days keep their weekday', () => {
    expect(cal.kind(sh(2026, 10, 1, 12), 'CN-11')).toBe('holiday'); // a Thursday
    expect(cal.slot(sh(2026, 10, 1, 12), 'CN-11')).toBe(24 + 12);
    expect(cal.kind(sh(2026, 2, 17, 9), 'CN-11')).toBe('holiday'); // Spring Festival
    expect(cal.kind(sh(2026, 11, 11, 20), 'CN-11')).toBe('peak'); // a Wednesday
    expect(cal.slot(sh(2026, 11, 11, 20), 'CN-11')).toBe(20);
  });

  it('a make-up working day (调休) on a Saturday and a region in another time zone', () => {
    const c = new Calendar(
      parseRulesConfig({
        calendar: {
          regions: { 'CN-65': 'Asia/Urumqi' },
          days: [{ date: '2026-10-10', kind: 'workday', name: 'make-up day' }],
        },
      }).calendar,
    );
    expect(c.slot(sh(2026, 10, 10, 9), 'CN-31')).toBe(9); // Saturday, but a working day
    expect(c.slot(sh(2026, 10, 11, 9), 'CN-31')).toBe(24 + 9);
    // Urumqi is UTC+6: 09:00 in Shanghai is 07:00 there
    expect(c.hour(sh(2026, 3, 2, 9), 'CN-65')).toBe(7);
  });

  it('refuses an unknown time zone, naming the field', () => {
    expect(() => parseRulesConfig({ calendar: { timeZone: 'Mars/Olympus' } })).toThrow(
      /calendar\.timeZone: an IANA time zone/,
    );
    expect(() =>
      parseRulesConfig({ calendar: { days: [{ date: '11.11', kind: 'peak', name: 'x' }] } }),
    ).toThrow(/calendar\.days\.0\.date/);
  });
});
