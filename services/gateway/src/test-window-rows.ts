import type { TerminalEvent } from '@tillwatch/contracts';
import type { RegionWindowRow } from './region-windows';

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
