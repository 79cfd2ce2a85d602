import { Readable } from 'node:stream';
import {
  TABLES,
  TwClickHouseError,
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
import { PANE_TICK_COLUMNS } from './pane-rows';

/**
 * The processor's writes, into @tillwatch/clickhouse's tables (the gateway reads the same ones):
 * events_raw, pane_counts (through pane_ticks), alerts, dead_letters, rules_memory. Schema and migrations are that package's; the
 * processor runs them at start.
 *
 * Idempotence: every table is a ReplacingMergeTree whose sorting key is the row's identity (an
 * event's id, a pane's scope/key/start, an alert transition, a dead letter's source
 * offset). A replay after a crash writes identical rows under the same identity and merges fold
 * them; exact readers use FINAL. Insert dedup tokens were the other choice: 18.16 has no
 * insert_deduplication_token, block dedup needs Replicated tables (local and CI servers are
 * single-node), and a replay need not cut the same blocks anyway.
 *
 * The two big tables are written as bytes the processor encodes itself: pane rows as RowBinary
 * pane_ticks rows (PaneTickWriter: one wide row per stage and pane, unfolded into pane_counts
 * by ClickHouse), events_raw as TabSeparated (TsvWriter, writeEvent): JSONEachRow objects cost
 * 2.3 us and 530 B per row against ~0.6 us and 150 B. Alerts and dead letters are few: JSONEachRow via the package's
 * row mappers.
 */

/**
 * Encoded rows of one table, as the Buffers a batch wrote them into (ByteRows): they go to the
 * insert as they are.
 */
export interface RowChunks {
  chunks: Buffer[];
  /** rows in the chunks */
  count: number;
}

export interface Rows {
  /** events_raw rows, TabSeparated in the table's column order (writeEvent) */
  events: RowChunks;
  /** pane_ticks rows, RowBinary in PANE_TICK_COLUMNS order (PaneTickWriter): count = wide rows */
  panes: RowChunks;
  /** the pane rows those hold (what pane_counts gets) */
  paneRows: number;
  alerts: Alert[];
  deadLetters: DeadLetterInput[];
  /** the stages' rules memory taken in the batch (hour boundaries): recovery reads it back */
  memories: RulesMemoryRowInput[];
}

export const emptyRows = (): Rows => ({
  events: { chunks: [], count: 0 },
  panes: { chunks: [], count: 0 },
  paneRows: 0,
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
        guard(TABLES.paneTicks, () => binary(TABLES.paneTicks, PANE_TICK_COLUMNS, rows.panes)),
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
