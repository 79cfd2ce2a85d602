import type { ClickHouse } from './client';
import { clusterStatements, migrationsTableStatements, type ClusterTarget } from './layout';
import { MIGRATIONS, TABLES, type Migration } from './schema';
import { ident, raw, sql } from './sql';

export interface MigrateResult {
  applied: number[];
  alreadyApplied: number[];
}

/**
 * Apply the migrations not yet recorded, in id order. Run at every start; the second run does
 * nothing. Two instances starting together may both run a migration: its statements are
 * idempotent and the bookkeeping table is a ReplacingMergeTree read with FINAL.
 */
export async function migrate(
  ch: ClickHouse,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrateResult> {
  const ids = migrations.map((m) => m.id);
  if (new Set(ids).size !== ids.length || ids.some((id, i) => i > 0 && id <= ids[i - 1]!)) {
    throw new Error('migration ids must be unique and ascending');
  }
  // one description, two layouts: as written (one server) or replicated + Distributed (layout.ts)
  const target: ClusterTarget | undefined = ch.cluster
    ? { cluster: ch.cluster, database: ch.database }
    : undefined;
  for (const s of migrationsTableStatements(target)) await ch.command(raw(s));
  const done = new Set(
    (
      await ch.query<{ id: number }>(
        sql`SELECT id FROM ${ident(TABLES.migrations)} FINAL ORDER BY id`,
      )
    ).map((r) => Number(r.id)),
  );
  const applied: number[] = [];
  for (const m of migrations) {
    if (done.has(m.id)) continue;
    for (const statement of m.statements) {
      for (const s of target ? clusterStatements(statement, target) : [statement])
        await runIdempotent(ch, s);
    }
    await ch.insert(TABLES.migrations, [
      { id: m.id, name: m.name, applied_at: toClickHouseDateTime(Date.now()) },
    ]);
    applied.push(m.id);
  }
  return { applied, alreadyApplied: ids.filter((id) => done.has(id)) };
}

const ADD_COLUMN = /^\s*ALTER\s+TABLE\s+\S+\s+(ON\s+CLUSTER\s+\S+\s+)?ADD\s+COLUMN\s/i;

/**
 * 18.16 has no ADD COLUMN IF NOT EXISTS. A migration interrupted after its ALTER but before
 * its bookkeeping row runs the ALTER again and meets code 44 (ILLEGAL_COLUMN, "column with
 * this name already exists"): the column is there, which is what the statement wanted.
 */
async function runIdempotent(ch: ClickHouse, statement: string): Promise<void> {
  try {
    await ch.command(raw(statement));
  } catch (e) {
    if (ADD_COLUMN.test(statement) && isColumnExists(e)) return;
    throw e;
  }
}

function isColumnExists(e: unknown): boolean {
  for (let c: unknown = e; c && typeof c === 'object'; c = (c as { cause?: unknown }).cause) {
    const x = c as { code?: unknown; message?: unknown };
    if (
      x.code === '44' ||
      /Code: 44\b|column with this name already exists/.test(String(x.message))
    )
      return true;
    if ((c as { cause?: unknown }).cause === c) break;
  }
  return false;
}

/** 'YYYY-MM-DD hh:mm:ss' in UTC, as DateTime('UTC') columns read it in JSON rows. */
export function toClickHouseDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
