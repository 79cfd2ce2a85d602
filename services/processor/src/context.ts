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
 *
 * A commit or abort that fails (the broker died under EndTxn) leaves the kafkajs producer in
 * COMMITTING or ABORTING, from which it starts no transaction again: every later one failed
 * with "Cannot call beginTransaction in state COMMITTING", a non-retriable error that stopped
 * the consumer for good (seen in test/e2e/pipeline/broker-kill.int.test.ts). Such a producer is
 * replaced before the next transaction by a new one with the same transactional id, as Kafka's
 * own clients are: its InitProducerId fences the old one and completes or aborts the open
 * transaction, and the consumer, restarted by the failure, replays from the committed offsets.
 */
export class Transactions {
  private chain: Promise<unknown> = Promise.resolve();
  /** why the producer can start no transaction; replaced at the next run */
  private stuck: Error | undefined;

  constructor(
    private readonly ctx: ProcessorContext,
    private readonly createProducer: () => Producer,
  ) {}

  /** A new producer, connected (InitProducerId), as ctx.producer. */
  async connect(): Promise<void> {
    const producer = this.createProducer();
    await producer.connect();
    this.ctx.producer = producer;
  }

  run(body: (tx: Transaction) => Promise<void>): Promise<void> {
    const fn = async () => {
      if (this.stuck) await this.replace();
      const tx = await txRetry(() => this.ctx.producer!.transaction());
      try {
        await body(tx);
        await txRetry(() => tx.commit());
      } catch (e) {
        await tx.abort().catch((abortErr: unknown) => {
          this.stuck = abortErr as Error;
        });
        throw e;
      }
    };
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private async replace(): Promise<void> {
    const { ctx } = this;
    ctx.log.warn(
      { err: this.stuck?.message },
      'Kafka producer left mid-commit or mid-abort: replacing it (same transactional id)',
    );
    const old = ctx.producer;
    ctx.producer = undefined;
    await old?.disconnect().catch(() => {});
    await this.connect(); // throws while the broker is away: the next run tries again
    this.stuck = undefined;
    ctx.metrics.producerReplaced.inc();
  }
}
