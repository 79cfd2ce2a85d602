/**
 * Each region's traffic against its normal for this hour (`GET /api/regions/traffic`, staff
 * only): auths in the last hour next to the mean of the same local hour over the previous
 * days, with a sparkline of both. The SRE's region view and map read it.
 */
export interface RegionTraffic {
  region: string;
  /** IANA zone whose local hour the normal follows (Asia/Shanghai unless the rules name one) */
  timeZone: string;
  /** auths in [from, to) */
  auths: number;
  /**
   * Mean auths of the same local hour over the previous days that have any (at most `days`);
   * null when none has: no normal yet, never a guess.
   */
  normal: number | null;
  /** how many previous days the normal is the mean of (0: no normal yet) */
  normalDays: number;
  /** auths / normal; null without a normal (or a normal of 0) */
  ratio: number | null;
  /** auths per bucket of `bucketMs`, oldest first, `buckets` of them covering [from, to) */
  series: number[];
  /** the normal per bucket (mean of the same buckets on those days); null without a normal */
  normalSeries: number[] | null;
}

export interface RegionTrafficReport {
  /** the hour compared: [from, to), ISO-8601 (to = the last whole minute) */
  from: string;
  to: string;
  bucketMs: number;
  buckets: number;
  /** how many previous days the normal looks at */
  days: number;
  regions: RegionTraffic[];
}
