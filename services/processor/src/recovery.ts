import { ident, inList, sql } from '@tillwatch/clickhouse';
import { decodeEvent } from '@tillwatch/contracts';
import { CAT, DEFAULT_ENGINE_CONFIG } from '@tillwatch/core';
import type { KafkaMessage } from '@tillwatch/kafka';
import type { EventStage } from '@tillwatch/stream';
import type { ProcessorContext } from './context';
import type { PartitionStages, PartState } from './partition-stages';

/**
 * Recovery (start, and every assignment): the first batch of a partition tells where the group
 * resumes (offset C, record time T). The stage replays from the offset at T - (longest window +
 * lateness + largest pane + margin) with outputs suppressed until C, so windows are whole again
 * and nothing already written is written again. Pending settlements older than that are
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
    const c = Number(first.offset);
    const t = Number(first.timestamp);
    const isEvents = topic === cfg.TOPIC_EVENTS;
    const fromTs = t - (isEvents ? this.eventReplayMs : this.rollupReplayMs);
    const r = await this.offsetAt(topic, partition, fromTs, c);
    const st: PartState = {
      topic,
      partition,
      replayUntil: c,
      next: r,
      seeking: r < c,
      fromTs,
      replayFrom: r,
      verified: isEvents,
    };
    if (isEvents) {
      st.events = this.stages.newEventStage(partition);
      const primed = await this.primeSettlements(st.events, partition, fromTs);
      log.info(
        { topic, partition, resumeAt: c, replayFrom: r, primed },
        'partition assigned: rebuilding state',
      );
    } else {
      st.rollup = this.stages.newRollupStage();
      log.info(
        { topic, partition, resumeAt: c, replayFrom: r },
        'partition assigned: rebuilding state',
      );
    }
    metrics.recoveries.inc({ topic });
    return st;
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
