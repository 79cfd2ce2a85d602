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
