import { describe, expect, it } from 'vitest';
import { CalendarIndex, DEFAULT_CALENDAR, dayKind } from './calendar';
import { buildFleet } from './fleet';

const HOUR = 3_600_000;
/** 00:30 China time on a local date: the UTC date is the day before. */
const at = (date: string) => Date.parse(`${date}T00:30:00+08:00`);

describe('dayKind', () => {
  it('names ordinary days in the fleet’s local time, not UTC', () => {
    expect(dayKind(at('2026-03-02'))).toBe('weekday'); // a Monday
    expect(dayKind(at('2026-03-06'))).toBe('weekday');
    expect(dayKind(at('2026-03-07'))).toBe('saturday');
    expect(dayKind(at('2026-03-08'))).toBe('sunday');
    // 2026-03-07 00:30 at UTC+8 is Friday 16:30 UTC: at UTC+0 it is still Friday.
    expect(dayKind(at('2026-03-07'), 0)).toBe('weekday');
    expect(dayKind(at('2026-03-07'), buildFleet(1, { terminals: 20, merchants: 5 }))).toBe(
      'saturday',
    );
  });

  it('knows 2026’s holidays, make-up workdays and shopping festivals by default', () => {
    for (const d of ['2026-01-01', '2026-02-15', '2026-02-23', '2026-04-05', '2026-10-07']) {
      expect(dayKind(at(d))).toBe('holiday');
    }
    // Saturdays and Sundays worked to pay for a holiday (调休).
    for (const d of ['2026-01-04', '2026-02-14', '2026-02-28', '2026-09-20', '2026-10-10']) {
      expect(dayKind(at(d))).toBe('workday');
    }
    expect(dayKind(at('2026-11-11'))).toBe('peak'); // a Wednesday
    expect(dayKind(at('2026-12-12'))).toBe('peak'); // a Saturday
    expect(dayKind(at('2026-02-24'))).toBe('weekday');
    expect(dayKind(at('2026-10-08'))).toBe('weekday');
  });

  it('takes another calendar, or none', () => {
    expect(dayKind(at('2026-10-01'), undefined, [])).toBe('weekday'); // a Thursday
    const mine = [{ date: '2026-03-09', kind: 'holiday' as const, name: 'staff day' }];
    expect(dayKind(at('2026-03-09'), undefined, mine)).toBe('holiday');
    expect(dayKind(at('2026-10-01'), undefined, mine)).toBe('weekday');
  });

  it('indexes ranges inclusive and rejects entries that are not dates', () => {
    const cal = new CalendarIndex(DEFAULT_CALENDAR);
    const day = (d: string) => Math.floor((at(d) + 8 * HOUR) / (24 * HOUR));
    expect(cal.info(day('2026-10-01')).entry?.name).toMatch(/Golden Week/);
    expect(cal.info(day('2026-10-07')).entry?.name).toMatch(/Golden Week/);
    expect(cal.info(day('2026-12-12'))).toMatchObject({ kind: 'peak', base: 'saturday' });
    expect(cal.info(day('2026-10-10'))).toMatchObject({ kind: 'workday', base: 'weekday' });
    expect(() => new CalendarIndex([{ date: '2026-02-30', kind: 'holiday', name: 'x' }])).toThrow(
      /not a YYYY-MM-DD date/,
    );
    expect(
      () => new CalendarIndex([{ date: '2026-03-02', to: '2026-03-01', kind: 'peak', name: 'x' }]),
    ).toThrow(/ends before it starts/);
  });
});
