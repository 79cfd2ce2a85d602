/**
 * window_stats' columns, defined once. Migration 1's CREATE TABLE (schema.ts), the row mappers
 * (rows.ts: rateToRow, rowToRate, RATE_COLUMNS) and the processor's RowBinary writer
 * (STAT_COUNTERS, STATS_COLUMNS) all derive from these lists, so a counter cannot be in one and
 * missing, misplaced or holding another metric in the next.
 *
 * Migration 1 may already have run on a deployment: its text must not change. schema.test.ts
 * holds the generated statement to the literal it was written as; a new column is a new
 * migration (ALTER TABLE ... ADD COLUMN), not an edit here that would rewrite migration 1.
 */

/**
 * Counters the processor copies from one engine metric each, in table order: [column, the core
 * metric index (@tillwatch/core M) it holds]. Numbers rather than an import of M: this package
 * does not depend on the engine; the processor's tests hold the indices to M's names.
 * auths and approved come first: the derived counters are stored right after them.
 */
export const WINDOW_STATS_COUNTERS = [
  ['auths', 0],
  ['approved', 1],
  ['cat_approved', 1],
  ['cat_cardholder', 2],
  ['cat_issuer', 3],
  ['cat_terminal', 4],
  ['cat_security', 5],
  ['cat_timeout', 6],
  ['cat_other', 7],
  ['input_errors', 8],
  ['reversals', 9],
  ['unreversed_timeouts', 16],
  ['settlement_due', 17],
  ['unsettled', 18],
  ['heartbeats', 19],
] as const satisfies readonly (readonly [column: string, metric: number])[];

/**
 * Counters derived from the others (failures = auths - approved, faults = failures -
 * cat_cardholder), stored between approved and cat_approved.
 */
export const WINDOW_STATS_DERIVED_COUNTERS = ['failures', 'faults'] as const;

/** Rates (Float64), after the counters: failures, faults, reversals per auth; unsettled per due. */
export const WINDOW_STATS_RATES = [
  'failure_rate',
  'fault_rate',
  'reversal_rate',
  'no_settlement_rate',
] as const;

/** Where the row sits: scope, key, window, its end (s and ms), and the key's merchant/region. */
export const WINDOW_STATS_KEY_COLUMNS = [
  ['scope', 'String'],
  ['key', 'String'],
  ['window', 'String'],
  ['ts', "DateTime('UTC')"],
  ['ts_ms', 'UInt64'],
  ['merchant_id', 'String'],
  ['region', 'String'],
] as const;

export type WindowStatsCounter =
  (typeof WINDOW_STATS_COUNTERS)[number][0] | (typeof WINDOW_STATS_DERIVED_COUNTERS)[number];
export type WindowStatsRate = (typeof WINDOW_STATS_RATES)[number];

const [AUTHS, APPROVED, ...CATEGORY_AND_LATER] = WINDOW_STATS_COUNTERS;

/** Every counter column (UInt32) in table order: held and derived. */
export const WINDOW_STATS_COUNTER_COLUMNS: readonly WindowStatsCounter[] = [
  AUTHS[0],
  APPROVED[0],
  ...WINDOW_STATS_DERIVED_COUNTERS,
  ...CATEGORY_AND_LATER.map(([column]) => column),
];

/**
 * All of window_stats' columns with their types, in table order: key columns, counters, rates,
 * volume_ratio (Nullable: the scope's volume baseline is not always known), version (the
 * ReplacingMergeTree version).
 */
export const WINDOW_STATS_COLUMNS: readonly (readonly [column: string, type: string])[] = [
  ...WINDOW_STATS_KEY_COLUMNS,
  ...WINDOW_STATS_COUNTER_COLUMNS.map((c) => [c, 'UInt32'] as const),
  ...WINDOW_STATS_RATES.map((c) => [c, 'Float64'] as const),
  ['volume_ratio', 'Nullable(Float64)'],
  ['version', 'UInt64'],
];
