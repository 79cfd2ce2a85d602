import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '@tillwatch/config';
import type { ClickHouse } from './client';
import { TwClickHouseError, isRetriableClickHouseError } from './errors';

/** ok; backlog = more rows waiting than highWaterRows; failing = ClickHouse refuses, retrying. */
export type PressureState = 'ok' | 'backlog' | 'failing';

export interface BatchWriterOptions<T> {
  /** for logs, e.g. the table name */
  name: string;
  /** write one chunk; must be idempotent (it is retried, and a timed-out try may have landed) */
  insert: (rows: T[]) => Promise<void>;
  /**
   * Flush at this many rows. ClickHouse wants few large inserts (each makes a part, merged
   * later; ~1 insert/s per table is its comfort zone); 5000 rows of ~300 B is ~1.5 MB.
   */
  maxRows?: number;
  /** Flush this long after the first row of a chunk arrived: bounds the latency of durability. */
  maxDelayMs?: number;
  /** pressure 'backlog' above this many rows waiting (buffered + queued), 'ok' below half */
  highWaterRows?: number;
  minRetryMs?: number;
  maxRetryMs?: number;
  isRetriable?: (err: unknown) => boolean;
  logger?: Logger;
}

interface Chunk<T> {
  rows: T[];
  resolve: () => void;
  reject: (e: unknown) => void;
  promise: Promise<void>;
}

function chunk<T>(): Chunk<T> {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A chunk nobody awaits must not crash the process with an unhandled rejection.
  promise.catch(() => {});
  return { rows: [], resolve, reject, promise };
}

/**
 * Buffers rows and writes them in chunks, one insert at a time, in order. add() returns a
 * promise that resolves when those rows are durable (their insert succeeded): the processor
 * commits Kafka offsets after it. When ClickHouse is down, the chunk at the head is retried
 * with exponential backoff and jitter (capped at maxRetryMs) for as long as it takes; the
 * state turns 'failing' so the caller can pause its consumer rather than buffer without bound.
 * A non-retriable error (a bad row, a missing table) rejects that chunk's promise only.
 */
export class BatchWriter<T> {
  private readonly maxRows: number;
  private readonly maxDelayMs: number;
  private readonly highWater: number;
  private current: Chunk<T> = chunk();
  private readonly queue: Chunk<T>[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pumping = false;
  private failing = false;
  private backlog = false;
  private queuedRows = 0;
  private readonly listeners = new Set<(s: PressureState) => void>();
  private lastState: PressureState = 'ok';
  private closed = false;

  constructor(private readonly opts: BatchWriterOptions<T>) {
    this.maxRows = Math.max(1, opts.maxRows ?? 5000);
    this.maxDelayMs = Math.max(0, opts.maxDelayMs ?? 200);
    this.highWater = Math.max(this.maxRows, opts.highWaterRows ?? 100_000);
  }

  /** Rows waiting: buffered plus queued or being inserted. */
  get pending(): number {
    return this.current.rows.length + this.queuedRows;
  }

  get state(): PressureState {
    return this.failing ? 'failing' : this.backlog ? 'backlog' : 'ok';
  }

  /** Called on every state change; returns its unsubscribe. */
  onPressure(listener: (s: PressureState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Buffer rows; resolves when all of them are durable. */
  add(rows: readonly T[]): Promise<void> {
    if (this.closed)
      return Promise.reject(
        new TwClickHouseError('TW_CH_CLOSED', `writer ${this.opts.name} is closed`, false),
      );
    if (!rows.length) return Promise.resolve();
    const waits: Promise<void>[] = [];
    let i = 0;
    while (i < rows.length) {
      const room = this.maxRows - this.current.rows.length;
      const take = rows.slice(i, i + room);
      this.current.rows.push(...take);
      i += take.length;
      waits.push(this.current.promise);
      if (this.current.rows.length >= this.maxRows) this.cut();
      else this.arm();
    }
    this.updatePressure();
    return waits.length === 1 ? waits[0]! : Promise.all(waits).then(() => undefined);
  }

  /** Write what is buffered now; resolves when everything added so far is durable. */
  async flush(): Promise<void> {
    if (this.current.rows.length) this.cut();
    await Promise.all(this.queue.map((c) => c.promise));
  }

  /** Flush and refuse further rows. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private arm() {
    if (this.timer || !this.current.rows.length) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.current.rows.length) this.cut();
    }, this.maxDelayMs);
  }

  private cut() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const c = this.current;
    this.current = chunk();
    this.queue.push(c);
    this.queuedRows += c.rows.length;
    void this.pump();
  }

  private async pump() {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length) {
        const c = this.queue[0]!;
        try {
          await this.insertWithRetry(c.rows);
          c.resolve();
        } catch (e) {
          const err =
            e instanceof TwClickHouseError
              ? e
              : new TwClickHouseError(
                  'TW_CH_INSERT',
                  `insert into ${this.opts.name} failed: ${String(e)}`,
                  false,
                  { cause: e },
                );
          this.opts.logger?.error(
            { err, rows: c.rows.length, writer: this.opts.name },
            'rows rejected, not retriable',
          );
          c.reject(err);
        }
        this.queue.shift();
        this.queuedRows -= c.rows.length;
        this.updatePressure();
      }
    } finally {
      this.pumping = false;
    }
  }

  private insertWithRetry(rows: T[]): Promise<void> {
    const retriable = this.opts.isRetriable ?? isRetriableClickHouseError;
    return pRetry(
      async () => {
        try {
          await this.opts.insert(rows);
        } catch (e) {
          if (!retriable(e)) throw new AbortError(e instanceof Error ? e : new Error(String(e)));
          throw e;
        }
        if (this.failing) {
          this.failing = false;
          this.opts.logger?.info({ writer: this.opts.name }, 'ClickHouse writes recovered');
          this.updatePressure();
        }
      },
      {
        retries: Infinity,
        minTimeout: this.opts.minRetryMs ?? 200,
        maxTimeout: this.opts.maxRetryMs ?? 5000,
        factor: 2,
        randomize: true,
        onFailedAttempt: ({ error, attemptNumber }) => {
          if (!this.failing) {
            this.failing = true;
            this.updatePressure();
          }
          this.opts.logger?.warn(
            { err: error, attempt: attemptNumber, rows: rows.length, writer: this.opts.name },
            'ClickHouse insert failed, retrying',
          );
        },
      },
    );
  }

  private updatePressure() {
    const pending = this.pending;
    if (!this.backlog && pending > this.highWater) this.backlog = true;
    else if (this.backlog && pending <= this.highWater / 2) this.backlog = false;
    const s = this.state;
    if (s !== this.lastState) {
      this.lastState = s;
      for (const l of this.listeners) l(s);
    }
  }
}

/** A BatchWriter for one table: domain objects mapped to rows, inserted as JSONEachRow. */
export function tableWriter<T>(
  ch: ClickHouse,
  table: string,
  toRow: (value: T) => object,
  opts: Omit<BatchWriterOptions<T>, 'insert' | 'name'> = {},
): BatchWriter<T> {
  return new BatchWriter<T>({
    ...opts,
    name: table,
    insert: (values) =>
      ch.insert(
        table,
        values.map((v) => toRow(v)),
      ),
  });
}
