import type { RegionAuthCount, RegionAuthsQuery } from './store';

/**
 * Region auths per bucket from the region rows the processor writes to window_stats, exactly.
 *
 * What a row holds (packages/stream/src/rollup-stage.ts, `close`): at a boundary b that is a
 * multiple of window w's pane, a region gets a row for w when a partial of that region landed
 * in w's last pane [b - pane, b); the row holds the sum over [b - w, b). With C(t) the region's
 * auths before t, a row says C(b) - C(b - w) = auths. The shortest window (1m) has panes of the
 * smallest pane p0 (5 s), so its rows also say which p0 panes had anything at all: a p0 pane
 * without a 1m row at its end had no partial, so C(end) = C(end - p0).
 *
 * No single window gives a 5-minute bucket at any whole minute: the 5m row at a bucket's end is
 * missing when nothing happened in its last 10 s, and a window read alone cannot be cut into
 * panes. Together the facts are a system of differences between C at p0 boundaries; a weighted
 * union-find over the boundaries of [start - lookback, start + span] tells, per bucket, whether
 * C(end) - C(start) follows from them, and its value. A busy region has the 5m row at every
 * bucket end; a quiet one has mostly empty panes, and its 1m rows are its panes. What follows
 * from nothing here (a region busy up to a bucket end's last 10 s in a way no row pins down, or
 * rows that contradict each other) is reported unresolved, never guessed: the caller counts
 * those from events_raw.
 */
export interface RegionWindowRow {
  region: string;
  windowMs: number;
  /** the window's end (ms), a multiple of its pane */
  end: number;
  auths: number;
}

export interface RegionWindowsOptions {
  /** the smallest pane: the shortest window's pane (5 s) */
  paneMs: number;
  /** the shortest window (1m), whose rows mark the panes that had a partial */
  shortestMs: number;
  /** how far before each range the rows are read (the longest window, 1 h) */
  lookbackMs: number;
}

export interface RegionWindowsResult {
  counts: RegionAuthCount[];
  /** ranges (region, start) whose buckets the rows do not determine */
  unresolved: { region: string; start: number }[];
}

/** Rows needed for a range starting at `start`: window ends in [start - lookback, start + span]. */
export function rowRange(
  start: number,
  q: Pick<RegionAuthsQuery, 'spanMs'>,
  o: RegionWindowsOptions,
): { from: number; to: number } {
  return { from: start - o.lookbackMs, to: start + q.spanMs };
}

export function regionAuthsFromWindows(
  rows: readonly RegionWindowRow[],
  q: RegionAuthsQuery,
  o: RegionWindowsOptions,
): RegionWindowsResult {
  const p0 = o.paneMs;
  if (q.bucketMs % p0 !== 0 || q.spanMs % q.bucketMs !== 0) {
    throw new Error('region windows: buckets are whole panes and divide the span');
  }
  const byRegion = new Map<string, RegionWindowRow[]>();
  for (const r of rows) {
    let list = byRegion.get(r.region);
    if (!list) byRegion.set(r.region, (list = []));
    list.push(r);
  }
  const counts: RegionAuthCount[] = [];
  const unresolved: RegionWindowsResult['unresolved'] = [];
  const buckets = q.spanMs / q.bucketMs;
  for (const start of q.starts) {
    if (start % p0 !== 0) throw new Error('region windows: range starts are whole panes');
    const { from, to } = rowRange(start, q, o);
    const n = (to - from) / p0 + 1;
    for (const [region, all] of byRegion) {
      const mine = all.filter((r) => r.end >= from && r.end <= to);
      // a region with auths in the range has a partial there, so a 1m row inside it
      if (!mine.some((r) => r.windowMs === o.shortestMs && r.end > start)) continue;
      const uf = new DiffUnionFind(n);
      const at = (t: number) => (t - from) / p0;
      const touched = new Uint8Array(n);
      for (const r of mine) if (r.windowMs === o.shortestMs) touched[at(r.end)] = 1;
      // a pane without a partial adds nothing: equal on both sides
      for (let i = 1; i < n; i++) if (!touched[i]) uf.union(i, i - 1, 0);
      let consistent = true;
      for (const r of mine) {
        if (r.end - r.windowMs < from || r.end % p0 !== 0) continue;
        if (!uf.union(at(r.end), at(r.end - r.windowMs), r.auths)) consistent = false;
      }
      const found: RegionAuthCount[] = [];
      let determined = consistent;
      for (let k = 0; k < buckets && determined; k++) {
        const a = at(start + k * q.bucketMs);
        const b = at(start + (k + 1) * q.bucketMs);
        const d = uf.diff(b, a);
        if (d === undefined) determined = false;
        else if (d !== 0) found.push({ region, start, bucket: k, auths: d });
      }
      if (determined) counts.push(...found);
      else unresolved.push({ region, start });
    }
  }
  return { counts, unresolved };
}

/**
 * Union-find over values known only by their differences: union(x, y, d) records
 * C(x) - C(y) = d; diff(x, y) is C(x) - C(y) when the records imply it, else undefined.
 * Counts are integers, so sums are exact.
 */
export class DiffUnionFind {
  private readonly parent: Int32Array;
  /** C(x) - C(parent[x]) */
  private readonly up: Float64Array;

  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
    this.up = new Float64Array(n);
  }

  /** root of x, and C(x) - C(root) */
  private find(x: number): [root: number, offset: number] {
    let r = x;
    let off = 0;
    while (this.parent[r] !== r) {
      off += this.up[r]!;
      r = this.parent[r]!;
    }
    // compress: every node on the path points at the root with its offset to it
    let y = x;
    let rest = off;
    while (this.parent[y] !== r && y !== r) {
      const next = this.parent[y]!;
      const step = this.up[y]!;
      this.parent[y] = r;
      this.up[y] = rest;
      rest -= step;
      y = next;
    }
    return [r, off];
  }

  /** Record C(x) - C(y) = d; false when it contradicts what was recorded before. */
  union(x: number, y: number, d: number): boolean {
    const [rx, ox] = this.find(x);
    const [ry, oy] = this.find(y);
    if (rx === ry) return ox - oy === d;
    // C(rx) - C(ry) = (C(x) - ox) - (C(y) - oy) = d - ox + oy
    this.parent[rx] = ry;
    this.up[rx] = d - ox + oy;
    return true;
  }

  diff(x: number, y: number): number | undefined {
    const [rx, ox] = this.find(x);
    const [ry, oy] = this.find(y);
    return rx === ry ? ox - oy : undefined;
  }
}
