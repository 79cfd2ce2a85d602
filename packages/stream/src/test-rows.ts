import { WINDOW_STATS_COUNTERS } from '@tillwatch/clickhouse';
import { M } from '@tillwatch/core';
import type { StatRow } from './types';

/**
 * Counters of a stats row in window_stats' column order after auths, approved, failures and
 * faults: the core metrics of @tillwatch/clickhouse's WINDOW_STATS_COUNTERS from cat_approved on
 * (the processor's STAT_COUNTERS). Tests of the stages compare rows as text lines of these
 * figures, as the processor's statLine writes them. The table's package is a devDependency
 * only: this helper is test code, and the stream itself does no I/O.
 */
export const ROW_COUNTERS: readonly number[] = WINDOW_STATS_COUNTERS.slice(2).map(
  ([, metric]) => metric,
);

/** scope, key, window, end (s), end (ms), merchant, region, auths, approved, failures, faults, counters */
export function rowText(
  ...[scope, key, label, end, m, merchantId = '', region = '']: StatRow
): string {
  const auths = m[M.auths]!;
  const failures = auths - m[M.approved]!;
  const faults = failures - m[M.cardholder]!;
  const cols = [scope, key, label, Math.floor(end / 1000), end, merchantId, region];
  cols.push(auths, m[M.approved]!, failures, faults, ...ROW_COUNTERS.map((i) => m[i]!));
  return cols.join('\t') + '\n';
}
