import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { Readable } from 'node:stream';
import type { Logger } from '@tillwatch/config';

/**
 * The processor's ClickHouse tables and their writer.
 *
 * Idempotence: every table is a ReplacingMergeTree whose sorting key is a deterministic identity
 * of the row (an event's id, a window's scope/key/window/end, an alert transition, a dead
 * letter's source offset). A replay after a crash writes byte-identical rows under the same key
 * and merges fold them; readers that need exact figures use FINAL. Insert dedup tokens were the
 * other choice: ClickHouse 18.16 has no insert_deduplication_token and block dedup only works on
 * Replicated tables (the local and CI servers are single-node), and a replayed batch need not be
 * cut into the same blocks anyway, so only a row identity survives every path.
 *
 * SQL stays within what 18.16 understands (DESIGN.md): no TTL, no LowCardinality, no DateTime64,
 * no query parameters. Only table names (validated prefix) are spliced into SQL; values travel
 * as JSONEachRow bodies.
 */

export interface TableNames {
  events: string;
  stats: string;
  alerts: string;
  deadLetters: string;
  migrations: string;
}

export function tableNames(prefix: string): TableNames {
  return {
    events: `${prefix}events`,
    stats: `${prefix}window_stats`,
    alerts: `${prefix}alerts`,
    deadLetters: `${prefix}dead_letters`,
    migrations: `${prefix}processor_migrations`,
  };
}

/** Counter columns of a window-stats row, in engine metric order (core M). */
export const STAT_COLUMNS = [
  'auths',
  'approved',
  'cardholder',
  'issuer',
  'terminal',
  'security',
  'timeout',
  'other',
  'input_errors',
  'reversals',
  'reversals_failed',
  'rev_timeout',
  'rev_customer_cancel',
  'rev_terminal_error',
  'rev_host_error',
  'rev_other',
  'unreversed_timeouts',
  'settlement_due',
  'unsettled',
  'heartbeats',
  'small_auths',
  'small_declines',
] as const;

/** Versioned migrations, applied in order at start; each runs once (recorded in the table). */
export function migrations(t: TableNames): { version: number; sql: string }[] {
  return [
    {
      version: 1,
      // Drill-down: one row per accepted event, the bytes as they arrived in `raw`. Partitioned by
      // day so retention is ALTER TABLE ... DROP PARTITION (no TTL on 18.16).
      sql: `CREATE TABLE IF NOT EXISTS ${t.events} (
        event_id String, ts DateTime, ts_ms UInt64, type String,
        terminal_id String, merchant_id String, region String,
        txn_id String, response_code String, amount UInt64, status String,
        topic String, partition UInt32, offset UInt64, raw String
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (merchant_id, terminal_id, ts, event_id)`,
    },
    {
      version: 2,
      sql: `CREATE TABLE IF NOT EXISTS ${t.stats} (
        scope String, key String, window String, ts DateTime,
        merchant_id String, region String,
        ${STAT_COLUMNS.map((c) => `${c} UInt32`).join(', ')},
        failure_rate Float64, fault_rate Float64, reversal_rate Float64, no_settlement_rate Float64
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (scope, key, window, ts)`,
    },
    {
      version: 3,
      // One row per alert transition (firing, material update, resolve); the full JSON in body.
      sql: `CREATE TABLE IF NOT EXISTS ${t.alerts} (
        alert_id String, status String, ts DateTime, ts_ms UInt64,
        rule String, severity String, scope String, key String,
        merchant_id String, region String, window String,
        value Float64, threshold Float64, first_seen DateTime, body String
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMM(ts)
      ORDER BY (alert_id, ts_ms, status)`,
    },
    {
      version: 4,
      // Raw bytes as base64: a dead letter may be binary junk that no JSON string can hold.
      sql: `CREATE TABLE IF NOT EXISTS ${t.deadLetters} (
        topic String, partition UInt32, offset UInt64, received_at DateTime,
        reason String, raw_base64 String, raw_size UInt32
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMM(received_at)
      ORDER BY (topic, partition, offset)`,
    },
  ];
}

export interface AlertRow {
  alert_id: string;
  status: string;
  ts: number;
  ts_ms: number;
  rule: string;
  severity: string;
  scope: string;
  key: string;
  merchant_id: string;
  region: string;
  window: string;
  value: number;
  threshold: number;
  first_seen: number;
  body: string;
}

export interface DeadLetterRow {
  topic: string;
  partition: number;
  offset: string;
  received_at: number;
  reason: string;
  raw_base64: string;
  raw_size: number;
}

export interface Rows {
  /** TabSeparated lines in the events table's column order (see eventLine) */
  events: string[];
  /** TabSeparated lines in the stats table's column order (see statLine in tasks.ts) */
  stats: string[];
  alerts: AlertRow[];
  deadLetters: DeadLetterRow[];
}

export const emptyRows = (): Rows => ({ events: [], stats: [], alerts: [], deadLetters: [] });

export class StoreError extends Error {
  readonly code = 'TW_CH_INSERT';
  constructor(
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export interface Store {
  readonly tables: TableNames;
  readonly client: ClickHouseClient;
  migrate(): Promise<void>;
  /** Insert every non-empty set; throws StoreError (retriable when the server is unreachable). */
  write(rows: Rows): Promise<void>;
  close(): Promise<void>;
}

/** Connection failures and server overload are worth retrying; a schema or data error is not. */
function retriable(e: unknown): boolean {
  const err = e as { code?: string; message?: string; type?: string };
  const msg = String(err?.message ?? '');
  if (
    err?.code &&
    /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|UND_ERR)/.test(err.code)
  )
    return true;
  // ClickHouse codes: 159 timeout, 202 too many simultaneous queries, 209/210 socket, 252 too
  // many parts (merges behind), 242 readonly replica.
  if (err?.code && ['159', '202', '209', '210', '252', '242'].includes(String(err.code)))
    return true;
  return /socket hang up|ECONNREFUSED|ECONNRESET|timeout|Timeout|other side closed|fetch failed/.test(
    msg,
  );
}

export function createStore(opts: {
  url: string;
  user?: string;
  password?: string;
  database?: string;
  prefix: string;
  logger?: Logger;
  requestTimeoutMs?: number;
}): Store {
  const client = createClient({
    url: opts.url,
    username: opts.user ?? 'default',
    password: opts.password ?? '',
    database: opts.database ?? 'default',
    request_timeout: opts.requestTimeoutMs ?? 30_000,
    // A failed request is retried by our backoff, never by the client behind our back.
    keep_alive: { enabled: true },
  });
  const tables = tableNames(opts.prefix);
  const insert = async (table: string, values: readonly object[] | readonly string[]) => {
    if (!values.length) return;
    try {
      if (typeof values[0] === 'string') {
        const body = Buffer.from((values as string[]).join(''));
        await client.insert({
          table,
          values: Readable.from([body], { objectMode: false }),
          format: 'TabSeparated',
        });
      } else await client.insert({ table, values: values as object[], format: 'JSONEachRow' });
    } catch (e) {
      throw new StoreError(
        `ClickHouse insert into ${table} failed: ${(e as Error).message}`,
        retriable(e),
        { cause: e },
      );
    }
  };
  return {
    tables,
    client,
    async migrate() {
      await client.command({
        query: `CREATE TABLE IF NOT EXISTS ${tables.migrations} (version UInt32, applied_at DateTime) ENGINE = MergeTree() ORDER BY version`,
      });
      const done = new Set(
        (
          await (
            await client.query({
              query: `SELECT version FROM ${tables.migrations}`,
              format: 'JSONEachRow',
            })
          ).json<{ version: number }>()
        ).map((r) => Number(r.version)),
      );
      for (const m of migrations(tables)) {
        if (done.has(m.version)) continue;
        await client.command({ query: m.sql });
        await client.insert({
          table: tables.migrations,
          values: [{ version: m.version, applied_at: Math.floor(Date.now() / 1000) }],
          format: 'JSONEachRow',
        });
        opts.logger?.info({ version: m.version }, 'ClickHouse migration applied');
      }
    },
    async write(rows) {
      // Sequential: four concurrent inserts buy little on a 2-core server and make a partial
      // failure harder to reason about. Every set is idempotent, so a retry redoes all of them.
      await insert(tables.events, rows.events);
      await insert(tables.stats, rows.stats);
      await insert(tables.alerts, rows.alerts);
      await insert(tables.deadLetters, rows.deadLetters);
    },
    close: () => client.close(),
  };
}
