import { M } from '@tillwatch/core';
import type { StatRow } from './types';

/**
 * Counters of a stats row in window_stats' column order after auths, approved, failures and
 * faults (the processor's STAT_COUNTERS from cat_approved on): tests of the stages compare
 * rows as text lines of these figures, as the processor's statLine writes them.
 */
export const ROW_COUNTERS: readonly number[] = [
  M.approved,
  M.cardholder,
  M.approved + 2,
  M.approved + 3,
  M.approved + 4,
  M.approved + 5,
  M.approved + 6,
  M.inputErrors,
  M.reversals,
  M.unreversedTimeouts,
  M.settlementDue,
  M.unsettled,
  M.heartbeats,
];

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
