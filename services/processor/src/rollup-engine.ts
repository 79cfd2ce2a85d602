import {
  FLEET_KEY,
  METRIC_COUNT,
  Outcome,
  SCOPE,
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
 * cross-partition rules run on exactly the figures the rollup writes to window_stats.
 *
 * It holds region, firmware and issuer keys (routed to this partition by key) and the fleet
 * (every source sends its fleet pane to every rollup partition with its tick). Terminal and
 * merchant windows live in the source partitions: read() answers false for them.
 *
 * ingest() does not count (counts come from partials): it takes the failures and presence
 * records the sources forward for the rules' tracker, and only deduplicates them by eventId (a
 * failure reaches this partition once per key it concerns, e.g. its region and its issuer).
 */
export class MergedWindows implements WindowEngine {
  readonly config: EngineConfig;
  private wm = Number.NEGATIVE_INFINITY;
  /** scope -> key -> pane start -> counts */
  private readonly panes: Map<string, Map<number, Float64Array>>[] = [];
  private readonly latest: Map<string, number>[] = [];
  /** earliest pane start per key: a key is visible once it has a pane before the watermark */
  private readonly first: Map<string, number>[] = [];
  private readonly longest: number;
  private readonly p0: number;
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
    for (let s = 0; s < 6; s++) {
      this.panes.push(new Map());
      this.latest.push(new Map());
      this.first.push(new Map());
    }
  }

  get watermark(): number {
    return this.wm;
  }

  /** Add a pane's counter deltas (one source's partial or fleet tick). */
  add(scope: ScopeIndex, key: string, paneStart: number, c: ArrayLike<number>): void {
    const byKey = this.panes[scope]!;
    let byPane = byKey.get(key);
    if (!byPane) byKey.set(key, (byPane = new Map()));
    let acc = byPane.get(paneStart);
    if (!acc) byPane.set(paneStart, (acc = new Float64Array(METRIC_COUNT)));
    for (let i = 0; i < METRIC_COUNT; i++) acc[i]! += c[i] ?? 0;
    const last = this.latest[scope]!;
    if (!(paneStart <= (last.get(key) ?? Number.NEGATIVE_INFINITY))) last.set(key, paneStart);
    const first = this.first[scope]!;
    if (!(paneStart >= (first.get(key) ?? Number.POSITIVE_INFINITY))) first.set(key, paneStart);
  }

  /**
   * Only panes before the watermark count: sources run ahead of each other, so what has
   * arrived of later panes depends on timing, and the rules must not (a replay, or a second
   * instance, has to reach the same verdicts).
   */
  private visible(scope: ScopeIndex, key: string): boolean {
    const t = this.first[scope]!.get(key);
    return t !== undefined && t < this.wm;
  }

  /** Pane starts of a key (for the rollup's stats rows). */
  panesOf(scope: ScopeIndex, key: string): ReadonlyMap<number, Float64Array> | undefined {
    return this.panes[scope]!.get(key);
  }

  /** Sum of the panes of [start, end) into out. */
  sumInto(scope: ScopeIndex, key: string, start: number, end: number, out: Float64Array): boolean {
    const byPane = this.panes[scope]!.get(key);
    out.fill(0);
    if (!byPane) return false;
    let any = false;
    for (const [t, c] of byPane) {
      if (t < start || t >= end) continue;
      any = true;
      for (let i = 0; i < METRIC_COUNT; i++) out[i]! += c[i]!;
    }
    return any;
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

  /** Move time to `wm` (a closed boundary) and drop panes older than the longest window. */
  advance(watermarkMs: number): void {
    if (!(watermarkMs > this.wm)) return;
    this.wm = watermarkMs;
    const horizon = watermarkMs - this.longest - this.p0;
    for (let s = 0; s < this.panes.length; s++) {
      const byKey = this.panes[s]!;
      for (const [key, byPane] of byKey) {
        if ((this.first[s]!.get(key) ?? horizon) >= horizon) continue;
        let first = Number.POSITIVE_INFINITY;
        for (const t of byPane.keys()) {
          if (t < horizon) byPane.delete(t);
          else if (t < first) first = t;
        }
        if (byPane.size === 0) {
          byKey.delete(key);
          this.latest[s]!.delete(key);
          this.first[s]!.delete(key);
        } else this.first[s]!.set(key, first);
      }
    }
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
    for (const key of this.panes[scope]!.keys()) if (this.visible(scope, key)) out.push(key);
    return out.sort();
  }

  touchedSince(scope: ScopeIndex, sinceMs: number): string[] {
    const out: string[] = [];
    // a pane starting before sinceMs still has contributions after it unless it ended by then
    for (const [key, t] of this.latest[scope]!) {
      if (t + this.p0 > sinceMs && this.visible(scope, key)) out.push(key);
    }
    return out.sort();
  }

  lastSeen(scope: ScopeIndex, key: string): number {
    const t = this.latest[scope]!.get(key);
    if (t === undefined || !this.visible(scope, key)) return Number.NEGATIVE_INFINITY;
    return Math.min(t + this.p0, this.wm);
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

export const FLEET = { scope: SCOPE.fleet, key: FLEET_KEY } as const;
