import { M, type ScopeName } from '@tillwatch/core';
import { STAT_COUNTERS } from './store';
import { tsvEscape, type RowBinaryWriter } from './tsv';

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
  const failures = auths - m[M.approved]!;
  const faults = failures - m[M.cardholder]!;
  let line = `${scope}\t${tsvEscape(key)}\t${windowLabelText}\t${Math.floor(end / 1000)}\t${end}\t${tsvEscape(merchantId)}\t${tsvEscape(region)}`;
  line += `\t${auths}\t${m[M.approved]!}\t${failures}\t${faults}`;
  for (let i = 2; i < STAT_COUNTERS.length; i++) line += `\t${m[STAT_COUNTERS[i]![1]]!}`;
  line += `\t${auths > 0 ? failures / auths : 0}\t${auths > 0 ? faults / auths : 0}\t${auths > 0 ? m[M.reversals]! / auths : 0}\t${m[M.settlementDue]! > 0 ? m[M.unsettled]! / m[M.settlementDue]! : 0}\t\\N\t0\n`;
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
  const auths = m[M.auths]!;
  const failures = auths - m[M.approved]!;
  const faults = failures - m[M.cardholder]!;
  w.str(scope)
    .str(key)
    .str(windowLabelText)
    .u32(Math.floor(end / 1000))
    .u64(end);
  w.str(merchantId).str(region);
  w.u32(auths).u32(m[M.approved]!).u32(failures).u32(faults);
  for (let i = 2; i < STAT_COUNTERS.length; i++) w.u32(m[STAT_COUNTERS[i]![1]]!);
  w.f64(auths > 0 ? failures / auths : 0);
  w.f64(auths > 0 ? faults / auths : 0);
  w.f64(auths > 0 ? m[M.reversals]! / auths : 0);
  w.f64(m[M.settlementDue]! > 0 ? m[M.unsettled]! / m[M.settlementDue]! : 0);
  w.nullableF64(null).u64(0).end();
}
