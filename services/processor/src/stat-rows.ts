import { deriveRates, newDerivedRates, type DerivedRates } from '@tillwatch/contracts';
import { M, type ScopeName } from '@tillwatch/core';
import { STAT_COUNTERS } from './store';
import { tsvEscape, type RowBinaryWriter } from './tsv';

/** One reused result: a row's figures are read right after derive() and before the next row. */
const derived = newDerivedRates();

/** The row's failures, faults and rates (the contract's deriveRates), into the reused object. */
function derive(m: Float64Array): DerivedRates {
  return deriveRates(
    m[M.auths]!,
    m[M.approved]!,
    m[M.cardholder]!,
    m[M.reversals]!,
    m[M.settlementDue]!,
    m[M.unsettled]!,
    derived,
  );
}

/**
 * A window-stats row from engine counters (the same figures as Monitor.rates), as one
 * TabSeparated line in window_stats' column order (@tillwatch/clickhouse schema): scope, key,
 * window, ts, ts_ms, merchant_id, region, counters, rates, volume_ratio (\\N: the processor
 * keeps no volume baseline), version (0: a replay writes the same row, not a newer one).
 * The readable reference of writeStat (what the processor sends, as RowBinary): tests compare
 * rows as these lines, and tsv.test.ts holds the two to the same figures.
 */
export function statLine(
  scope: ScopeName,
  key: string,
  windowLabelText: string,
  end: number,
  m: Float64Array,
  merchantId = '',
  region = '',
): string {
  const auths = m[M.auths]!;
  const d = derive(m);
  let line = `${scope}\t${tsvEscape(key)}\t${windowLabelText}\t${Math.floor(end / 1000)}\t${end}\t${tsvEscape(merchantId)}\t${tsvEscape(region)}`;
  line += `\t${auths}\t${m[M.approved]!}\t${d.failures}\t${d.faults}`;
  for (let i = 2; i < STAT_COUNTERS.length; i++) line += `\t${m[STAT_COUNTERS[i]![1]]!}`;
  line += `\t${d.failureRate}\t${d.faultRate}\t${d.reversalRate}\t${d.noSettlementRate}\t\\N\t0\n`;
  return line;
}

/**
 * statLine's row as RowBinary in STATS_COLUMNS order (the figures of statLine, as fixed-width
 * values: tsv.test.ts decodes one and holds it to the other).
 */
export function writeStat(
  w: RowBinaryWriter,
  scope: ScopeName,
  key: string,
  windowLabelText: string,
  end: number,
  m: Float64Array,
  merchantId = '',
  region = '',
): void {
  const d = derive(m);
  w.str(scope)
    .str(key)
    .str(windowLabelText)
    .u32(Math.floor(end / 1000))
    .u64(end);
  w.str(merchantId).str(region);
  w.u32(m[M.auths]!).u32(m[M.approved]!).u32(d.failures).u32(d.faults);
  for (let i = 2; i < STAT_COUNTERS.length; i++) w.u32(m[STAT_COUNTERS[i]![1]]!);
  w.f64(d.failureRate);
  w.f64(d.faultRate);
  w.f64(d.reversalRate);
  w.f64(d.noSettlementRate);
  w.nullableF64(null).u64(0).end();
}
