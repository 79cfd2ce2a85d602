import { WINDOW_STATS_COUNTERS } from './window-stats';

/**
 * pane_counts' columns, defined once: migration 8's statements (schema.ts), the processor's
 * writer of pane rows and the readers that build windows from them derive from these lists.
 *
 * A pane row holds one key's counts in one closed 5 s pane (its deltas): the counters the
 * engine keeps, no derived counters and no rates (a reader sums the panes of a window and divides).
 * Migration 8's text must not change once applied; a new column is a new migration.
 */

/** Pane length (ms): the event stage's tick; every window of the processor is a whole number of panes. */
export const PANE_MS = 5_000;

type HeldCounter = (typeof WINDOW_STATS_COUNTERS)[number];
export type PaneCounter = Exclude<HeldCounter[0], 'cat_approved'>;

/**
 * Counters: [column, the core metric index (@tillwatch/core M) it holds]: window_stats' held
 * counters (window-stats.ts, one definition of which metric a column holds) less cat_approved,
 * which is approved again.
 */
export const PANE_COUNTERS = WINDOW_STATS_COUNTERS.filter(
  (c): c is Extract<HeldCounter, readonly [PaneCounter, number]> => c[0] !== 'cat_approved',
);

export const PANE_COUNTER_COLUMNS: readonly PaneCounter[] = PANE_COUNTERS.map(([c]) => c);

/**
 * Every column in table order: where the row sits (scope, key, the pane's start in ms and in
 * s for the day partitions), merchant_id and region (a terminal row's are the terminal's; a
 * merchant row's merchant_id is its key, a region row's region is its key; else empty), the
 * counters, and written_ms (the writer's clock: the
 * ReplacingMergeTree version, and what the gateway's live-rates poll asks for).
 */
export const PANE_COUNTS_COLUMNS: readonly (readonly [column: string, type: string])[] = [
  ['scope', 'String'],
  ['key', 'String'],
  ['pane_ms', 'UInt64'],
  ['ts', "DateTime('UTC')"],
  ['merchant_id', 'String'],
  ['region', 'String'],
  ...PANE_COUNTER_COLUMNS.map((c) => [c, 'UInt32'] as const),
  ['written_ms', 'UInt64'],
];

/**
 * pane_ticks' columns: one wide row per stage and tick, each pane row's column as an array
 * (pane_ms and written_ms once). Its materialized view unfolds them into pane_counts.
 */
export const PANE_TICKS_COLUMNS: readonly (readonly [column: string, type: string])[] = [
  ['pane_ms', 'UInt64'],
  ['written_ms', 'UInt64'],
  ...PANE_COUNTS_COLUMNS.filter(([c]) => c !== 'pane_ms' && c !== 'ts' && c !== 'written_ms').map(
    ([c, t]) => [c, `Array(${t})`] as const,
  ),
];

/** The array columns of pane_ticks, in order: what the view's ARRAY JOIN unfolds. */
export const PANE_TICKS_ARRAYS: readonly string[] = PANE_TICKS_COLUMNS.slice(2).map(([c]) => c);
