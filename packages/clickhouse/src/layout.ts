import { MIGRATIONS_TABLE_DDL, RETIRED_TABLES, TABLES } from './schema';

/**
 * Two layouts from one description (schema.ts's migrations):
 *
 * - **single server**: the statements as written — each table a ReplacingMergeTree.
 * - **cluster** (`?cluster=<name>` in CLICKHOUSE_URL, a cluster of the servers' remote_servers):
 *   each table becomes `<table>_local`, a Replicated* of the same engine on every server of
 *   the cluster (ZooKeeper path `/clickhouse/tables/{shard}/<database>/<table>`, replica
 *   `{replica}`: the servers' macros), under a `Distributed` table of the table's own name,
 *   sharded by the key below. Readers and writers keep using the table's name.
 *
 * Sharding keys are a function of each table's identity (its ORDER BY): every version of a
 * row lands on one shard, so FINAL — which runs on each shard — still collapses them; the
 * events are sharded by merchant (a terminal's rows stay together). Idempotence across
 * replicas: a Replicated table drops an inserted block identical to a recent one (the
 * retried batch), and ReplacingMergeTree with FINAL collapses rows re-batched otherwise.
 */
const SHARD_KEYS: Record<string, string> = {
  [TABLES.migrations]: 'id',
  [TABLES.events]: 'sipHash64(merchant_id)',
  [TABLES.rates]: 'sipHash64(key)',
  [TABLES.panes]: 'sipHash64(key)',
  [TABLES.alerts]: 'sipHash64(alert_id)',
  [TABLES.alertActions]: 'sipHash64(alert_id)',
  [TABLES.deadLetters]: 'source_partition',
  [TABLES.silences]: 'sipHash64(silence_id)',
  [TABLES.rulesMemory]: 'partition',
  [TABLES.apiKeys]: 'sipHash64(id)',
  [TABLES.webhookSubscriptions]: 'sipHash64(id)',
  [TABLES.webhookDeliveries]: 'sipHash64(id)',
  [TABLES.webhookAttempts]: 'sipHash64(deliveryId)',
  [RETIRED_TABLES.webhookSubscriptionsV1]: 'sipHash64(merchant_id)',
  [RETIRED_TABLES.webhookDeliveriesV1]: 'sipHash64(subscription_id)',
};

/** The table that holds a table's rows on each server: itself, or `<table>_local` in a cluster. */
export function localTable(table: string, cluster: string | undefined): string {
  return cluster ? `${table}_local` : table;
}

export interface ClusterTarget {
  cluster: string;
  database: string;
}

const CREATE =
  /^\s*CREATE TABLE IF NOT EXISTS (\w+) \(([\s\S]*)\)\s*ENGINE = (\w*MergeTree)\(([^)]*)\)([\s\S]*)$/;
const ADD_COLUMN = /^\s*ALTER TABLE (\w+) (ADD COLUMN [\s\S]*)$/;
const CREATE_NULL = /^\s*CREATE TABLE IF NOT EXISTS (\w+) \(([\s\S]*)\)\s*ENGINE = Null\s*$/;
const CREATE_VIEW =
  /^\s*CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS([\s\S]*?)\bFROM (\w+)([\s\S]*)$/;

function distributed(table: string, { cluster, database }: ClusterTarget): string[] {
  const key = SHARD_KEYS[table];
  if (!key) throw new Error(`no sharding key for table ${table} (layout.ts SHARD_KEYS)`);
  return [
    `CREATE TABLE IF NOT EXISTS ${database}.${table} ON CLUSTER ${cluster} AS ${database}.${table}_local ` +
      `ENGINE = Distributed(${cluster}, ${database}, ${table}_local, ${key})`,
  ];
}

/**
 * One statement of a migration in the cluster layout (ON CLUSTER: every server runs it through
 * the distributed DDL queue). A column added: to the replicated tables, and the Distributed
 * table made again over them (18.16 refuses ALTER ... ON CLUSTER on a Distributed table whose
 * shards are replicated; it holds no data).
 */
export function clusterStatements(statement: string, target: ClusterTarget): string[] {
  const { cluster, database } = target;
  const c = CREATE.exec(statement);
  if (c) {
    const [, table, body, engine, args, rest] = c as unknown as string[];
    const zkPath = `'/clickhouse/tables/{shard}/${database}/${table}'`;
    const params = [zkPath, `'{replica}'`, ...(args!.trim() ? [args!.trim()] : [])].join(', ');
    return [
      `CREATE TABLE IF NOT EXISTS ${database}.${table}_local ON CLUSTER ${cluster} (${body}) ` +
        `ENGINE = Replicated${engine}(${params})${rest}`,
      ...distributed(table!, target),
    ];
  }
  // A Null table keeps nothing: the same on every server, written on whichever the client
  // reached; its view there writes into the Distributed table, which shards the rows.
  const n = CREATE_NULL.exec(statement);
  if (n) {
    const [, table, body] = n as unknown as string[];
    return [
      `CREATE TABLE IF NOT EXISTS ${database}.${table} ON CLUSTER ${cluster} (${body}) ENGINE = Null`,
    ];
  }
  const v = CREATE_VIEW.exec(statement);
  if (v) {
    const [, view, to, select, from, rest] = v as unknown as string[];
    return [
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.${view} ON CLUSTER ${cluster} ` +
        `TO ${database}.${to} AS${select}FROM ${database}.${from}${rest}`,
    ];
  }
  const a = ADD_COLUMN.exec(statement);
  if (a) {
    const [, table, change] = a as unknown as string[];
    return [
      `ALTER TABLE ${database}.${table}_local ON CLUSTER ${cluster} ${change}`,
      `DROP TABLE IF EXISTS ${database}.${table} ON CLUSTER ${cluster}`,
      ...distributed(table!, target),
    ];
  }
  throw new Error(`no cluster layout for the statement: ${statement.slice(0, 120)}`);
}

/** The bookkeeping table's DDL in a layout. */
export function migrationsTableStatements(target: ClusterTarget | undefined): string[] {
  return target ? clusterStatements(MIGRATIONS_TABLE_DDL, target) : [MIGRATIONS_TABLE_DDL];
}
