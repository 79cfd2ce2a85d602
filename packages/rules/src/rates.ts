import {
  CATEGORIES,
  deriveRates,
  newDerivedRates,
  windowLabel,
  type Category,
  type RateRow,
} from '@tillwatch/contracts';
import { M, METRIC_COUNT, SCOPE, type ScopeName, type WindowEngine } from '@tillwatch/core';
import type { BaselineStore } from './baseline';
import { durationMs } from './rules';
import type { Tracker } from './tracker';

export interface RatesOptions {
  /** for terminal and merchant: how many rows (worst first); default 20 */
  top?: number;
  /** minimum auths in the window for a row to be ranked; default 20 for terminal/merchant */
  minAuths?: number;
  sortBy?: 'faultRate' | 'failureRate' | 'reversalRate' | 'noSettlementRate' | 'auths';
  /** only these keys */
  keys?: readonly string[];
}

/** What Monitor.rates reads: the engine's windows, where terminals sit, the volume baselines. */
export interface RatesSource {
  engine: WindowEngine;
  tracker: Tracker;
  baselines: Record<ScopeName, BaselineStore>;
  /** the baselines' window (baseline.updateEvery): their sums are per this much time */
  baselineEvery: string;
}

/**
 * One row per key of a scope over one engine window (Monitor.rates): counters, rates, where the
 * key sits and its volume against its baseline. Terminals and merchants are ranked (worst
 * first, a minimum volume, the top few); other scopes come sorted by key unless `top` is given.
 */
export function rateRows(
  src: RatesSource,
  scope: ScopeName,
  window: string | number,
  opts: RatesOptions = {},
): RateRow[] {
  const { engine, tracker, baselines } = src;
  const ms = typeof window === 'number' ? window : durationMs(window);
  const w = engine.config.windowsMs.indexOf(ms);
  if (w < 0) {
    throw Object.assign(
      new Error(
        `window ${windowLabel(ms)} is not kept by the engine (${engine.config.windowsMs.map(windowLabel).join(', ')})`,
      ),
      { code: 'TW_BAD_WINDOW', retriable: false },
    );
  }
  const ranked = scope === 'terminal' || scope === 'merchant';
  const top = opts.top ?? (ranked ? 20 : Number.POSITIVE_INFINITY);
  const minAuths = opts.minAuths ?? (ranked ? 20 : 0);
  const sortBy = opts.sortBy ?? 'faultRate';
  const keys = opts.keys ? [...opts.keys] : engine.keys(SCOPE[scope]);
  const pane = engine.config.panesMs[w]!;
  const end = Math.floor(engine.watermark / pane) * pane;
  if (!Number.isFinite(end)) return [];
  const ts = new Date(end).toISOString();
  const m = new Float64Array(METRIC_COUNT);
  const rows: RateRow[] = [];
  const d = newDerivedRates();
  const per = durationMs(src.baselineEvery);
  for (const key of keys) {
    if (!engine.read(SCOPE[scope], key, w, m)) continue;
    const auths = m[M.auths]!;
    if (auths < minAuths) continue;
    const byCategory = {} as Record<Category, number>;
    CATEGORIES.forEach((c, i) => (byCategory[c] = m[M.approved + i]!));
    deriveRates(
      auths,
      m[M.approved]!,
      m[M.cardholder]!,
      m[M.reversals]!,
      m[M.settlementDue]!,
      m[M.unsettled]!,
      d,
    );
    const row: RateRow = {
      scope,
      key,
      window: windowLabel(ms),
      ts,
      auths,
      approved: m[M.approved]!,
      failures: d.failures,
      faults: d.faults,
      byCategory,
      inputErrors: m[M.inputErrors]!,
      reversals: m[M.reversals]!,
      unreversedTimeouts: m[M.unreversedTimeouts]!,
      settlementDue: m[M.settlementDue]!,
      unsettled: m[M.unsettled]!,
      heartbeats: m[M.heartbeats]!,
      failureRate: d.failureRate,
      faultRate: d.faultRate,
      reversalRate: d.reversalRate,
      noSettlementRate: d.noSettlementRate,
    };
    if (scope === 'terminal') {
      const t = tracker.terminals.get(key) ?? engine.terminalInfo(key);
      if (t) {
        row.merchantId = t.merchantId;
        row.region = t.region;
      }
    } else if (scope === 'merchant') {
      const ids = tracker.byMerchant.get(key);
      const first = ids ? [...ids][0] : undefined;
      const region = first !== undefined ? tracker.terminals.get(first)?.region : undefined;
      if (region !== undefined) row.region = region;
    }
    const b = baselines[scope].get(key);
    if (b && b.weight >= 1) {
      const perWindow = (b.sums[M.auths]! / b.weight) * (ms / per);
      if (perWindow > 0) row.volumeRatio = auths / perWindow;
    }
    rows.push(row);
  }
  if (!ranked && opts.top === undefined) return rows.sort((a, b) => (a.key < b.key ? -1 : 1));
  rows.sort(
    (a, b) =>
      (b[sortBy] as number) - (a[sortBy] as number) ||
      b.auths - a.auths ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return rows.slice(0, top);
}
