import { Readable } from 'node:stream';
import {
  TABLES,
  TwClickHouseError,
  WINDOW_STATS_COLUMNS,
  WINDOW_STATS_COUNTERS,
  alertToRow,
  createClickHouse,
  deadLetterToRow,
  ensureDatabase,
  rulesMemoryToRow,
  ident,
  isRetriableClickHouseError,
  migrate,
  type ClickHouse,
  type DeadLetterInput,
  type RulesMemoryRowInput,
} from '@tillwatch/clickhouse';
import type { Logger } from '@tillwatch/config';
import type { Alert } from '@tillwatch/contracts';

/**
 * The processor's writes, into @tillwatch/clickhouse's tables (the gateway reads the same ones):
 * events_raw, window_stats, alerts, dead_letters, rules_memory. Schema and migrations are that package's; the
 * processor runs them at start.
 *
 * Idempotence: every table is a ReplacingMergeTree whose sorting key is the row's identity (an
 * event's id, a window's scope/window/key/end, an alert transition, a dead letter's source
 * offset). A replay after a crash writes identical rows under the same identity and merges fold
 * them; exact readers use FINAL. Insert dedup tokens were the other choice: 18.16 has no
 * insert_deduplication_token, block dedup needs Replicated tables (local and CI servers are
 * single-node), and a replay need not cut the same blocks anyway.
 *
 * The two big tables are written as bytes the processor encodes itself: window_stats as
 * RowBinary (RowBinaryWriter, writeStat), events_raw as TabSeparated (TsvWriter, writeEvent): ~8 stats rows per event, and JSONEachRow objects cost 2.3 us and 530 B per row
 * against ~0.6 us and 150 B. Alerts and dead letters are few: JSONEachRow via the package's
 * row mappers.
 */

/**
 * window_stats counters the processor writes, and the engine metric (core M index) of each:
 * @tillwatch/clickhouse's WINDOW_STATS_COUNTERS, the table owner's one list. auths and approved
 * first; failures and faults are derived (auths - approved, failures - cardholder) and written
 * between those two and the rest (statLine, writeStat).
 */
export const STAT_COUNTERS: readonly (readonly [column: string, metric: number])[] =
  WINDOW_STATS_COUNTERS;

/**
 * Encoded rows of one table, as the Buffers a batch wrote them into (ByteRows): they go to the
 * insert as they are.
 */
export interface RowChunks {
  chunks: Buffer[];
  /** rows in the chunks */
  count: number;
}

/** window_stats columns in the order writeStat encodes them (RowBinary): the table's order. */
export const STATS_COLUMNS: readonly string[] = WINDOW_STATS_COLUMNS.map(([column]) => column);

export interface Rows {
  /** events_raw rows, TabSeparated in the table's column order (writeEvent) */
  events: RowChunks;
  /** window_stats rows, RowBinary in STATS_COLUMNS order (writeStat) */
  stats: RowChunks;
  alerts: Alert[];
  deadLetters: DeadLetterInput[];
  /** the stages' rules memory taken in the batch (hour boundaries): recovery reads it back */
  memories: RulesMemoryRowInput[];
}

export const emptyRows = (): Rows => ({
  events: { chunks: [], count: 0 },
  stats: { chunks: [], count: 0 },
  alerts: [],
  deadLetters: [],
  memories: [],
});

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
  readonly ch: ClickHouse;
  readonly tables: typeof TABLES;
  migrate(): Promise<void>;
  /** Insert every non-empty set; throws StoreError (retriable when the server is unreachable or busy). */
  write(rows: Rows): Promise<void>;
  close(): Promise<void>;
}

const staleSocket = (e: unknown): boolean => {
  const err = e as { code?: string; message?: string; cause?: unknown } | undefined;
  if (!err) return false;
  if (err.code === 'EPIPE' || err.code === 'ECONNRESET') return true;
  if (/^(write EPIPE|socket hang up|read ECONNRESET)$/.test(err.message ?? '')) return true;
  return err.cause !== undefined && err.cause !== e && staleSocket(err.cause);
};

export function createStore(opts: {
  url: string;
  /** overrides the URL's database */
  database?: string;
  logger?: Logger;
  requestTimeoutMs?: number;
}): Store {
  const chOpts = {
    url: opts.url,
    ...(opts.database ? { database: opts.database } : {}),
    requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
    ...(opts.logger ? { logger: opts.logger } : {}),
  };
  const ch = createClickHouse(chOpts);
  const text = async (table: string, rows: RowChunks) => {
    if (!rows.count) return;
    await ch.client.insert({
      table,
      values: Readable.from(rows.chunks, { objectMode: false }),
      format: 'TabSeparated',
    });
  };
  // RowBinary is not among the client's insert formats: an INSERT statement with the rows as
  // its body (exec with values), the response read to the end so the socket goes back to the pool.
  const binary = async (table: string, columns: readonly string[], rows: RowChunks) => {
    if (!rows.count) return;
    const r = await ch.client.exec({
      query: `INSERT INTO ${ident(table).text} (${columns.map((c) => ident(c).text).join(', ')}) FORMAT RowBinary`,
      values: Readable.from(rows.chunks, { objectMode: false }),
    });
    for await (const _ of r.stream) void _;
  };
  const guard = async (table: string, fn: () => Promise<void>) => {
    try {
      try {
        await fn();
      } catch (e) {
        // A pooled socket the server closed (keep_alive_timeout 3 s) while a busy event loop
        // held it past the client's 2 s TTL: the request never reached the server. Seen ~10
        // times in a 40k-event e2e run once inserts ran four at a time; redo it at once on a
        // fresh socket instead of backing off 200 ms.
        if (!staleSocket(e)) throw e;
        await fn();
      }
    } catch (e) {
      const retriable =
        e instanceof TwClickHouseError ? e.retriable : isRetriableClickHouseError(e);
      throw new StoreError(
        `ClickHouse insert into ${table} failed: ${(e as Error).message}`,
        retriable,
        {
          cause: e,
        },
      );
    }
  };
  return {
    ch,
    tables: TABLES,
    async migrate() {
      if (ch.database !== 'default') await ensureDatabase(chOpts, ch.database);
      const r = await migrate(ch);
      if (r.applied.length)
        opts.logger?.info({ applied: r.applied }, 'ClickHouse migrations applied');
    },
    async write(rows) {
      // The four tables at once: an insert is mostly round trip and part creation on the server,
      // which overlap. Each set is idempotent, so a retry redoes all of them; every insert is
      // settled before an error is thrown, so a retry never races an insert still in flight.
      const results = await Promise.allSettled([
        guard(TABLES.events, () => text(TABLES.events, rows.events)),
        guard(TABLES.rates, () => binary(TABLES.rates, STATS_COLUMNS, rows.stats)),
        guard(TABLES.alerts, () =>
          ch.insert(
            TABLES.alerts,
            rows.alerts.map((a) => alertToRow(a)),
          ),
        ),
        guard(TABLES.deadLetters, () =>
          ch.insert(
            TABLES.deadLetters,
            rows.deadLetters.map((d) => deadLetterToRow(d)),
          ),
        ),
        guard(TABLES.rulesMemory, () =>
          ch.insert(
            TABLES.rulesMemory,
            rows.memories.map((m) => rulesMemoryToRow(m)),
          ),
        ),
      ]);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    close: () => ch.close(),
  };
}
