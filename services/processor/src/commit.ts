import type { Alert } from '@tillwatch/contracts';
import { deadLetterHeaders } from '@tillwatch/kafka';
import type { RollupMessage } from '@tillwatch/stream';
import type { TopicMessages } from 'kafkajs';
import { StaleError, sleep, txRetry, type ProcessorContext, type Transactions } from './context';
import { PRODUCE_REQUEST_BYTES, produceChunks } from './produce-chunks';
import type { Reroute } from './repartition';
import { bundlerFor } from './rollup-bundle';
import { emptyRows, type Rows } from './store';

export interface DeadRecord {
  raw: Buffer | null;
  key: Buffer | null;
  reason: string;
  offset: string;
}

/** One partition batch's results and the offset after it, handed to the group commit. */
export interface PendingCommit {
  topic: string;
  partition: number;
  last: number;
  rows: Rows;
  alerts: Alert[];
  rollups: RollupMessage[];
  dead: DeadRecord[];
  /** misplaced pos.events records, copied to their merchant's partition (repartition.ts) */
  reroutes: Reroute[];
  live: () => boolean;
  heartbeat: () => Promise<void>;
}

interface Pending {
  c: PendingCommit;
  /** the batch's ClickHouse write, started when the batch is handed in */
  written: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit. Partitions are consumed concurrently (KAFKA_PARTITIONS_CONCURRENTLY): each
 * batch is decoded and fed to its stage on its own, then handed here with its rows, outputs and
 * the offset after it.
 *
 * ClickHouse writes are coalesced: at most two at a time, and the batches handed in while both
 * run are merged into the next one (one insert per table for all of them). A batch handed in
 * while a write slot is free is written at once, so the server works while node computes the
 * round's other batches; under load the batches of a round share one or two writes instead of
 * one each.
 * Measured (board-latency bench, ~9k events/s live, ~310 records per batch): every batch wrote
 * its own inserts, ~4 tables × 8 batches per kafkajs fetch round, and a write took 130 ms on
 * the shared cores; see docs/performance-design.md for the figures after.
 *
 * One committer at a time takes every batch handed in so far, waits for their writes, and
 * commits all their outputs and offsets in one Kafka transaction; batches handed in meanwhile
 * form the next group. Measured (300k events, bench trace): a kafkajs fetch round gives ~8
 * batches (4 events, 4 rollups partitions) and makes 2-3 transactions instead of 8.
 *
 * The guarantees are those of one batch: a group's offsets are committed only in the
 * transaction that carries the group's outputs, after ClickHouse has all of the group's rows;
 * a failure fails every batch of the group, whose handlers then throw (consumer restart, replay
 * from the committed offsets) or, when stopping or revoked, return without committing. A
 * partition is in at most one pending group: its handler waits for its commit before kafkajs
 * hands it the next batch. A failed write fails every batch merged into it.
 */
export class GroupCommit {
  private readonly pending: Pending[] = [];
  /** pos.rollups bundles in the configured form (ROLLUPS_FORMAT) */
  private readonly bundle: ReturnType<typeof bundlerFor>;
  private committing = false;
  private readonly writes: WriteQueue;

  constructor(
    private readonly ctx: ProcessorContext,
    private readonly txns: Transactions,
  ) {
    this.bundle = bundlerFor(ctx.cfg.ROLLUPS_FORMAT);
    this.writes = new WriteQueue((rows, heartbeat, live, batches) => {
      ctx.metrics.writeGroupBatches.observe(batches);
      return this.writeDurably(rows, heartbeat, live);
    }, 2);
  }

  /** Resolves once the batch's rows are in ClickHouse and its outputs and offset committed. */
  commit(c: PendingCommit): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const written = this.writes.add(c);
      written.catch(() => {}); // awaited by the group that takes it
      this.pending.push({ c, written, resolve, reject });
      if (!this.committing) void this.runCommits();
    });
  }

  /** ClickHouse write with backoff; heartbeats keep the group membership while it is down. */
  private async writeDurably(rows: Rows, heartbeat: () => Promise<void>, live: () => boolean) {
    const { cfg, log, metrics, store } = this.ctx;
    const t0 = performance.now();
    let wait = 200;
    for (let attempt = 1; ; attempt++) {
      try {
        await store.write(rows);
        break;
      } catch (e) {
        const retriable = (e as { retriable?: boolean }).retriable === true;
        if (!retriable) throw e;
        metrics.writeRetries.inc();
        if (attempt === 1 || attempt % 10 === 0)
          log.warn(
            { err: (e as Error).message, attempt, waitMs: wait },
            'ClickHouse write failed; consumer waits and retries',
          );
        const until = Date.now() + wait;
        while (Date.now() < until) {
          if (!live()) throw new StaleError();
          await heartbeat();
          await sleep(Math.min(1000, until - Date.now()));
        }
        wait = Math.min(cfg.CLICKHOUSE_MAX_BACKOFF, wait * 2);
      }
    }
    metrics.writeSeconds.observe((performance.now() - t0) / 1000);
    metrics.rows.inc({ table: 'events' }, rows.events.count);
    metrics.rows.inc({ table: 'pane_ticks' }, rows.panes.count);
    metrics.rows.inc({ table: 'panes' }, rows.paneRows);
    metrics.rows.inc({ table: 'alerts' }, rows.alerts.length);
    metrics.rows.inc({ table: 'dead_letters' }, rows.deadLetters.length);
    metrics.rows.inc({ table: 'rules_memory' }, rows.memories.length);
  }

  private async runCommits(): Promise<void> {
    this.committing = true;
    try {
      while (this.pending.length) {
        const group = this.pending.splice(0);
        try {
          await this.commitGroup(group);
          for (const g of group) g.resolve();
        } catch (e) {
          for (const g of group) {
            // A batch that is still live must not be dropped quietly (its partition would resume
            // mid-replay from an offset that is not its commit): its handler throws, the consumer
            // restarts from the committed offsets.
            if (e instanceof StaleError && g.c.live()) {
              g.reject(new Error('a batch in the same commit group was revoked', { cause: e }));
            } else g.reject(e);
          }
        }
      }
    } finally {
      this.committing = false;
    }
  }

  private async commitGroup(pendingGroup: Pending[]): Promise<void> {
    const { cfg, metrics } = this.ctx;
    const group = pendingGroup.map((g) => g.c);
    const live = () => group.every((g) => g.live());
    const writes = await Promise.allSettled(pendingGroup.map((g) => g.written));
    const failed = writes.find((w) => w.status === 'rejected');
    if (failed) throw failed.reason;
    if (!live()) throw new StaleError();

    const topicMessages: TopicMessages[] = [];
    const alerts = group.flatMap((g) => g.alerts);
    if (alerts.length)
      topicMessages.push({
        topic: cfg.TOPIC_ALERTS,
        messages: alerts.map((a) => ({ key: a.alertId, value: JSON.stringify(a) })),
      });
    const rollups = group.flatMap((g) => g.rollups);
    if (rollups.length)
      topicMessages.push({
        topic: cfg.TOPIC_ROLLUPS,
        messages: this.bundle(rollups, this.ctx.routeRollup!).map((b) => ({ key: null, ...b })),
      });
    const dead = group.flatMap((g) =>
      g.dead.map((d) => ({
        key: d.key,
        value: d.raw,
        headers: deadLetterHeaders({
          raw: d.raw,
          reason: d.reason,
          sourceTopic: g.topic,
          sourcePartition: g.partition,
          sourceOffset: d.offset,
        }),
      })),
    );
    if (dead.length) topicMessages.push({ topic: cfg.TOPIC_DLQ, messages: dead });
    // in the transaction of the offsets that skip the originals: a copy exists iff they are committed
    const reroutes = group.flatMap((g) => g.reroutes);
    if (reroutes.length) topicMessages.push({ topic: cfg.TOPIC_EVENTS, messages: reroutes });
    const offsets = new Map<string, { partition: number; offset: string }[]>();
    for (const g of group) {
      const list = offsets.get(g.topic) ?? [];
      list.push({ partition: g.partition, offset: String(g.last + 1) });
      offsets.set(g.topic, list);
    }

    const t0 = performance.now();
    await this.txns.run(async (tx) => {
      // Every topic in one produce request (one AddPartitionsToTxn, one Produce round trip),
      // cut where a request would pass PRODUCE_REQUEST_BYTES.
      for (const chunk of produceChunks(topicMessages, PRODUCE_REQUEST_BYTES))
        await txRetry(() => tx.sendBatch({ acks: -1, topicMessages: chunk }));
      await txRetry(() =>
        tx.sendOffsets({
          consumerGroupId: cfg.PROCESSOR_GROUP_ID,
          topics: [...offsets].map(([topic, partitions]) => ({ topic, partitions })),
        }),
      );
    });
    metrics.commitSeconds.observe((performance.now() - t0) / 1000);
    metrics.commitGroupBatches.observe(group.length);
    for (const a of alerts) metrics.alerts.inc({ rule: a.rule, status: a.status });
  }
}

/** The rows of several batches as one set: their encoded chunks and lists, in hand-in order. */
export function mergeRows(all: readonly Rows[]): Rows {
  if (all.length === 1) return all[0]!;
  const out = emptyRows();
  for (const r of all) {
    out.events.chunks.push(...r.events.chunks);
    out.events.count += r.events.count;
    out.panes.chunks.push(...r.panes.chunks);
    out.panes.count += r.panes.count;
    out.paneRows += r.paneRows;
    out.alerts.push(...r.alerts);
    out.deadLetters.push(...r.deadLetters);
    out.memories.push(...r.memories);
  }
  return out;
}

interface Queued {
  c: Pick<PendingCommit, 'rows' | 'heartbeat' | 'live'>;
  done: { resolve: () => void; reject: (e: unknown) => void };
}

/**
 * ClickHouse writes, at most `parallel` at a time: what is handed in while they all run is
 * merged into the next (mergeRows). Each batch's promise settles with the write that carried
 * its rows.
 */
export class WriteQueue {
  private queued: Queued[] = [];
  private running = 0;

  constructor(
    private readonly write: (
      rows: Rows,
      heartbeat: () => Promise<void>,
      live: () => boolean,
      batches: number,
    ) => Promise<void>,
    private readonly parallel = 1,
  ) {}

  add(c: Queued['c']): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ c, done: { resolve, reject } });
      if (this.running < this.parallel) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running++;
    try {
      while (this.queued.length) {
        const take = this.queued.splice(0);
        try {
          await this.write(
            mergeRows(take.map((q) => q.c.rows)),
            take[0]!.c.heartbeat,
            // a merged write goes on while any batch in it is live; a revoked batch's rows are
            // idempotent, and its own group fails on its liveness before committing
            () => take.some((q) => q.c.live()),
            take.length,
          );
          for (const q of take) q.done.resolve();
        } catch (e) {
          for (const q of take) q.done.reject(e);
        }
      }
    } finally {
      this.running--;
    }
  }
}
