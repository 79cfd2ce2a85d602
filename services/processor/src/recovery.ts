import { ident, inList, sql } from '@tillwatch/clickhouse';
import { decodeEvent } from '@tillwatch/contracts';
import { CAT, DEFAULT_ENGINE_CONFIG } from '@tillwatch/core';
import type { KafkaMessage } from '@tillwatch/kafka';
import { MEMORY_VERSION } from '@tillwatch/rules';
import type { EventStage, RollupStage, StageMemory } from '@tillwatch/stream';
import type { ProcessorContext } from './context';
import type { PartitionStages, PartState } from './partition-stages';
import { warmUp } from './warmup';

/**
 * Recovery (start, and every assignment): the first batch of a partition tells where the group
 * resumes (offset C, record time T). The stage's rules memory (what its rules had learnt, taken
 * at every hour boundary into rules_memory) is restored from the latest at or before T, and
 * the stage replays from the offset at min(T, memory time) - (longest window + lateness +
 * largest pane + margin) with outputs suppressed until C, so windows are whole again, the rules
 * resume where they were (profiles, baselines, open episodes) and nothing already written is
 * written again. Pending settlements older than that are
 * rebuilt from the raw events in ClickHouse (approved auths, succeeded reversals, settlements
 * of the partition within one settlement deadline): replaying 24 h of Kafka for them would cost
 * 24x the window replay, and an engine snapshot would need its own consistency with offsets.
 */
export class Recovery {
  private readonly longest = Math.max(...DEFAULT_ENGINE_CONFIG.windowsMs);
  private readonly largestPane = Math.max(...DEFAULT_ENGINE_CONFIG.panesMs);
  private readonly approvedCodes = [...DEFAULT_ENGINE_CONFIG.codeCategories]
    .filter(([, c]) => c === CAT.approved)
    .map(([code]) => code);

  constructor(
    private readonly ctx: ProcessorContext,
    private readonly stages: PartitionStages,
  ) {}

  /**
   * Set after the instance's first commit: later recoveries do not warm up (warmup.ts), except
   * the retry of one that began before it (firstStarts).
   */
  started = false;

  /**
   * Partitions ("stage:partition") whose recovery began before the first commit and has not
   * completed: one that failed (a ClickHouse error in its warm-up, say) and is retried after
   * another partition committed is still a first start, and warms up as it would have.
   */
  private readonly firstStarts = new Set<string>();

  /** How far back the events stage replays from the record time it resumes at. */
  get eventReplayMs(): number {
    const cfg = this.ctx.cfg;
    return this.longest + cfg.ALLOWED_LATENESS + this.largestPane + cfg.REPLAY_MARGIN;
  }

  /**
   * Partials reach a rollup partition from every source at its own pace, so the merged
   * watermark may trail the record time at C: a first guess, checked (and widened) when the
   * replay reaches C (see rollupReplayNeeds).
   */
  get rollupReplayMs(): number {
    return this.longest + this.largestPane + this.ctx.cfg.REPLAY_MARGIN;
  }

  /** The record time a rollup replay must reach back to for a merged watermark `wm`. */
  rollupReplayNeeds(wm: number): number {
    return Number.isFinite(wm)
      ? wm - this.longest - this.largestPane - this.ctx.cfg.REPLAY_MARGIN
      : 0;
  }

  async recover(topic: string, partition: number, first: KafkaMessage): Promise<PartState> {
    const { cfg, log, metrics } = this.ctx;
    const t0 = performance.now();
    const c = Number(first.offset);
    const t = Number(first.timestamp);
    const isEvents = topic === cfg.TOPIC_EVENTS;
    const span = isEvents ? this.eventReplayMs : this.rollupReplayMs;
    // What the partition's rules had learnt, at the last hour boundary at or before where the
    // group resumes: the replay then starts a span before it (windows whole at its time) and
    // learns only what came after it. A first start learns it from stored events (warmup.ts).
    const stage = isEvents ? 'events' : 'rollup';
    const key = `${stage}:${partition}`;
    if (!this.started) this.firstStarts.add(key);
    const loaded = await this.loadMemory(stage, partition, t, c);
    const memory =
      loaded.memory ??
      (this.firstStarts.has(key)
        ? await warmUp(this.ctx, this.stages, stage, partition, t, c, loaded.stored)
        : undefined);
    const fromTs = Math.min(t, memory?.at ?? t) - span;
    const memoryAt = memory ? new Date(memory.at).toISOString() : null;
    // The offset to replay from (Kafka) and the pending settlements (ClickHouse) are read at once:
    // a partition's first batch waits for its rebuild, and after a start the rollups partitions
    // wait for the event stages' first commit (performance-design.md, "Latency to the board").
    let r: number;
    let primed: number | undefined;
    let events: EventStage | undefined;
    let rollup: RollupStage | undefined;
    if (isEvents) {
      events = this.stages.newEventStage(partition);
      if (memory) events.restore(memory);
      [r, primed] = await Promise.all([
        this.offsetAt(topic, partition, fromTs, c),
        this.primeSettlements(events, partition, fromTs),
      ]);
    } else {
      rollup = this.stages.newRollupStage(partition);
      if (memory) rollup.restore(memory);
      r = await this.offsetAt(topic, partition, fromTs, c);
    }
    const st: PartState = {
      topic,
      partition,
      replayUntil: c,
      next: r,
      seeking: r < c,
      fromTs,
      replayFrom: r,
      verified: isEvents,
      ...(memory ? { memory } : {}),
      ...(events ? { events } : {}),
      ...(rollup ? { rollup } : {}),
    };
    const seconds = (performance.now() - t0) / 1000;
    metrics.recoverySeconds.observe({ topic }, seconds);
    log.info(
      {
        topic,
        partition,
        resumeAt: c,
        replayFrom: r,
        ...(primed === undefined ? {} : { primed }),
        memoryAt,
        ms: Math.round(seconds * 1000),
      },
      'partition assigned: rebuilding state',
    );
    if (memory) metrics.memoryRestores.inc({ topic });
    metrics.recoveries.inc({ topic });
    this.firstStarts.delete(key);
    return st;
  }

  /** A rules memory taken again after a rollup replay had to reach further back (batch.ts). */
  restoreRollup(st: PartState): void {
    if (st.memory) st.rollup!.restore(st.memory);
  }

  /**
   * The latest rules memory of a stage's partition (for this partitioning) that the group
   * committed: taken in a batch whose records lie before `c`, the offset the partition resumes
   * at (any partition, any instance: after a rebalance too). Undefined: a first start, or a
   * partition count that changed (its memory would be another partition's merchants).
   *
   * A batch writes its rows, the memory among them, to ClickHouse before its Kafka commit, so
   * a batch revoked in a rebalance (or cut by a crash) leaves a memory from past the commit
   * behind. Restoring it would freeze the rules up to its time while the boundaries between
   * the commit and it are judged again, and their alerts were never published (the
   * transaction aborted): lost. The record time at `c` (`t`) does not tell: a rollup
   * partition's watermark trails its records' times, an idle tick carries the wall clock, and
   * a boundary closes after records of its next hour arrived. It bounds only memories written
   * before their offset was kept (source_offset -1, migration 6).
   *
   * `stored`: how many memories the table holds for the partition (any offset), when nothing
   * was restorable and the diagnostic count below read it; warm-up asks the same question
   * (warmup.ts) and takes this answer instead of querying again. Unset when not read (restore
   * off, or a memory found).
   */
  async loadMemory(
    stage: StageMemory['stage'],
    partition: number,
    t: number,
    c: number,
  ): Promise<{ memory?: StageMemory; stored?: number }> {
    if (this.ctx.cfg.RULES_MEMORY_RESTORE !== 'on') return {};
    const { store, log } = this.ctx;
    const partitions = stage === 'events' ? this.ctx.sourcePartitions : this.ctx.rollupPartitions;
    const rows = await store.ch.query<{ body: string }>(
      sql`SELECT body FROM ${ident(store.tables.rulesMemory)}
        WHERE stage = ${stage} AND partitions = ${partitions} AND partition = ${partition}
          AND if(source_offset >= 0, source_offset < ${Math.max(0, Math.floor(c))},
            at_ms <= ${Math.max(0, Math.floor(t))})
        ORDER BY at_ms DESC, source_offset DESC LIMIT 1`,
    );
    if (!rows.length) {
      // why nothing: what the table holds for the partition, against the bound above
      const seen = await store.ch.query<{ n: number; at: number; off: number; minOff: number }>(
        sql`SELECT count() AS n, max(at_ms) AS at, max(source_offset) AS off,
            min(source_offset) AS minOff
          FROM ${ident(store.tables.rulesMemory)}
          WHERE stage = ${stage} AND partitions = ${partitions} AND partition = ${partition}`,
      );
      log.info(
        { stage, partition, partitions, resumeAt: c, recordTime: t, stored: seen[0] },
        'no rules memory to restore for the partition',
      );
      return { stored: Number(seen[0]?.n ?? 0) };
    }
    try {
      const m = JSON.parse(rows[0]!.body) as StageMemory;
      if (m.memory?.v !== MEMORY_VERSION) throw new Error(`version ${m.memory?.v}`);
      return { memory: m };
    } catch (e) {
      // A memory this version cannot read: start blind rather than not at all.
      log.warn({ stage, partition, err: (e as Error).message }, 'rules memory unreadable: ignored');
      return {};
    }
  }

  /** The group's committed offset of a partition (-1: none yet). */
  async committedOffset(topic: string, partition: number): Promise<number> {
    const [t] = await this.ctx.admin!.fetchOffsets({
      groupId: this.ctx.cfg.PROCESSOR_GROUP_ID,
      topics: [topic],
    });
    const o = t?.partitions.find((p) => p.partition === partition)?.offset;
    return o === undefined ? -1 : Number(o);
  }

  /** The first offset at or after record time `ts` (never past `atMost`). */
  async offsetAt(topic: string, partition: number, ts: number, atMost: number): Promise<number> {
    const offsets = await this.ctx.admin!.fetchTopicOffsetsByTimestamp(topic, ts);
    const found = offsets.find((o) => o.partition === partition);
    const r = found ? Number(found.offset) : atMost;
    return !(r >= 0) || r > atMost ? atMost : r;
  }

  /** Rebuild pending settlements of a partition from ClickHouse's raw events. */
  private async primeSettlements(stage: EventStage, partition: number, beforeTs: number) {
    const { cfg, store } = this.ctx;
    const from = beforeTs - cfg.SETTLEMENT_DEADLINE;
    const rows = await store.ch.query<{ raw: string }>(
      sql`SELECT raw FROM ${ident(store.tables.events)}
        WHERE kafka_partition = ${partition}
          AND ts_ms >= ${Math.max(0, Math.floor(from))} AND ts_ms < ${Math.floor(beforeTs)}
          AND ((type = 'auth' AND response_code IN ${inList(this.approvedCodes)})
            OR type = 'reversal' OR type = 'settlement')
        ORDER BY ts_ms, kafka_offset`,
    );
    let n = 0;
    for (const row of rows) {
      const d = decodeEvent(row.raw);
      if (d.ok) {
        stage.prime(d.event);
        n++;
      }
    }
    return n;
  }
}
