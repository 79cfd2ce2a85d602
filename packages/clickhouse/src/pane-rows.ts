import { deriveRates, newDerivedRates, parseWindowLabel, type RateRow } from '@tillwatch/contracts';
import { toClickHouseDateTime } from './migrate';
import { PANE_COUNTER_COLUMNS, PANE_MS, type PaneCounter } from './pane-counts';
import { rowToRate, type RateTableRow } from './rows';

/**
 * Pane rows as JSONEachRow carries them, and the one way a window's summed panes become a
 * RateRow: the readers of pane_counts (queries-rates.ts, the gateway) all go through
 * paneSumsToRate, so a RateRow built from panes has the fields, the field order and the derived
 * rates a window_stats row had (rowToRate, deriveRates).
 */

/** A value per counter column of pane_counts. */
export type PaneCounts = Record<PaneCounter, number>;

export function zeroPaneCounts(): PaneCounts {
  return Object.fromEntries(PANE_COUNTER_COLUMNS.map((c) => [c, 0])) as PaneCounts;
}

/** One key's counts in one closed 5 s pane, as a writer hands them over. */
export interface PaneInput {
  scope: RateRow['scope'];
  key: string;
  /** the pane's start (ms), a multiple of PANE_MS */
  paneMs: number;
  /** a terminal's merchant, a merchant's own id; '' or absent where the scope mixes merchants */
  merchantId?: string;
  /** a terminal's or merchant's region, a region's own name */
  region?: string;
  /** counters left out are 0 */
  counts: Partial<PaneCounts>;
  /** the writer's clock (ms): the row's version and what the live-rates poll asks for */
  writtenMs: number;
}

export type PaneRow = {
  scope: string;
  key: string;
  pane_ms: number;
  ts: string;
  merchant_id: string;
  region: string;
  written_ms: number;
} & PaneCounts;

export function paneToRow(p: PaneInput): PaneRow {
  if (p.paneMs % PANE_MS !== 0) throw new Error(`pane ${p.paneMs}: not a pane start`);
  const row: Record<string, unknown> = {
    scope: p.scope,
    key: p.key,
    pane_ms: p.paneMs,
    ts: toClickHouseDateTime(p.paneMs),
    merchant_id: p.merchantId ?? '',
    region: p.region ?? '',
  };
  for (const c of PANE_COUNTER_COLUMNS) row[c] = p.counts[c] ?? 0;
  row['written_ms'] = p.writtenMs;
  return row as PaneRow;
}

/** A window's panes summed: what a reader has for one key and window before it is a RateRow. */
export interface PaneSums {
  scope: RateRow['scope'];
  key: string;
  window: string;
  /** the window's end (ms): the panes summed start in [end - window, end) */
  end: number;
  merchantId: string;
  region: string;
  sums: PaneCounts;
}

const derived = newDerivedRates();

export function paneSumsToRate(p: PaneSums): RateRow {
  const s = p.sums;
  const d = deriveRates(
    s.auths,
    s.approved,
    s.cat_cardholder,
    s.reversals,
    s.settlement_due,
    s.unsettled,
    derived,
  );
  // as the window_stats row the processor wrote for the same window: rowToRate keeps one field
  // order and one column-to-field mapping for both
  const row = {
    scope: p.scope,
    key: p.key,
    window: p.window,
    ts: '',
    ts_ms: p.end,
    merchant_id: p.merchantId,
    region: p.region,
    ...s,
    cat_approved: s.approved,
    failures: d.failures,
    faults: d.faults,
    failure_rate: d.failureRate,
    fault_rate: d.faultRate,
    reversal_rate: d.reversalRate,
    no_settlement_rate: d.noSettlementRate,
    volume_ratio: null,
    version: 0,
  } satisfies RateTableRow;
  return rowToRate(row);
}

/**
 * A window label's length when the panes can make it (whole panes, at most `maxMs`); undefined
 * for any other label (a reader answers nothing for it, as window_stats had no rows for it).
 */
export function paneWindowMs(label: string, maxMs = 86_400_000): number | undefined {
  let ms: number;
  try {
    ms = parseWindowLabel(label);
  } catch {
    return undefined;
  }
  return ms > 0 && ms % PANE_MS === 0 && ms <= maxMs ? ms : undefined;
}
