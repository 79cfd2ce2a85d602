import {
  METRIC_COUNT,
  Outcome,
  resolveConfig,
  type EngineConfig,
  type EngineCounters,
  type EngineEvent,
  type ScopeIndex,
  type WindowEngine,
} from '@tillwatch/core';

/**
 * The windows of one pos.rollups partition, merged from partials: per (scope, key) the counter
 * deltas of every smallest pane (p0) summed over the source partitions, and sliding windows
 * read as sums of panes. It is the WindowEngine the rollup stage's Monitor reads, so the
 * cross-partition rules run on exactly the figures the rollup writes as pane rows.
 *
 * It holds region, firmware and issuer keys (routed to this partition by key) and the fleet
 * (every source sends its fleet pane to every rollup partition with its tick). Terminal and
 * merchant windows live in the source partitions: read() answers false for them.
 *
 * ingest() does not count (counts come from partials): it takes the failures and presence
 * records the sources forward for the rules' tracker, and only deduplicates them by eventId (a
 * failure reaches this partition once per key it concerns, e.g. its region and its issuer).
 */
/** Columns of a key's prefix-sum row: the counters, then how many panes had a partial. */
const CUM = METRIC_COUNT + 1;

interface KeyPanes {
  /** pane start -> counts summed over sources; panes before the horizon are dropped */
  panes: Map<number, Float64Array>;
  /**
   * Prefix sums over finalized panes (those before the watermark), a ring of `ring` rows of
   * CUM: row k holds the sum of every pane with index (start / p0) below k. A window of panes
   * [a, b) is then row b - row a: 22 subtractions instead of a walk over up to 720 panes (a 1h
   * window of 5 s panes), at every boundary, for every key, for every window the rules read.
   * Counts are integers, so the difference is exact.
   */
  cum: Float64Array;
  /** held panes that start before the watermark: the key is visible while > 0 */
  below: number;
  latest: number;
}

export class MergedWindows implements WindowEngine {
  readonly config: EngineConfig;
  private wm = Number.NEGATIVE_INFINITY;
  /** finalized pane index: panes with index < fin are before the watermark (fin = wm / p0) */
  private fin = Number.NaN;
  private readonly keysOf: Map<string, KeyPanes>[] = [];
  private readonly longest: number;
  private readonly p0: number;
  /** prefix-sum rows kept per key: reads reach back (longest window + largest pane) */
  private readonly ring: number;
  /** how far back a read reaches from the watermark: the longest window and the largest pane */
  private readonly reach: number;
  /** recent forwarded eventIds, oldest first (Map keeps insertion order) */
  private readonly seen = new Map<string, true>();
  private accepted = 0;
  private duplicates = 0;

  constructor(
    config: Pick<EngineConfig, 'windowsMs' | 'panesMs'> & Partial<EngineConfig>,
    /** forwarded ids remembered for dedup: a failure arrives at most 3 times within one pane */
    private readonly dedupCapacity = 200_000,
  ) {
    this.config = resolveConfig(config);
    this.longest = Math.max(...this.config.windowsMs);
    this.p0 = Math.min(...this.config.panesMs);
    this.reach = this.longest + Math.max(...this.config.panesMs) + this.p0;
    this.ring = Math.ceil(this.reach / this.p0) + 2;
    for (let s = 0; s < 6; s++) this.keysOf.push(new Map());
  }

  get watermark(): number {
    return this.wm;
  }

  private slot(k: number): number {
    const r = k % this.ring;
    return (r < 0 ? r + this.ring : r) * CUM;
  }

  /** Add a pane's counter deltas (one source's partial or fleet tick). */
  add(scope: ScopeIndex, key: string, paneStart: number, c: ArrayLike<number>): void {
    const byKey = this.keysOf[scope]!;
    let kp = byKey.get(key);
    if (paneStart < this.wm - this.reach) return; // no window reaches it: never read
    if (!kp) {
      kp = {
        panes: new Map(),
        cum: new Float64Array(this.ring * CUM),
        below: 0,
        latest: paneStart,
      };
      byKey.set(key, kp);
    }
    let acc = kp.panes.get(paneStart);
    const fresh = !acc;
    if (!acc) kp.panes.set(paneStart, (acc = new Float64Array(METRIC_COUNT)));
    for (let i = 0; i < METRIC_COUNT; i++) acc[i]! += c[i] ?? 0;
    if (paneStart > kp.latest) kp.latest = paneStart;
    if (paneStart < this.wm) {
      // A pane already finalized (the rollup task drops late partials before they get here, so
      // only direct callers take this path): rebuild the key's prefix sums.
      if (fresh) kp.below++;
      this.rebuild(kp);
    }
  }

  /** Prefix sums of one key from its held panes, for the ring ending at fin. */
  private rebuild(kp: KeyPanes): void {
    const cum = kp.cum;
    cum.fill(0);
    const from = this.fin - this.ring + 1;
    // row k = sum of panes with index < k; rows from..fin
    const acc = new Float64Array(CUM);
    for (const [t, c] of kp.panes) {
      const k = Math.floor(t / this.p0);
      if (k < from) {
        for (let i = 0; i < METRIC_COUNT; i++) acc[i]! += c[i]!;
        acc[METRIC_COUNT]!++;
      }
    }
    for (let k = from; k <= this.fin; k++) {
      const at = this.slot(k);
      for (let i = 0; i < CUM; i++) cum[at + i] = acc[i]!;
      const c = kp.panes.get(k * this.p0);
      if (c) {
        for (let i = 0; i < METRIC_COUNT; i++) acc[i]! += c[i]!;
        acc[METRIC_COUNT]!++;
      }
    }
  }

  /**
   * Sum of the panes of [start, end) into out; true when one of them had a partial. Answered
   * from the prefix sums when the range is finalized and within the ring, else by a walk.
   */
  sumInto(scope: ScopeIndex, key: string, start: number, end: number, out: Float64Array): boolean {
    const kp = this.keysOf[scope]!.get(key);
    out.fill(0);
    if (!kp) return false;
    const a = Math.ceil(start / this.p0);
    const b = Math.ceil(end / this.p0);
    if (b <= this.fin && a > this.fin - this.ring && a <= b) {
      const cum = kp.cum;
      const sa = this.slot(a);
      const sb = this.slot(b);
      for (let i = 0; i < METRIC_COUNT; i++) out[i] = cum[sb + i]! - cum[sa + i]!;
      return cum[sb + METRIC_COUNT]! - cum[sa + METRIC_COUNT]! > 0;
    }
    let any = false;
    for (const [t, c] of kp.panes) {
      if (t < start || t >= end) continue;
      any = true;
      for (let i = 0; i < METRIC_COUNT; i++) out[i]! += c[i]!;
    }
    return any;
  }

  /** Did any partial of the key land in a pane of [start, end)? */
  touched(scope: ScopeIndex, key: string, start: number, end: number): boolean {
    const kp = this.keysOf[scope]!.get(key);
    if (!kp) return false;
    const a = Math.ceil(start / this.p0);
    const b = Math.ceil(end / this.p0);
    if (b <= this.fin && a > this.fin - this.ring && a <= b) {
      return kp.cum[this.slot(b) + METRIC_COUNT]! - kp.cum[this.slot(a) + METRIC_COUNT]! > 0;
    }
    for (const t of kp.panes.keys()) if (t >= start && t < end) return true;
    return false;
  }

  ingest(ev: EngineEvent): Outcome {
    if (this.seen.has(ev.eventId)) {
      this.duplicates++;
      return Outcome.Duplicate;
    }
    this.seen.set(ev.eventId, true);
    if (this.seen.size > this.dedupCapacity) {
      for (const k of this.seen.keys()) {
        this.seen.delete(k);
        break;
      }
    }
    this.accepted++;
    return Outcome.Accepted;
  }

  /**
   * Move time to `wm` and drop panes no read reaches any more (older than the longest window,
   * the largest pane and one more): per key and per pane step, one prefix row written and at
   * most one pane dropped.
   */
  advance(watermarkMs: number): void {
    if (!(watermarkMs > this.wm)) return;
    this.wm = watermarkMs;
    // panes with an index below ceil(wm / p0) start before the watermark
    const target = Math.ceil(watermarkMs / this.p0);
    if (Number.isNaN(this.fin)) {
      // First advance: every key's prefix rows up to here come from its panes.
      this.fin = target;
      for (const byKey of this.keysOf) {
        for (const kp of byKey.values()) {
          kp.below = 0;
          for (const t of kp.panes.keys()) if (t < watermarkMs) kp.below++;
          this.rebuild(kp);
        }
      }
      return;
    }
    if (target - this.fin > this.ring) {
      // A jump past the whole ring: nothing old survives; rebuild from the held panes.
      this.fin = target;
      for (const byKey of this.keysOf) {
        for (const [key, kp] of byKey) {
          const horizon = watermarkMs - this.reach;
          kp.below = 0;
          for (const t of [...kp.panes.keys()]) {
            if (t < horizon) kp.panes.delete(t);
            else if (t < watermarkMs) kp.below++;
          }
          if (kp.panes.size === 0) byKey.delete(key);
          else this.rebuild(kp);
        }
      }
      return;
    }
    for (; this.fin < target; this.fin++) {
      const k = this.fin;
      const from = this.slot(k);
      const to = this.slot(k + 1);
      const t = k * this.p0;
      // the pane no read can reach any more (older than wm - reach)
      const dropT = (k + 1) * this.p0 - this.reach - this.p0;
      // (forEach: a `for...of` over the entries allocates an array per entry on this V8, and
      // this walks every key at every pane)
      for (const byKey of this.keysOf) {
        byKey.forEach((kp, key) => {
          const cum = kp.cum;
          const c = kp.panes.get(t);
          if (c) {
            for (let i = 0; i < METRIC_COUNT; i++) cum[to + i] = cum[from + i]! + c[i]!;
            cum[to + METRIC_COUNT] = cum[from + METRIC_COUNT]! + 1;
            kp.below++;
          } else {
            for (let i = 0; i < CUM; i++) cum[to + i] = cum[from + i]!;
          }
          if (kp.panes.delete(dropT)) kp.below--;
          if (kp.panes.size === 0) byKey.delete(key);
        });
      }
    }
  }

  private visible(scope: ScopeIndex, key: string): boolean {
    const kp = this.keysOf[scope]!.get(key);
    // Only panes before the watermark count: sources run ahead of each other, so what has
    // arrived of later panes depends on timing, and the rules must not (a replay, or a second
    // instance, has to reach the same verdicts).
    return kp !== undefined && kp.below > 0;
  }

  read(scope: ScopeIndex, key: string, windowIndex: number, out: Float64Array): boolean {
    if (!this.visible(scope, key)) return false;
    const pane = this.config.panesMs[windowIndex]!;
    const end = Math.floor(this.wm / pane) * pane;
    this.sumInto(scope, key, end - this.config.windowsMs[windowIndex]!, end, out);
    return true;
  }

  /** Card fingerprints stay in the source partitions (card_testing runs there). */
  distinctDeclinedCards(): number {
    return 0;
  }

  keys(scope: ScopeIndex): string[] {
    const out: string[] = [];
    this.keysOf[scope]!.forEach((kp, key) => {
      if (kp.below > 0) out.push(key);
    });
    return out.sort();
  }

  touchedSince(scope: ScopeIndex, sinceMs: number): string[] {
    const out: string[] = [];
    // a pane starting before sinceMs still has contributions after it unless it ended by then
    const p0 = this.p0;
    this.keysOf[scope]!.forEach((kp, key) => {
      if (kp.latest + p0 > sinceMs && kp.below > 0) out.push(key);
    });
    return out.sort();
  }

  lastSeen(scope: ScopeIndex, key: string): number {
    const kp = this.keysOf[scope]!.get(key);
    if (!kp || kp.below <= 0) return Number.NEGATIVE_INFINITY;
    return Math.min(kp.latest + this.p0, this.wm);
  }

  terminalInfo(): undefined {
    return undefined;
  }

  counters(): EngineCounters {
    return {
      accepted: this.accepted,
      duplicates: this.duplicates,
      lateDropped: 0,
      evicted: 0,
      pendingSettlements: 0,
      pendingTimeouts: 0,
    };
  }
}
