import { txRetry, type ProcessorContext, type Transactions } from './context';
import { idleTick } from './rollup-bundle';

/** an idle partition is reported again this often: well inside the rollup's 1 h replay */
const IDLE_REPEAT_MS = 10 * 60_000;

/**
 * Idle sources: an events partition of this member that is caught up (nothing past its
 * committed offset but the last commit marker) and gave no record for ROLLUP_IDLE_AFTER tells
 * every rollup partition not to wait for it, until its next ordinary tick. Sent when it goes
 * idle, after every assignment, and again every IDLE_REPEAT_MS while it lasts, so a rollup
 * partition replaying its last hour after a restart meets one. Its own transaction, no
 * offsets: an aborted one is simply sent again next round.
 *
 * "No record for a while" is the Kafka source's observation, on the wall clock: a live
 * stream's event time follows it. The local topology makes the same call in event time.
 */
export class IdleTicks {
  /** events partitions of this member, and when each last gave a record (wall clock) */
  private assigned = new Set<number>();
  private readonly lastRecordAt = new Map<number, number>();
  /** idle partitions reported, and when (wall clock) */
  private readonly idleSent = new Map<number, number>();

  constructor(
    private readonly ctx: ProcessorContext,
    private readonly txns: Transactions,
  ) {}

  /** A new assignment: every partition starts fresh, not idle. */
  assign(partitions: readonly number[]): void {
    this.assigned = new Set(partitions);
    this.idleSent.clear();
    for (const p of this.assigned) this.lastRecordAt.set(p, Date.now());
  }

  /** An events partition gave a record: it is not idle. */
  record(partition: number): void {
    this.lastRecordAt.set(partition, Date.now());
    this.idleSent.delete(partition);
  }

  async send(): Promise<void> {
    const { cfg, admin, producer, metrics, log } = this.ctx;
    if (this.ctx.stopping || !producer || !admin || this.assigned.size === 0) return;
    const now = Date.now();
    const quiet = [...this.assigned].filter(
      (p) =>
        now - (this.lastRecordAt.get(p) ?? now) >= cfg.ROLLUP_IDLE_AFTER &&
        now - (this.idleSent.get(p) ?? Number.NEGATIVE_INFINITY) >= IDLE_REPEAT_MS,
    );
    if (!quiet.length) return;
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(cfg.TOPIC_EVENTS),
      admin.fetchOffsets({ groupId: cfg.PROCESSOR_GROUP_ID, topics: [cfg.TOPIC_EVENTS] }),
    ]);
    const high = new Map(ends.map((o) => [o.partition, Number(o.high)]));
    const done = new Map(
      (committed[0]?.partitions ?? []).map((o) => [o.partition, Math.max(0, Number(o.offset))]),
    );
    const idle = quiet.filter((p) => (high.get(p) ?? 0) - (done.get(p) ?? 0) <= 1);
    if (!idle.length || this.ctx.stopping) return;
    const messages = idle.flatMap((p) => {
      // one record of one idle tick (ROLLUPS_FORMAT; docs/contract.md §5), the same for every partition
      const value = idleTick(cfg.ROLLUPS_FORMAT, p, this.ctx.sourcePartitions);
      return Array.from({ length: this.ctx.rollupPartitions }, (_, r) => ({
        partition: r,
        key: null,
        value,
        timestamp: String(now),
      }));
    });
    await this.txns.run(async (tx) => {
      await txRetry(() => tx.send({ topic: cfg.TOPIC_ROLLUPS, acks: -1, messages }));
    });
    for (const p of idle) this.idleSent.set(p, now);
    metrics.idleTicks.inc(idle.length);
    log.debug({ partitions: idle }, 'idle source partitions: rollups told not to wait');
  }
}
