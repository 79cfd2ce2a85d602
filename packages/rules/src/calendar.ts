/**
 * Trading calendars. A shop's normal hour depends on the local clock of its region and on the
 * kind of day: the 21:00 closing of a Tuesday, the quiet Sunday morning and the shut Spring
 * Festival week are normal, not incidents. Profiles (tracker.ts, baseline.ts) are therefore kept
 * per slot = day class x local hour, where the day class is a working day or a rest day (a
 * weekend or public holiday, unless the calendar names it a make-up working day, 调休), in the
 * region's time zone (default Asia/Shanghai; configurable per region in the rules file).
 */

export const SLOTS = 48;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type DayKind = 'workday' | 'weekend' | CalendarDay['kind'];

export interface CalendarDay {
  /** first local date, YYYY-MM-DD */
  date: string;
  /** last local date (inclusive); default `date` */
  to?: string;
  /** holiday: a rest day even on a weekday; workday: a working day even on a weekend; peak: a
   *  working or rest day as the week has it, with more traffic than usual (11.11, 12.12) */
  kind: 'holiday' | 'workday' | 'peak';
  name: string;
}

export interface CalendarConfig {
  /** IANA time zone of regions not listed in `regions` */
  timeZone: string;
  /** region id -> IANA time zone */
  regions: Record<string, string>;
  days: readonly CalendarDay[];
}

/** Whether `tz` is a time zone this runtime knows (Intl throws a RangeError otherwise). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** UTC offsets of one zone, cached per epoch hour (zones change offset on the hour or half). */
class Zone {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  constructor(tz: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
  }

  offset(ts: number): number {
    const h = Math.floor(ts / HOUR);
    let o = this.offsets.get(h);
    if (o === undefined) {
      const p: Record<string, number> = {};
      for (const part of this.fmt.formatToParts(h * HOUR)) {
        if (part.type !== 'literal') p[part.type] = Number(part.value);
      }
      o = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!) - h * HOUR;
      if (this.offsets.size > 50_000) this.offsets.clear();
      this.offsets.set(h, o);
    }
    return o;
  }
}

/** Days since 1970-01-01 of a local YYYY-MM-DD date. */
function dayNumber(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Math.floor(Date.UTC(y!, m! - 1, d!) / DAY);
}

/** 1970-01-01 was a Thursday: (day + 4) % 7 is 0 on Sundays, 6 on Saturdays. */
function weekend(day: number): boolean {
  const dow = (day + 4) % 7;
  return dow === 0 || dow === 6;
}

export class Calendar {
  private readonly zones = new Map<string, Zone>();
  private readonly regionZone = new Map<string, Zone>();
  private readonly defaultZone: Zone;
  /** local day number -> kind named by the calendar */
  private readonly named = new Map<number, CalendarDay['kind']>();

  constructor(readonly cfg: CalendarConfig) {
    this.defaultZone = this.zone(cfg.timeZone);
    for (const [region, tz] of Object.entries(cfg.regions)) {
      this.regionZone.set(region, this.zone(tz));
    }
    for (const d of cfg.days) {
      const last = dayNumber(d.to ?? d.date);
      for (let n = dayNumber(d.date); n <= last; n++) {
        // A holiday or make-up day decides the class; a peak inside a holiday stays a holiday.
        if (d.kind === 'peak' && this.named.has(n)) continue;
        this.named.set(n, d.kind);
      }
    }
  }

  private zone(tz: string): Zone {
    let z = this.zones.get(tz);
    if (!z) this.zones.set(tz, (z = new Zone(tz)));
    return z;
  }

  /** Local time of `ts` in the region's zone, as epoch ms of the same wall-clock time in UTC. */
  local(ts: number, region: string): number {
    return ts + (this.regionZone.get(region) ?? this.defaultZone).offset(ts);
  }

  /** Local hour of day, 0..23. */
  hour(ts: number, region: string): number {
    const l = this.local(ts, region);
    return Math.floor((((l % DAY) + DAY) % DAY) / HOUR);
  }

  /** Minutes into the local hour, fractional, 0 <= m < 60 (half-hour zones have their own). */
  minute(ts: number, region: string): number {
    const l = this.local(ts, region);
    return (((l % HOUR) + HOUR) % HOUR) / 60_000;
  }

  kind(ts: number, region: string): DayKind {
    const day = Math.floor(this.local(ts, region) / DAY);
    const named = this.named.get(day);
    if (named) return named;
    return weekend(day) ? 'weekend' : 'workday';
  }

  /** Whether the local day of `ts` is a rest day (weekend or holiday, not a make-up workday). */
  restDay(ts: number, region: string): boolean {
    const day = Math.floor(this.local(ts, region) / DAY);
    const named = this.named.get(day);
    if (named === 'holiday') return true;
    if (named === 'workday') return false;
    return weekend(day);
  }

  /** Profile slot of `ts`: day class (0 working, 1 rest) x 24 + local hour. */
  slot(ts: number, region: string): number {
    return (this.restDay(ts, region) ? 24 : 0) + this.hour(ts, region);
  }
}
