import type { Logger } from '@tillwatch/config';
import type { Consumer, Kafka, Producer } from '@tillwatch/kafka';
import type { Transaction } from 'kafkajs';
import type { ProcessorEnv } from './config';
import type { Metrics } from './metrics';
import type { Store } from './store';

/** What the processor's parts (batch, commit, recovery, idle ticks) share; clients are set by start(). */
export interface ProcessorContext {
  readonly cfg: ProcessorEnv;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly store: Store;
  readonly kafka: Kafka;
  admin?: ReturnType<Kafka['admin']>;
  producer?: Producer;
  consumer?: Consumer;
  /** partitions of pos.events and pos.rollups, read at start */
  sourcePartitions: number;
  rollupPartitions: number;
  /** merchantId -> the pos.events partition it belongs in (murmur2, as the local topology routes) */
  routeEvent?: (merchantId: string) => number;
  /** "<scope>:<key>" -> pos.rollups partition */
  routeRollup?: (key: string) => number;
  stopping: boolean;
}

/** A batch whose partition was revoked, or a consumer stopping: not an error, nothing to commit. */
export class StaleError extends Error {
  constructor() {
    super('partition revoked or consumer stopping');
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The transaction coordinator answers CONCURRENT_TRANSACTIONS (51) while it still writes the
 * markers of our previous commit; the Java client retries it, kafkajs does not. A few ms later
 * the same request goes through: retry up to ~5 s, 5 ms doubling to 100 ms.
 */
export async function txRetry<T>(fn: () => Promise<T>): Promise<T> {
  let wait = 5;
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const err = e as { type?: string; code?: number };
      if ((err.type !== 'CONCURRENT_TRANSACTIONS' && err.code !== 51) || i >= 60) throw e;
      await sleep(wait);
      wait = Math.min(100, wait * 2);
    }
  }
}

/**
 * The processor's Kafka transactions, written once: one producer runs one transaction at a
 * time (batches' group commits and idle ticks take turns), each send retried on
 * CONCURRENT_TRANSACTIONS, aborted on any failure and the failure rethrown.
 */
export class Transactions {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: ProcessorContext) {}

  run(body: (tx: Transaction) => Promise<void>): Promise<void> {
    const fn = async () => {
      const tx = await txRetry(() => this.ctx.producer!.transaction());
      try {
        await body(tx);
        await txRetry(() => tx.commit());
      } catch (e) {
        await tx.abort().catch(() => {});
        throw e;
      }
    };
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }
}
