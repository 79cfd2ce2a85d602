import { METRIC_COUNT } from '@tillwatch/core';
import { SLOTS } from './calendar';

/**
 * Per-scope baselines: an EWMA of past windows, kept as decayed sums of every engine metric
 * (22 numbers per key). A rate's baseline is the ratio of two decayed sums, shrunk towards the
 * fleet's rate by `priorWeight` pseudo-auths, so a terminal with 30 auths of history does not
 * get a baseline of exactly 0 (or 10 %) from chance alone.
 */
export interface BaselineEntry {
  sums: Float64Array;
  /** decayed number of windows taken */
  weight: number;
  /** event time of the last update */
  at: number;
}

export class BaselineStore {
  private readonly entries = new Map<string, BaselineEntry>();

  constructor(
    private halfLifeMs: number,
    /** keys not updated for this long are dropped (bounded memory) */
    private readonly forgetAfterMs = 8 * 24 * 3_600_000,
  ) {}

  setHalfLife(ms: number): void {
    this.halfLifeMs = ms;
  }

  get(key: string): BaselineEntry | undefined {
    return this.entries.get(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every entry, sorted by key (rules memory). */
  list(): [string, BaselineEntry][] {
    return [...this.entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** Put an entry back (rules memory). */
  restore(key: string, e: BaselineEntry): void {
    this.entries.set(key, e);
  }

  /** Add one closed window's counters at event time `now`. */
  add(key: string, counts: Float64Array, now: number): void {
    let e = this.entries.get(key);
    if (!e) {
      e = { sums: new Float64Array(METRIC_COUNT), weight: 0, at: now };
      this.entries.set(key, e);
    }
    const decay = now > e.at ? Math.pow(0.5, (now - e.at) / this.halfLifeMs) : 1;
    for (let i = 0; i < METRIC_COUNT; i++) e.sums[i] = e.sums[i]! * decay + counts[i]!;
    e.weight = e.weight * decay + 1;
    e.at = now;
  }

  forget(now: number): void {
    for (const [k, e] of this.entries) if (e.at < now - this.forgetAfterMs) this.entries.delete(k);
  }
}

/** Rate num/den of a baseline, shrunk to `prior` by `priorWeight` pseudo-observations of den. */
export function baselineRate(
  e: BaselineEntry | undefined,
  num: (m: Float64Array) => number,
  den: (m: Float64Array) => number,
  prior: number,
  priorWeight: number,
): number {
  if (!e) return prior;
  const n = den(e.sums);
  const k = num(e.sums);
  return (k + prior * priorWeight) / (n + priorWeight);
}

/**
 * Expected count per calendar slot (calendar.ts: working or rest day x local hour), learnt
 * across days (for volume and heartbeats of a region), plus a short-term EWMA for the first
 * day. Values are per `slotMs` (e.g. per 5 minutes).
 */
export class HourlyProfile {
  readonly level = new Float64Array(SLOTS);
  readonly days = new Uint8Array(SLOTS);
  /** short-term EWMA of the per-slot count, and whether it has any data */
  recent = 0;
  recentWeight = 0;
  /** the hour being summed (epoch hours), its sum and slots: kept whole in rules memory */
  bucket = -1;
  bucketSum = 0;
  bucketSlots = 0;

  constructor(
    private readonly slotMs: number,
    /** the calendar slot of an instant (the region's local hour and kind of day) */
    private readonly slotOf: (t: number) => number,
    /** short-term EWMA factor per slot (0.15 ~ a 30 min memory at 5 min slots) */
    private readonly alpha = 0.15,
  ) {}

  /** One closed slot ending at `end` with `count`. Hour buckets close as time passes. */
  add(end: number, count: number): void {
    const hourIndex = Math.floor((end - 1) / 3_600_000);
    if (this.bucket !== hourIndex) {
      if (this.bucket >= 0 && this.bucketSlots >= (3_600_000 / this.slotMs) * 0.75) {
        const h = this.slotOf(this.bucket * 3_600_000 + 1_800_000);
        const mean = this.bucketSum / this.bucketSlots;
        this.level[h] = this.days[h] === 0 ? mean : this.level[h]! * (2 / 3) + mean / 3;
        if (this.days[h]! < 255) this.days[h]!++;
      }
      this.bucket = hourIndex;
      this.bucketSum = 0;
      this.bucketSlots = 0;
    }
    this.bucketSum += count;
    this.bucketSlots++;
    this.recent =
      this.recentWeight === 0 ? count : this.recent * (1 - this.alpha) + count * this.alpha;
    this.recentWeight++;
  }

  /** Expected per-slot count at time t: the calendar slot's level when known, else the recent EWMA. */
  expected(t: number, minDays = 1): { value: number; byHour: boolean } | undefined {
    const h = this.slotOf(t);
    if (this.days[h]! >= Math.max(1, minDays)) return { value: this.level[h]!, byHour: true };
    if (this.recentWeight >= 6) return { value: this.recent, byHour: false };
    return undefined;
  }

  /** The same local hour's level in the other class of day (working / rest), when that slot has
   *  been seen on `minDays` days: what the region did at this hour on the days it has a profile
   *  for, while today's class has none yet. */
  otherClass(t: number, minDays = 1): number | undefined {
    const h = (this.slotOf(t) + SLOTS / 2) % SLOTS;
    return this.days[h]! >= Math.max(1, minDays) ? this.level[h] : undefined;
  }
}

/**
 * The fewest events (auths + heartbeats) a region sent in any slot of its last whole day: what
 * its tills that are never switched off send (0 once the region has been dark for a slot). Slots
 * count only `lagMs` after they ended, so a dark run being judged does not teach its own floor.
 */
export class DayFloor {
  /** per hour of the day (epoch hour % 24): that hour's epoch hour and its fewest events a slot */
  readonly hours = new Float64Array(24).fill(-1);
  readonly mins = new Float64Array(24);
  /** [slot end, count] not yet lagMs old */
  pending: [number, number][] = [];

  constructor(private readonly lagMs = 30 * 60_000) {}

  add(end: number, count: number): void {
    this.pending.push([end, count]);
    while (this.pending.length > 0 && this.pending[0]![0] <= end - this.lagMs) {
      const [e, c] = this.pending.shift()!;
      const h = Math.floor((e - 1) / 3_600_000);
      const i = h % 24;
      if (this.hours[i] !== h) {
        this.hours[i] = h;
        this.mins[i] = c;
      } else if (c < this.mins[i]!) this.mins[i] = c;
    }
  }

  /** The floor per slot, or undefined unless every hour of the day before now - lagMs was seen. */
  floor(now: number): number | undefined {
    const last = Math.floor((now - this.lagMs - 1) / 3_600_000);
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 24; i++) {
      if (this.hours[i]! < last - 24) return undefined;
      min = Math.min(min, this.mins[i]!);
    }
    return min;
  }
}
