import type { TerminalEvent } from '@tillwatch/contracts';
import type { RegionWindowRow } from './region-windows';
import type { RegionAuthCount, RegionAuthsQuery } from './store';

/**
 * Tests only: the region rows the processor's rollup stage writes to window_stats for a set of
 * events (packages/stream/src/rollup-stage.ts `close`, default engine windows), computed the
 * plain way. Every event is a partial of its region's 5 s pane (heartbeats too: they count
 * heartbeats, not auths); at each boundary b of window w's pane grid, a row for w when a partial
 * landed in [b - pane, b), holding the auths of [b - w, b).
 */
export const REGION_WINDOWS: readonly (readonly [windowMs: number, paneMs: number])[] = [
  [60_000, 5_000],
  [300_000, 10_000],
  [900_000, 30_000],
  [3_600_000, 120_000],
];
export const P0 = 5_000;

export function regionWindowRows(events: readonly TerminalEvent[]): RegionWindowRow[] {
  /** region -> p0 pane start -> auths */
  const panes = new Map<string, Map<number, number>>();
  for (const e of events) {
    const pane = Math.floor(e.ts / P0) * P0;
    let m = panes.get(e.region);
    if (!m) panes.set(e.region, (m = new Map()));
    m.set(pane, (m.get(pane) ?? 0) + (e.type === 'auth' ? 1 : 0));
  }
  const out: RegionWindowRow[] = [];
  for (const [region, m] of panes) {
    for (const [windowMs, paneMs] of REGION_WINDOWS) {
      const ends = new Set<number>();
      for (const t of m.keys()) ends.add(Math.floor(t / paneMs) * paneMs + paneMs);
      for (const end of ends) {
        let auths = 0;
        for (const [t, n] of m) if (t >= end - windowMs && t < end) auths += n;
        out.push({ region, windowMs, end, auths });
      }
    }
  }
  return out;
}

/** What events_raw gives for these events: auths per region, range and bucket, 0s left out. */
export function countedAuths(
  events: readonly TerminalEvent[],
  q: RegionAuthsQuery,
): RegionAuthCount[] {
  const m = new Map<string, RegionAuthCount>();
  for (const e of events) {
    if (e.type !== 'auth') continue;
    for (const start of q.starts) {
      if (e.ts < start || e.ts >= start + q.spanMs) continue;
      const bucket = Math.floor((e.ts - start) / q.bucketMs);
      const k = `${e.region}|${start}|${bucket}`;
      const c = m.get(k) ?? { region: e.region, start, bucket, auths: 0 };
      c.auths++;
      m.set(k, c);
    }
  }
  return [...m.values()].sort(
    (a, b) => a.region.localeCompare(b.region) || a.start - b.start || a.bucket - b.bucket,
  );
}

/** A seeded generator in [0, 1) (an LCG): every run draws the same events. */
export function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}
