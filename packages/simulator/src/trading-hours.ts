import {
  CalendarIndex,
  DAY_MS,
  dayStart,
  localDay,
  type Calendar,
  type CalendarEntry,
  type DayInfo,
} from './calendar';
import { HOUR_MS, MINUTE_MS, trafficLevel, type Fleet, type Merchant } from './fleet';
import { Rng, hash2, hashString } from './rng';

/**
 * Who trades when, day by day: each local day gets a table of every merchant's 24 hourly levels
 * for that day (weekday, weekend, holiday, festival), built once and shared by the event loop,
 * the heartbeats and incident placement. The hot loop asks for a day only when it crosses
 * midnight, so a week costs the same per event as a day.
 */

export interface DayTable {
  readonly day: number;
  /** epoch ms of local midnight, and of the next one */
  readonly start: number;
  readonly end: number;
  readonly info: DayInfo;
  /** per merchant: 24 local-hour levels (above 1 on busy days), 0 = closed */
  readonly profiles: readonly Float64Array[];
  /** per merchant: the day's highest level (the arrival process's bound), 0 when closed all day */
  readonly bound: Float64Array;
}

const CLOSED = new Float64Array(24);
/** days kept; the loop walks forward, so a few behind and a few ahead are plenty */
const CACHE_DAYS = 16;

const scaled = (p: Float64Array, k: number) => (k === 1 ? p : p.map((v) => v * k));

export class TradingHours {
  readonly tz: number;
  readonly calendar: CalendarIndex;
  private readonly fleet: Fleet;
  private readonly seed: number;
  private readonly cache = new Map<number, DayTable>();
  private last: DayTable | null = null;
  /** per terminal, mall shops only: switched on this long before opening, off this long after closing */
  private readonly onBefore: Float64Array;
  private readonly offAfter: Float64Array;
  private readonly tMerchant: Int32Array;

  constructor(fleet: Fleet, calendar: Calendar | CalendarIndex, seed: number) {
    this.fleet = fleet;
    this.seed = seed;
    this.tz = fleet.utcOffsetMs;
    this.calendar = calendar instanceof CalendarIndex ? calendar : new CalendarIndex(calendar);
    const n = fleet.terminals.length;
    this.onBefore = new Float64Array(n);
    this.offAfter = new Float64Array(n);
    this.tMerchant = new Int32Array(n);
    const rng = Rng.derive(seed, 0x9017);
    for (const t of fleet.terminals) {
      this.tMerchant[t.index] = t.merchant;
      // Staff switch the tills on while setting up and off while cashing up.
      this.onBefore[t.index] = Math.round(rng.range(10, 30) * MINUTE_MS);
      this.offAfter[t.index] = Math.round(rng.range(0, 3) * MINUTE_MS);
    }
  }

  /** The table of local day `d` (days since 1970-01-01, local). */
  day(d: number): DayTable {
    let t = this.cache.get(d);
    if (t === undefined) {
      t = this.build(d);
      if (this.cache.size >= CACHE_DAYS) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(d, t);
    }
    return t;
  }

  /** The table of the local day epoch-ms `ts` falls on. */
  at(ts: number): DayTable {
    const l = this.last;
    if (l !== null && ts >= l.start && ts < l.end) return l;
    return (this.last = this.day(localDay(ts, this.tz)));
  }

  /** Merchant mi's traffic level at ts (0 = closed). */
  level(mi: number, ts: number): number {
    const t = this.at(ts);
    return trafficLevel(t.profiles[mi]!, (ts - t.start) / HOUR_MS);
  }

  open(mi: number, ts: number): boolean {
    return this.level(mi, ts) > 0;
  }

  /**
   * Whether terminal t is switched on at ts (it heartbeats). Mall shops: from shortly before
   * opening to a few minutes after closing, on days they open. Street shops that power down:
   * an hour before opening until closing. The rest: always.
   */
  powered(t: number, ts: number): boolean {
    const m = this.fleet.merchants[this.tMerchant[t]!]!;
    if (m.alwaysOn) return true;
    const tab = this.at(ts);
    if (m.mall >= 0) {
      if (tab.bound[m.index] === 0) return false;
      const mall = this.fleet.malls[m.mall]!;
      return (
        ts >= tab.start + mall.opensAt * HOUR_MS - this.onBefore[t]! &&
        ts < tab.start + mall.closesAt * HOUR_MS + this.offAfter[t]!
      );
    }
    const p = tab.profiles[m.index]!;
    const h = Math.floor((ts - tab.start) / HOUR_MS);
    if (p[h]! > 0) return true;
    return (h < 23 ? p[h + 1]! : this.day(tab.day + 1).profiles[m.index]![0]!) > 0;
  }

  /** Expected auths of terminal t in [from, to) (numeric integral, 5-minute steps). */
  expectedAuths(t: number, from: number, to: number): number {
    const term = this.fleet.terminals[t]!;
    const step = 5 * MINUTE_MS;
    let sum = 0;
    for (let x = from; x < to; x += step) {
      const w = Math.min(step, to - x);
      sum += this.level(term.merchant, x + w / 2) * term.peakRate * (w / HOUR_MS);
    }
    return sum;
  }

  /** Epoch ms at which mall `mall` closes on the local day of ts. */
  closingOn(mall: number, ts: number): number {
    const d = localDay(ts, this.tz);
    return dayStart(d, this.tz) + this.fleet.malls[mall]!.closesAt * HOUR_MS;
  }

  /** A uniform in [0, 1) fixed by the seed, a merchant and a key. */
  private unit(mi: number, key: number): number {
    return hash2(hash2(this.seed ^ 0x7d4a, mi), key) / 4294967296;
  }

  private build(d: number): DayTable {
    const info = this.calendar.info(d);
    const merchants = this.fleet.merchants;
    const profiles: Float64Array[] = [];
    const bound = new Float64Array(merchants.length);
    for (const m of merchants) {
      let p = this.baseProfile(m, info);
      if (info.peak) p = scaled(p, this.peakFactor(m, d, info.peak));
      profiles.push(p);
      let b = 0;
      for (let h = 0; h < 24; h++) if (p[h]! > b) b = p[h]!;
      bound[m.index] = b;
    }
    const start = dayStart(d, this.tz);
    return { day: d, start, end: start + DAY_MS, info, profiles, bound };
  }

  private baseProfile(m: Merchant, info: DayInfo): Float64Array {
    switch (info.base) {
      case 'weekday':
        return m.profile;
      case 'saturday':
        return m.saturday;
      case 'sunday':
        return m.sunday;
      case 'holiday': {
        // Weekend (Saturday) hours; a share of the shops that close at night close for the
        // whole holiday (the same shops every day of it: they went home for Spring Festival).
        const e = info.entry!;
        if (!m.allDay && e.closed && this.unit(m.index, entryKey(e)) < e.closed) return CLOSED;
        return scaled(m.saturday, e.traffic ?? 1);
      }
    }
  }

  /** A festival fills retail and electronics tills (x1.5–2.2), the rest barely. */
  private peakFactor(m: Merchant, d: number, e: CalendarEntry): number {
    switch (m.category) {
      case 'retail':
      case 'electronics':
        return e.traffic ?? 1.5 + 0.7 * this.unit(m.index, d);
      case 'supermarket':
      case 'convenience':
        return 1.1;
      case 'restaurant':
      case 'cafe':
        return 1.05;
      default:
        return 1;
    }
  }
}

function entryKey(e: CalendarEntry): number {
  return hashString(`${e.date}/${e.name}`);
}
