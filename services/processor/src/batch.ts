import {
  decodeEventFast,
  type Alert,
  type RollupRecord,
  type TerminalEvent,
} from '@tillwatch/contracts';
import type { KafkaMessage } from '@tillwatch/kafka';
import {
  aheadOfSource,
  decodeRollupRecord,
  type RollupMessage,
  type StageSink,
} from '@tillwatch/stream';
import type { GroupCommit, DeadRecord } from './commit';
import type { ProcessorContext } from './context';
import { writeEvent } from './event-rows';
import type { IdleTicks } from './idle';
import type { PartitionStages } from './partition-stages';
import type { Recovery } from './recovery';
import type { Repartition, Reroute } from './repartition';
import { PaneTickWriter } from './pane-rows';
import { emptyRows } from './store';
import { TsvWriter } from './tsv';

export interface BatchControl {
  resolveOffset: (o: string) => void;
  heartbeat: () => Promise<void>;
  isRunning: () => boolean;
  isStale: () => boolean;
}

/**
 * One kafkajs batch of one partition: recovery on the partition's first batch, then every
 * record through its stage (pos.events: decode + validate, bad records to the dead letters, the
 * event stage; pos.rollups: the rollup stage), outputs suppressed while replaying what was
 * already written, and the results handed to the group commit.
 */
export class BatchHandler {
  constructor(
    private readonly ctx: ProcessorContext,
    private readonly stages: PartitionStages,
    private readonly recovery: Recovery,
    private readonly commits: GroupCommit,
    private readonly idle: IdleTicks,
    private readonly repartition: Repartition,
  ) {}

  async handle(
    batch: {
      topic: string;
      partition: number;
      messages: KafkaMessage[];
      highWatermark: string;
      /** the offset kafkajs fetched this batch from (its Batch has it; not in its types) */
      fetchedOffset?: string;
    },
    ctl: BatchControl,
  ): Promise<void> {
    const { topic, partition, messages } = batch;
    if (!messages.length || ctl.isStale()) return;
    const id = `${topic}:${partition}`;
    const { cfg, log, metrics } = this.ctx;
    let st = this.stages.states.get(id);
    // Where kafkajs fetched from: the first record delivered can come later (read-committed
    // skips aborted records and transaction markers).
    const fetched = batch.fetchedOffset === undefined ? undefined : Number(batch.fetchedOffset);
    if (!st) {
      // Recovery resumes at the group's committed offset. A partition's first batch after an
      // assignment is fetched from there, unless a seek of an earlier generation was still
      // pending (kafkajs keeps seeks across rebalances) or the state was dropped mid-replay:
      // then it starts below the commit, and taking it for the commit would emit again what
      // was committed. Go to the commit first.
      const committed = await this.recovery.committedOffset(topic, partition);
      if (committed > (fetched ?? Number(messages[0]!.offset))) {
        this.ctx.consumer!.seek({ topic, partition, offset: String(committed) });
        return;
      }
      st = await this.recovery.recover(topic, partition, messages[0]!);
      this.stages.states.set(id, st);
      if (st.seeking) {
        this.ctx.consumer!.seek({ topic, partition, offset: String(st.next) });
        return;
      }
    }
    if (st.seeking) {
      // The first batch after the seek: kafkajs drops what it fetched before a seek while the
      // seek is pending (ctl.isStale above) and fetches from the seek's offset. Its first record
      // may lie past the replay's end (replayUntil) when everything in between is aborted
      // transactions and their markers (a commit revoked in a rebalance leaves them on
      // pos.rollups), which read-committed does not deliver: an empty replay. This batch was
      // once taken for one fetched before the seek and dropped without resolving an offset, so
      // kafkajs fetched the same again, for ever: the partition hung.
      st.seeking = false;
    }

    const tp = performance.now();
    const rows = emptyRows();
    const eventRows = new TsvWriter();
    const paneRows = new PaneTickWriter();
    const alerts: Alert[] = [];
    const rollups: RollupMessage[] = [];
    const dead: DeadRecord[] = [];
    /** misplaced records, copied to their merchant's partition with the offsets (repartition.ts) */
    const reroutes: Reroute[] = [];
    /** the offset of the record in hand (the sink's memory rows carry it) */
    let handling = -1;
    const deadLetter = (raw: Buffer | null, key: Buffer | null, reason: string, offset: string) => {
      dead.push({ raw, key, reason, offset });
      rows.deadLetters.push({
        sourceTopic: topic,
        sourcePartition: partition,
        sourceOffset: offset,
        reason: reason.slice(0, 1000),
        raw,
        key,
        ts: Date.now(),
      });
    };
    const sink: StageSink = {
      panes: (scope, key, start, m, merchantId, region) =>
        paneRows.add(scope, key, start, m, merchantId, region),
      alert: (a) => alerts.push(a),
      rollup: (m) => rollups.push(m),
      memory: (m) =>
        rows.memories.push({
          stage: m.stage,
          partition: m.partition,
          partitions: m.partitions,
          at: m.at,
          body: JSON.stringify(m),
          // the record being handled when the stage took it: recovery restores a memory only
          // if the group committed past it (recovery.ts, loadMemory)
          offset: handling,
        }),
      // a held event whose time its partition never reached (ahead-guard.ts): the record it
      // came in (tag: its offset) is long committed, so the dead letter carries the event
      dead: (ev, reason, tag) =>
        deadLetter(
          Buffer.from(JSON.stringify(ev)),
          Buffer.from(ev.merchantId),
          reason,
          String(tag),
        ),
    };
    const isEvents = topic === cfg.TOPIC_EVENTS;
    if (isEvents) {
      this.idle.record(partition);
    }
    const insertedAt = Math.floor(Date.now() / 1000);
    let last = -1;
    let emitted = 0;
    let replayed = 0;
    for (const msg of messages) {
      const off = Number(msg.offset);
      if (off < st.next) continue;
      if (!st.verified && off >= st.replayUntil) {
        // About to emit rollup windows: every pane they may still need must be in. Sources tick
        // at their own pace, so the merged watermark at C can trail C's record time by more than
        // the replay allowed for: then replay again from further back (converges: the
        // watermark at C is fixed by the records before C).
        st.verified = true;
        const wm = st.rollup!.watermark;
        const need = this.recovery.rollupReplayNeeds(wm);
        if (need < st.fromTs) {
          const r = await this.recovery.offsetAt(topic, partition, need, st.replayFrom);
          if (r < st.replayFrom) {
            log.info(
              { topic, partition, watermark: wm, replayFrom: r, resumeAt: st.replayUntil },
              'rollup replay did not reach back far enough for the merged watermark: replaying more',
            );
            Object.assign(st, {
              next: r,
              seeking: true,
              fromTs: need,
              replayFrom: r,
              verified: false,
            });
            st.rollup = this.stages.newRollupStage(partition);
            this.recovery.restoreRollup(st);
            this.ctx.consumer!.seek({ topic, partition, offset: String(r) });
            return;
          }
        }
      }
      st.next = off + 1;
      last = off;
      handling = off;
      const emitting = off >= st.replayUntil;
      if (emitting) emitted++;
      else replayed++;
      if (isEvents) {
        const raw = msg.value;
        const d = !raw
          ? { ok: false as const, reason: 'empty record (no value)' }
          : raw.length > cfg.MAX_EVENT_BYTES
            ? {
                ok: false as const,
                reason: `event of ${raw.length} bytes exceeds MAX_EVENT_BYTES (${cfg.MAX_EVENT_BYTES})`,
              }
            : decodeEventFast(raw);
        // A clock far ahead of the record's own time (the producer's or the broker's) is
        // refused on the record alone: a replay of the partition decides the same.
        const reason = d.ok
          ? aheadOfSource(d.event.ts, Number(msg.timestamp), cfg.EVENT_MAX_SKEW)
          : d.reason;
        if (reason !== undefined) {
          if (emitting) deadLetter(raw, msg.key, reason, msg.offset);
          // a valid event refused for its clock: its terminal's rules hear of it
          if (d.ok) st.events!.noteClock(d.event, d.event.ts - Number(msg.timestamp));
          continue;
        }
        const ev: TerminalEvent = (d as { event: TerminalEvent }).event;
        // Not in its merchant's murmur2 partition (another producer's partitioner): its own
        // partition handles the copy; here it is skipped, live and in every replay alike.
        const home = this.repartition.home(ev.merchantId, partition, msg, emitting);
        if (home !== undefined) {
          if (emitting) reroutes.push(this.repartition.copy(msg, partition, home));
          continue;
        }
        if (emitting) writeEvent(eventRows, ev, partition, msg.offset, raw!, insertedAt);
        st.events!.handle(ev, emitting ? sink : null, off);
      } else {
        let rec: RollupRecord;
        try {
          // a binary frame (what this version writes) or the legacy JSON (older processors)
          rec = decodeRollupRecord(msg.value ?? Buffer.alloc(0));
        } catch (e) {
          // Only processors write pos.rollups: a bad record there is a bug, not input to tolerate.
          throw new Error(
            `bad record in ${topic}[${partition}]@${msg.offset}: ${(e as Error).message}`,
          );
        }
        st.rollup!.handle(rec, emitting ? sink : null);
      }
    }
    if (last < 0) return;
    eventRows.drainInto(rows.events);
    rows.paneRows += paneRows.drainInto(rows.panes);
    metrics.processSeconds.observe((performance.now() - tp) / 1000);
    metrics.batchRecords.observe(emitted + replayed);
    metrics.lag.set({ topic, partition }, Math.max(0, Number(batch.highWatermark) - (last + 1)));
    if (isEvents) {
      metrics.events.inc({ outcome: 'replayed' }, replayed);
      metrics.events.inc({ outcome: 'valid' }, emitted - dead.length - reroutes.length);
      metrics.events.inc({ outcome: 'rerouted' }, reroutes.length);
      metrics.events.inc({ outcome: 'invalid' }, dead.length);
      metrics.decodeErrors.inc(dead.length);
      metrics.heldAhead.set({ partition }, st.events!.guard.holding);
      metrics.droppedAhead.set({ partition }, st.events!.guard.dropped);
    } else metrics.lateRollups.set(st.rollup!.late);
    if (last < st.replayUntil) {
      // Pure replay: nothing new to write, and committing an offset below C would move the group back.
      ctl.resolveOffset(String(last));
      return;
    }
    rows.alerts.push(...alerts);
    const live = () => ctl.isRunning() && !ctl.isStale() && !this.ctx.stopping;
    await this.commits.commit({
      topic,
      partition,
      last,
      rows,
      alerts,
      rollups,
      dead,
      reroutes,
      live,
      heartbeat: ctl.heartbeat,
    });
    this.recovery.started = true;
    ctl.resolveOffset(String(last));
  }
}
