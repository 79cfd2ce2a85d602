import type { EngineConfig, ScopeName } from '@tillwatch/core';

/** Scopes whose windows are complete in one events partition (pos.events is keyed by merchant). */
export const PARTITION_LOCAL_SCOPES: readonly ScopeName[] = ['terminal', 'merchant'];
/** Scopes that span partitions: merged in the rollup stage from every source's partials. */
export const ROLLUP_SCOPE_NAMES: readonly ScopeName[] = ['region', 'firmware', 'issuer'];

export interface StreamWindows {
  /** the stats windows, then one window of one smallest pane (the partials' source) */
  windowsMs: number[];
  panesMs: number[];
  /** how many leading windows get stats rows */
  statsWindows: number;
  /** index of the one-pane window */
  paneWindow: number;
  /** the smallest pane: the step of the tick schedule */
  p0: number;
}

/**
 * The event stage's engine windows: the stats windows plus one window of one smallest pane p0,
 * whose read at a boundary is exactly the pane's counter delta (what a partial carries).
 */
export function streamWindows(base: Pick<EngineConfig, 'windowsMs' | 'panesMs'>): StreamWindows {
  const p0 = Math.min(...base.panesMs);
  for (const p of base.panesMs) {
    if (p % p0 !== 0)
      throw new Error(`pane ${p} ms is not a multiple of the smallest pane ${p0} ms`);
  }
  return {
    windowsMs: [...base.windowsMs, p0],
    panesMs: [...base.panesMs, p0],
    statsWindows: base.windowsMs.length,
    paneWindow: base.windowsMs.length,
    p0,
  };
}
