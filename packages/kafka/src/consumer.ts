import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '@tillwatch/config';
import { TwKafkaError } from './errors';

export interface BatchInfo {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  highWatermark: string;
  firstOffset: string;
  lastOffset: string;
}

export interface BatchControl {
  /** false once the consumer is stopping: finish quickly */
  isRunning(): boolean;
  /** true when a rebalance took this partition away: results will be redone by the new owner */
  isStale(): boolean;
  /** keep the group membership alive during long work (sent only when due) */
  heartbeat(): Promise<void>;
  /** pause this partition; call the returned function to resume it */
  pause(): () => void;
}

/**
 * What a batch handler returns. Nothing: the batch is durable when the handler resolves.
 * `{ durable }`: the batch is processed, its results are on their way (e.g. buffered in the
 * ClickHouse writer); offsets are committed only after `durable` resolves.
 */
export type BatchResult = void | { durable: Promise<unknown> };

export type BatchHandler = (batch: BatchInfo, ctl: BatchControl) => Promise<BatchResult>;

export interface BatchConsumerOptions {
  groupId: string;
  topics: readonly string[];
  handleBatch: BatchHandler;
  fromBeginning?: boolean;
  logger?: Logger;
  /**
   * Batches of one partition handled but not yet durable before the next one waits: bounds the
   * memory held for a slow sink. 8 x a 1 MB fetch = at most ~8 MB of results in flight per
   * partition, enough to keep a 100-200 ms ClickHouse flush hidden behind processing.
   */
  maxPendingBatches?: number;
  partitionsConsumedConcurrently?: number;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  maxBytesPerPartition?: number;
  maxWaitTimeInMs?: number;
  /** a `durable` promise rejected: the consumer has stopped committing; restart from the last commit */
  onFatal?: (err: unknown) => void;
}

export interface BatchConsumer {
  /** connect, subscribe, start fetching */
  start(): Promise<void>;
  /**
   * Pause fetching, wait (up to drainMs) for handled batches to become durable and commit them,
   * then leave the group. What is not durable by then is not committed: it is redelivered.
   */
  stop(opts?: { drainMs?: number }): Promise<void>;
  /** backpressure: stop fetching these topics (default all) until resume() */
  pause(topics?: readonly string[]): void;
  resume(topics?: readonly string[]): void;
  /** batches handled but not yet committed, over all partitions */
  pendingBatches(): number;
  readonly consumer: Consumer;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Errors a commit may meet because the group moved on: the new owner redoes the work. */
const REBALANCE_ERRORS = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'FENCED_INSTANCE_ID',
]);

/**
 * A consumer whose offsets follow durability, not delivery.
 *
 * kafkajs runs with autoCommit off. After the handler returns, the batch's last offset is
 * resolved at once (kafkajs then fetches past it instead of redelivering it), but committing is
 * ours: per partition, in order, `commitOffsets(last + 1)` runs only after this batch's and all
 * earlier batches' `durable` promises resolved. Processing of batch n+1 thus overlaps the flush
 * of batch n, and a crash at any point loses nothing: the group restarts at the last offset
 * whose results were durable, and idempotent writes absorb the replay.
 */
export function createBatchConsumer(kafka: Kafka, opts: BatchConsumerOptions): BatchConsumer {
  const log = opts.logger;
  const maxPending = Math.max(1, opts.maxPendingBatches ?? 8);
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeout ?? 30_000,
    heartbeatInterval: opts.heartbeatInterval ?? 3000,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 1_048_576,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 500,
    allowAutoTopicCreation: false,
  });

  /** per "topic:partition": promises of batches not yet committed, oldest first */
  const pending = new Map<string, Promise<void>[]>();
  /** per "topic:partition": the tail of the ordered commit chain */
  const chains = new Map<string, Promise<void>>();
  let fatal: unknown;
  let running = false;
  /** set by stop(): links still waiting after the drain must not commit on a closed consumer */
  let closed = false;

  const commit = async (topic: string, partition: number, nextOffset: string) => {
    try {
      await consumer.commitOffsets([{ topic, partition, offset: nextOffset }]);
    } catch (e) {
      const type = (e as { type?: string }).type;
      if (type && REBALANCE_ERRORS.has(type)) {
        log?.info(
          { topic, partition, offset: nextOffset, type },
          'commit skipped: group rebalanced',
        );
        return;
      }
      throw e;
    }
  };

  const track = (batch: BatchInfo, durable: Promise<unknown>) => {
    const id = `${batch.topic}:${batch.partition}`;
    const prev = chains.get(id) ?? Promise.resolve();
    const next = String(BigInt(batch.lastOffset) + 1n);
    const link = prev
      .then(() => durable)
      .then(async () => {
        if (fatal === undefined && !closed) await commit(batch.topic, batch.partition, next);
      })
      .catch((e: unknown) => {
        if (fatal === undefined && !closed) {
          fatal = e;
          log?.error(
            { err: e, topic: batch.topic, partition: batch.partition },
            'results not durable: committing stopped',
          );
          // Stop fetching: nothing after this point may be committed; the owner restarts us.
          consumer.pause(opts.topics.map((topic) => ({ topic })));
          opts.onFatal?.(e);
        }
      });
    chains.set(id, link);
    const list = pending.get(id) ?? [];
    list.push(link);
    pending.set(id, list);
    void link.then(() => {
      const l = pending.get(id);
      const i = l ? l.indexOf(link) : -1;
      if (l && i >= 0) l.splice(i, 1);
    });
  };

  const waitAll = async (deadline: number) => {
    const all = [...pending.values()].flat();
    await Promise.race([Promise.all(all), sleep(Math.max(0, deadline - Date.now()))]);
  };

  return {
    consumer,
    pendingBatches: () => [...pending.values()].reduce((n, l) => n + l.length, 0),
    pause: (topics = opts.topics) => consumer.pause(topics.map((topic) => ({ topic }))),
    resume: (topics = opts.topics) => consumer.resume(topics.map((topic) => ({ topic }))),
    async start() {
      await consumer.connect();
      await consumer.subscribe({
        topics: [...opts.topics],
        fromBeginning: opts.fromBeginning ?? false,
      });
      running = true;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }) => {
          if (fatal !== undefined)
            throw new TwKafkaError(
              'TW_KAFKA_NOT_DURABLE',
              'results of an earlier batch were not durable',
              false,
              { cause: fatal },
            );
          if (!batch.messages.length) return;
          const info: BatchInfo = {
            topic: batch.topic,
            partition: batch.partition,
            messages: batch.messages,
            highWatermark: batch.highWatermark,
            firstOffset: batch.firstOffset() ?? batch.messages[0]!.offset,
            lastOffset: batch.lastOffset(),
          };
          const result = await opts.handleBatch(info, { isRunning, isStale, heartbeat, pause });
          if (isStale()) return; // revoked meanwhile: the new owner starts from the last commit
          resolveOffset(info.lastOffset);
          track(info, result && 'durable' in result ? result.durable : Promise.resolve());
          // Backpressure: too many batches of this partition waiting for their sink. Wait for the
          // oldest, heart-beating so a slow sink (ClickHouse restarting) does not cost our membership.
          const list = pending.get(`${info.topic}:${info.partition}`) ?? [];
          while (list.length > maxPending && isRunning() && fatal === undefined) {
            await Promise.race([list[0], sleep(1000)]);
            await heartbeat();
          }
        },
      });
    },
    async stop({ drainMs = 10_000 } = {}) {
      if (running) {
        consumer.pause(opts.topics.map((topic) => ({ topic })));
        await waitAll(Date.now() + drainMs);
      }
      running = false;
      closed = true;
      await consumer.disconnect();
    },
  };
}
