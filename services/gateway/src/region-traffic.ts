import type { RegionTraffic, RegionTrafficReport } from '@tillwatch/contracts';
import { Calendar, type CalendarConfig } from '@tillwatch/rules';
import type { RegionAuthCount } from './store';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Which zone each region's local hour is in: the rules file's `calendar` (timeZone, regions). */
export type TrafficZones = Pick<CalendarConfig, 'timeZone' | 'regions'>;

export interface TrafficPlanOptions {
  /** the span compared: 1 h */
  spanMs?: number;
  /** sparkline bucket: 5 min (a whole number of minutes dividing the span) */
  bucketMs?: number;
  /** previous days the normal is the mean of: 7 */
  days?: number;
}

/**
 * The hour to compare and where its normal lies. The hour is [to - 1 h, to) with `to` the
 * last whole minute (a whole-minute range reads the same from ClickHouse and from the memory
 * store's minute counts); each region's normal is the same local hour on each of the previous
 * `days` days in the region's zone (the same instant minus whole days unless the zone moved its
 * clocks in between).
 */
export class TrafficPlan {
  readonly from: number;
  readonly to: number;
  readonly spanMs: number;
  readonly bucketMs: number;
  readonly buckets: number;
  readonly days: number;
  private readonly cal: Calendar;
  private readonly zones: TrafficZones;

  constructor(now: number, zones: TrafficZones, o: TrafficPlanOptions = {}) {
    this.spanMs = o.spanMs ?? HOUR;
    this.bucketMs = o.bucketMs ?? 5 * MINUTE;
    this.days = o.days ?? 7;
    if (this.bucketMs % MINUTE !== 0 || this.spanMs % this.bucketMs !== 0) {
      throw new Error('traffic: buckets are whole minutes and divide the span');
    }
    this.buckets = this.spanMs / this.bucketMs;
    this.to = Math.floor(now / MINUTE) * MINUTE;
    this.from = this.to - this.spanMs;
    this.zones = zones;
    this.cal = new Calendar({ timeZone: zones.timeZone, regions: zones.regions, days: [] });
  }

  timeZone(region: string): string {
    return this.zones.regions[region] ?? this.zones.timeZone;
  }

  /** Starts of the same local hour 1..days days before, newest first. */
  historyStarts(region: string): number[] {
    const wall = this.cal.local(this.from, region);
    const out: number[] = [];
    for (let k = 1; k <= this.days; k++) {
      let t = this.from - k * DAY;
      // across a clock change the same wall-clock time is an hour off whole days
      t -= this.cal.local(t, region) - (wall - k * DAY);
      out.push(t);
    }
    return out;
  }

  /** Every range start the store is asked for: this hour's, then every zone's history. */
  starts(): number[] {
    const all = new Set([this.from]);
    // a region the rules do not name follows the default zone ('' is no region's key)
    for (const r of ['', ...Object.keys(this.zones.regions)]) {
      for (const s of this.historyStarts(r)) all.add(s);
    }
    return [...all];
  }
}

/** Counts → the report: per region, this hour against the mean of the days that have any. */
export function trafficReport(
  plan: TrafficPlan,
  counts: readonly RegionAuthCount[],
): RegionTrafficReport {
  const byRegion = new Map<string, Map<number, number[]>>();
  for (const c of counts) {
    if (!(c.bucket >= 0 && c.bucket < plan.buckets)) continue;
    let starts = byRegion.get(c.region);
    if (!starts) byRegion.set(c.region, (starts = new Map()));
    let series = starts.get(c.start);
    if (!series) starts.set(c.start, (series = new Array<number>(plan.buckets).fill(0)));
    series[c.bucket]! += c.auths;
  }
  const regions: RegionTraffic[] = [];
  for (const [region, starts] of byRegion) {
    const series = starts.get(plan.from) ?? new Array<number>(plan.buckets).fill(0);
    const auths = sum(series);
    const past = plan
      .historyStarts(region)
      .map((s) => starts.get(s))
      .filter((s): s is number[] => s !== undefined && sum(s) > 0);
    const normalSeries = past.length
      ? series.map((_, i) => past.reduce((a, s) => a + s[i]!, 0) / past.length)
      : null;
    const normal = normalSeries ? sum(normalSeries) : null;
    regions.push({
      region,
      timeZone: plan.timeZone(region),
      auths,
      normal,
      normalDays: past.length,
      ratio: normal ? auths / normal : null,
      series,
      normalSeries,
    });
  }
  regions.sort((a, b) => a.region.localeCompare(b.region));
  return {
    from: new Date(plan.from).toISOString(),
    to: new Date(plan.to).toISOString(),
    bucketMs: plan.bucketMs,
    buckets: plan.buckets,
    days: plan.days,
    regions,
  };
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
