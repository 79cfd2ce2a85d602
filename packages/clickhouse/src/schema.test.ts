import { describe, expect, it } from 'vitest';
import { MIGRATIONS, TABLES } from './schema';

/**
 * window_stats as migration 1 creates it, spelled out. The statement is generated from
 * window-stats.ts' column list, but migration 1 may have run on a deployment and is never run
 * again there: its text must stay exactly this, whatever the shared list becomes.
 */
const MIGRATION_1_WINDOW_STATS = `CREATE TABLE IF NOT EXISTS window_stats (
        scope String,
        key String,
        window String,
        ts DateTime('UTC'),
        ts_ms UInt64,
        merchant_id String,
        region String,
        auths UInt32,
        approved UInt32,
        failures UInt32,
        faults UInt32,
        cat_approved UInt32,
        cat_cardholder UInt32,
        cat_issuer UInt32,
        cat_terminal UInt32,
        cat_security UInt32,
        cat_timeout UInt32,
        cat_other UInt32,
        input_errors UInt32,
        reversals UInt32,
        unreversed_timeouts UInt32,
        settlement_due UInt32,
        unsettled UInt32,
        heartbeats UInt32,
        failure_rate Float64,
        fault_rate Float64,
        reversal_rate Float64,
        no_settlement_rate Float64,
        volume_ratio Nullable(Float64),
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (scope, window, key, ts_ms)`;

describe('migration 1', () => {
  it('creates window_stats with exactly its original statement', () => {
    const statement = MIGRATIONS.find((m) => m.id === 1)!.statements.find((s) =>
      s.startsWith(`CREATE TABLE IF NOT EXISTS ${TABLES.rates} (`),
    );
    expect(statement).toBe(MIGRATION_1_WINDOW_STATS);
  });
});

/**
 * Migration 8 as it ran on 18.16, spelled out for the same reason: its statements are generated
 * from pane-counts.ts' lists, and what a deployment ran must not change under it.
 */
const MIGRATION_8 = [
  `CREATE TABLE IF NOT EXISTS pane_counts (
        scope String,
        key String,
        pane_ms UInt64,
        ts DateTime('UTC'),
        merchant_id String,
        region String,
        auths UInt32,
        approved UInt32,
        cat_cardholder UInt32,
        cat_issuer UInt32,
        cat_terminal UInt32,
        cat_security UInt32,
        cat_timeout UInt32,
        cat_other UInt32,
        input_errors UInt32,
        reversals UInt32,
        unreversed_timeouts UInt32,
        settlement_due UInt32,
        unsettled UInt32,
        heartbeats UInt32,
        written_ms UInt64
      ) ENGINE = ReplacingMergeTree(written_ms)
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (scope, key, pane_ms)`,
  `CREATE TABLE IF NOT EXISTS pane_ticks (
        pane_ms UInt64,
        written_ms UInt64,
        scope Array(String),
        key Array(String),
        merchant_id Array(String),
        region Array(String),
        auths Array(UInt32),
        approved Array(UInt32),
        cat_cardholder Array(UInt32),
        cat_issuer Array(UInt32),
        cat_terminal Array(UInt32),
        cat_security Array(UInt32),
        cat_timeout Array(UInt32),
        cat_other Array(UInt32),
        input_errors Array(UInt32),
        reversals Array(UInt32),
        unreversed_timeouts Array(UInt32),
        settlement_due Array(UInt32),
        unsettled Array(UInt32),
        heartbeats Array(UInt32)
      ) ENGINE = Null`,
  `CREATE MATERIALIZED VIEW IF NOT EXISTS pane_ticks_mv TO pane_counts AS
      SELECT scope, key, pane_ms, toDateTime(intDiv(pane_ms, 1000)) AS ts, merchant_id, region, auths, approved, cat_cardholder, cat_issuer, cat_terminal, cat_security, cat_timeout, cat_other, input_errors, reversals, unreversed_timeouts, settlement_due, unsettled, heartbeats, written_ms
      FROM pane_ticks ARRAY JOIN scope, key, merchant_id, region, auths, approved, cat_cardholder, cat_issuer, cat_terminal, cat_security, cat_timeout, cat_other, input_errors, reversals, unreversed_timeouts, settlement_due, unsettled, heartbeats`,
];

describe('migration 8', () => {
  it('creates pane_counts, pane_ticks and the view between them with exactly their statements', () => {
    expect(MIGRATIONS.find((m) => m.id === 8)!.statements).toEqual(MIGRATION_8);
  });
});
