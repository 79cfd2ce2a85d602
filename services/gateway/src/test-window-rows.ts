import { PANE_MS, type PaneCounts, type PaneInput } from '@tillwatch/clickhouse';
import { categorize, type TerminalEvent } from '@tillwatch/contracts';
import type { RegionAuthCount, RegionAuthsQuery } from './store';

/**
 * Tests only: the region pane rows the processor writes to pane_counts for a set of events,
 * computed the plain way: per region and 5 s pane that had an event, one row with the pane's
 * counts (auths, approved and the failure categories of its auths, its heartbeats); a pane
 * without events has no row. written_ms is the writer's clock at the write.
 */
export const P0 = PANE_MS;

export function regionPanes(events: readonly TerminalEvent[], writtenMs = Date.now()): PaneInput[] {
  const panes = new Map<string, PaneInput & { counts: Partial<PaneCounts> }>();
  for (const e of events) {
    const paneMs = Math.floor(e.ts / P0) * P0;
    const k = `${e.region}\u0000${paneMs}`;
    let p = panes.get(k);
    if (!p) {
      p = { scope: 'region', key: e.region, region: e.region, paneMs, counts: {}, writtenMs };
      panes.set(k, p);
    }
    const c = p.counts;
    const add = (col: keyof PaneCounts) => (c[col] = (c[col] ?? 0) + 1);
    if (e.type === 'auth') {
      add('auths');
      const cat = categorize(e.responseCode);
      add(cat === 'approved' ? 'approved' : (`cat_${cat}` as keyof PaneCounts));
    } else if (e.type === 'heartbeat') add('heartbeats');
  }
  return [...panes.values()];
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
