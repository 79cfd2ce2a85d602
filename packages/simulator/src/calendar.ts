import { CN_OFFSET_MS, HOUR_MS, type Fleet } from './fleet';

/**
 * The trading calendar: which kind of day a local date is. Shops keep different hours on a
 * Saturday, a Sunday, a public holiday or a shopping festival, and a detector that only ever saw
 * weekdays mistakes the difference for an incident (a mall closing at 21:00 on the minute, a
 * café that does not open on Sunday). Days are counted in the fleet's local time
 * (fleet.utcOffsetMs, UTC+8 by default).
 */

export const DAY_MS = 24 * HOUR_MS;

/**
 * - `weekday`, `saturday`, `sunday`: an ordinary day;
 * - `holiday`: a public holiday (shops keep weekend hours; some close for Spring Festival);
 * - `workday`: a make-up working day (调休): a Saturday or Sunday worked in exchange for a holiday,
 *   traded as a weekday;
 * - `peak`: a shopping festival (11.11, 12.12) on top of its ordinary day's hours.
 */
export type DayKind = 'weekday' | 'saturday' | 'sunday' | 'holiday' | 'workday' | 'peak';

export interface CalendarEntry {
  /** local date, YYYY-MM-DD */
  date: string;
  /** last local date of a range, inclusive; default `date` */
  to?: string;
  kind: 'holiday' | 'workday' | 'peak';
  name: string;
  /**
   * holiday: the share of shops that are not open 24 h which close for the whole holiday
   * (Spring Festival ~0.6); default 0
   */
  closed?: number;
  /**
   * holiday: traffic multiplier on weekend hours (Golden Week 1.25: a busy weekend); default 1.
   * peak: the multiplier for retail and electronics; default drawn per shop and day in 1.5–2.2.
   */
  traffic?: number;
}

export type Calendar = readonly CalendarEntry[];

/**
 * 2026 in mainland China, as the State Council published it: the public holidays, the make-up
 * working days that pay for them, and the two big online shopping festivals, whose parcels and
 * promotions fill electronics and retail tills too. These are configurable defaults
 * (SimulationOptions.calendar), not a source of truth: another year or another country passes
 * its own list.
 */
export const DEFAULT_CALENDAR: Calendar = [
  { date: '2026-01-01', to: '2026-01-03', kind: 'holiday', name: 'New Year' },
  { date: '2026-01-04', kind: 'workday', name: 'New Year make-up workday' },
  { date: '2026-02-14', kind: 'workday', name: 'Spring Festival make-up workday' },
  {
    date: '2026-02-15',
    to: '2026-02-23',
    kind: 'holiday',
    name: 'Spring Festival',
    closed: 0.6,
  },
  { date: '2026-02-28', kind: 'workday', name: 'Spring Festival make-up workday' },
  { date: '2026-04-04', to: '2026-04-06', kind: 'holiday', name: 'Qingming' },
  { date: '2026-05-01', to: '2026-05-05', kind: 'holiday', name: 'Labour Day', traffic: 1.15 },
  { date: '2026-05-09', kind: 'workday', name: 'Labour Day make-up workday' },
  { date: '2026-06-19', to: '2026-06-21', kind: 'holiday', name: 'Dragon Boat' },
  { date: '2026-09-20', kind: 'workday', name: 'National Day make-up workday' },
  { date: '2026-09-25', to: '2026-09-27', kind: 'holiday', name: 'Mid-Autumn' },
  {
    date: '2026-10-01',
    to: '2026-10-07',
    kind: 'holiday',
    name: 'National Day (Golden Week)',
    traffic: 1.25,
  },
  { date: '2026-10-10', kind: 'workday', name: 'National Day make-up workday' },
  { date: '2026-11-11', kind: 'peak', name: 'Singles Day (11.11)' },
  { date: '2026-12-12', kind: 'peak', name: 'Double Twelve (12.12)' },
];

/** What a local day is: its kind, the ordinary day it is traded as, and the entries naming it. */
export interface DayInfo {
  /** local day number: days since 1970-01-01 in the fleet's time zone */
  day: number;
  /** YYYY-MM-DD, local */
  date: string;
  kind: DayKind;
  /** the hours the day is traded with: a make-up workday is a weekday, a holiday has its own */
  base: 'weekday' | 'saturday' | 'sunday' | 'holiday';
  /** the holiday or make-up workday entry of the day */
  entry: CalendarEntry | null;
  /** the shopping festival of the day */
  peak: CalendarEntry | null;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function dayNumber(date: string, what: string): number {
  const m = DATE.exec(date);
  const n = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS : NaN;
  // Date.UTC rolls 2026-02-30 over to March: a date that does not round-trip is not a date.
  if (!Number.isInteger(n) || new Date(n * DAY_MS).toISOString().slice(0, 10) !== date) {
    throw new Error(`simulator: calendar ${what} "${date}" is not a YYYY-MM-DD date`);
  }
  return n;
}

/** A calendar indexed by local day number: one Map lookup per day asked. */
export class CalendarIndex {
  private readonly special = new Map<number, CalendarEntry>();
  private readonly peaks = new Map<number, CalendarEntry>();

  constructor(readonly entries: Calendar = DEFAULT_CALENDAR) {
    for (const e of entries) {
      if (e.kind !== 'holiday' && e.kind !== 'workday' && e.kind !== 'peak') {
        throw new Error(
          `simulator: calendar entry "${e.name}" has unknown kind "${String(e.kind)}"`,
        );
      }
      if (e.closed !== undefined && !(e.closed >= 0 && e.closed <= 1)) {
        throw new Error(`simulator: calendar entry "${e.name}": closed must be in [0, 1]`);
      }
      if (e.traffic !== undefined && !(e.traffic > 0)) {
        throw new Error(`simulator: calendar entry "${e.name}": traffic must be > 0`);
      }
      const from = dayNumber(e.date, 'date');
      const to = e.to === undefined ? from : dayNumber(e.to, 'to');
      if (to < from) throw new Error(`simulator: calendar entry "${e.name}" ends before it starts`);
      for (let d = from; d <= to; d++) (e.kind === 'peak' ? this.peaks : this.special).set(d, e);
    }
  }

  /** What local day `day` (days since 1970-01-01, local) is. */
  info(day: number): DayInfo {
    // 1970-01-01 was a Thursday: (day + 4) % 7 is 0 on Sundays.
    const dow = (((day + 4) % 7) + 7) % 7;
    const ordinary = dow === 0 ? 'sunday' : dow === 6 ? 'saturday' : 'weekday';
    const entry = this.special.get(day) ?? null;
    const peak = this.peaks.get(day) ?? null;
    let kind: DayKind = ordinary;
    let base: DayInfo['base'] = ordinary;
    if (entry?.kind === 'holiday') {
      kind = 'holiday';
      base = 'holiday';
    } else if (entry?.kind === 'workday') {
      kind = 'workday';
      base = 'weekday';
    } else if (peak) {
      kind = 'peak';
    }
    const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    return { day, date, kind, base, entry, peak };
  }
}

/** Local day number of epoch-ms `ts` at UTC offset `offsetMs`. */
export function localDay(ts: number, offsetMs: number = CN_OFFSET_MS): number {
  return Math.floor((ts + offsetMs) / DAY_MS);
}

/** Epoch ms of local midnight starting local day `day`. */
export function dayStart(day: number, offsetMs: number = CN_OFFSET_MS): number {
  return day * DAY_MS - offsetMs;
}

/**
 * The kind of day epoch-ms `ts` falls on in the fleet's local time (or at UTC offset `offsetMs`):
 * weekday, saturday, sunday, holiday, workday (a make-up working day) or peak.
 */
export function dayKind(
  ts: number,
  where: Pick<Fleet, 'utcOffsetMs'> | number = CN_OFFSET_MS,
  calendar: Calendar | CalendarIndex = DEFAULT_CALENDAR,
): DayKind {
  const offset = typeof where === 'number' ? where : where.utcOffsetMs;
  const index = calendar instanceof CalendarIndex ? calendar : new CalendarIndex(calendar);
  return index.info(localDay(ts, offset)).kind;
}
