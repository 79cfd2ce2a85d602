import type { ClickHouse } from './client';
import { localTable } from './layout';
import { TABLES } from './schema';
import { ident, sql } from './sql';

/**
 * Tables with day partitions (YYYYMMDD): retention applies to these. Subscriptions and silences
 * are state, not history, and have no partitions. The webhook deliveries and attempts are
 * partitioned by the day of their epoch-ms createdAt / startedAt; keep them at least 8 days
 * (the store reads pending work that far back: a 7-day log plus the ~28 h retry schedule).
 */
export const DAY_PARTITIONED_TABLES = [
  TABLES.events,
  TABLES.rates,
  TABLES.panes,
  TABLES.alerts,
  TABLES.alertActions,
  TABLES.deadLetters,
  TABLES.webhookDeliveries,
  TABLES.webhookAttempts,
  TABLES.rulesMemory,
] as const;

/** YYYYMMDD of the UTC day `days` before `nowMs`: partitions below it are older than `days`. */
export function cutoffPartition(days: number, nowMs: number): number {
  const d = new Date(nowMs - days * 86_400_000);
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

/**
 * Drop whole day partitions older than `days` (no TTL clause: 18.16 has no table TTL and a
 * drop is instant and frees disk at once, where TTL rewrites parts). Returns the dropped
 * partition ids, e.g. ["20260101"].
 */
export async function dropPartitionsOlderThan(
  ch: ClickHouse,
  table: string,
  days: number,
  nowMs = Date.now(),
): Promise<string[]> {
  if (!Number.isInteger(days) || days < 0)
    throw new Error(`retention days must be a whole number >= 0, got ${days}`);
  const cutoff = cutoffPartition(days, nowMs);
  // in a cluster the day partitions are the replicated table's (a drop on one replica is
  // replicated to the others; the Distributed table holds none)
  table = localTable(table, ch.cluster);
  const parts = await ch.query<{ partition: string }>(
    sql`SELECT DISTINCT partition FROM system.parts
        WHERE database = currentDatabase() AND table = ${table} AND active
        ORDER BY partition`,
  );
  const dropped: string[] = [];
  for (const { partition } of parts) {
    // Only YYYYMMDD partitions: a table partitioned some other way is left alone.
    if (!/^\d{8}$/.test(partition) || Number(partition) >= cutoff) continue;
    await ch.command(sql`ALTER TABLE ${ident(table)} DROP PARTITION ${Number(partition)}`);
    dropped.push(partition);
  }
  return dropped;
}

/** One application of a policy: the partitions dropped per table, and the tables that failed. */
export interface RetentionPass {
  dropped: Partial<Record<(typeof DAY_PARTITIONED_TABLES)[number], string[]>>;
  failed: Partial<Record<(typeof DAY_PARTITIONED_TABLES)[number], Error>>;
}

/**
 * Apply a retention policy, e.g. { events_raw: 7, window_stats: 30 }. Each table is its own
 * step: one that fails (server down, a merge holding the partition) is reported in `failed`
 * and the others still run, so one stuck table cannot keep the rest from shrinking.
 */
export async function applyRetention(
  ch: ClickHouse,
  policy: Partial<Record<(typeof DAY_PARTITIONED_TABLES)[number], number>>,
  nowMs = Date.now(),
  /** checked between tables: true ends the pass early (a schedule being stopped) */
  stopped: () => boolean = () => false,
): Promise<RetentionPass> {
  const out: RetentionPass = { dropped: {}, failed: {} };
  for (const [table, days] of Object.entries(policy) as [
    (typeof DAY_PARTITIONED_TABLES)[number],
    number | undefined,
  ][]) {
    if (days === undefined || stopped()) continue;
    try {
      out.dropped[table] = await dropPartitionsOlderThan(ch, table, days, nowMs);
    } catch (e) {
      out.failed[table] = e instanceof Error ? e : new Error(String(e));
    }
  }
  return out;
}
