import type { Server } from 'node:http';
import { createLogger, type Logger } from '@tillwatch/config';
import {
  categorize,
  decodeEvent,
  decodeEventFast,
  type Alert,
  type RollupRecord,
  type TerminalEvent,
} from '@tillwatch/contracts';
import { CAT, DEFAULT_ENGINE_CONFIG } from '@tillwatch/core';
import {
  createKafka,
  ensureTopics,
  deadLetterHeaders,
  type Consumer,
  type Kafka,
  type KafkaMessage,
  type Producer,
} from '@tillwatch/kafka';
import {
  fromStoredSilence,
  loadRulesFile,
  type RulesConfigInput,
  type SilenceInput,
} from '@tillwatch/rules';
import { Partitioners, type TopicMessages } from 'kafkajs';
import { PRODUCE_REQUEST_BYTES, produceChunks } from './produce-chunks';
import { bundleRollups } from './rollup-bundle';
import type { ProcessorEnv } from './config';
import { createMetrics, serveMetrics, type Metrics } from './metrics';
import { ident, inList, listSilences, sql } from '@tillwatch/clickhouse';
import { createStore, emptyRows, type Rows, type Store } from './store';
import { RowBinaryWriter, TsvWriter } from './tsv';
import {
  EventStage,
  FORWARD_CATEGORIES,
  RollupStage,
  eventMonitor,
  partitionerFor,
  rollupMonitor,
  stageEngines,
  type RollupMessage,
  type StageSink,
} from '@tillwatch/stream';
import { writeStat } from './stat-rows';

/**
 * The processor: one consumer group on pos.events and pos.rollups, exactly-once towards Kafka
 * and idempotent towards ClickHouse.
 *
 * Per batch (kafkajs eachBatch, one partition):
 *  1. decode + validate every record; bad ones become dead letters;
 *  2. feed the partition's task (EventStage or RollupStage): window stats, alert transitions and
 *     rollup partials come out at pane boundaries;
 *  3. write raw events, stats, alerts and dead letters to ClickHouse, retrying with backoff
 *     while it is down (the consumer waits: nothing is fetched past what is not yet durable);
 *  4. one Kafka transaction: alerts to pos.alerts, partials and ticks to pos.rollups (bundled
 *     per rollups partition, rollup-bundle.ts), dead letters to
 *     pos.events.dlq, and the consumer offset. The offset is committed only with the outputs it
 *     covers, after ClickHouse has them.
 * Partitions are handled concurrently and steps 3-4 are grouped: one transaction carries the
 * outputs and offsets of every batch whose write is done (see commitDurably).
 *
 * A crash anywhere aborts the open transaction (the restarted instance, same transactional id,
 * fences it); consumers read committed only, so no alert or partial is seen twice. ClickHouse
 * rows written before the crash are written again with the same identity and fold away.
 *
 * Recovery (start, and every assignment): the first batch of a partition tells where the group
 * resumes (offset C, record time T). The task replays from the offset at T - (longest window +
 * lateness + largest pane + margin) with outputs suppressed until C, so windows are whole again
 * and nothing already written is written again. Pending settlements older than that are
 * rebuilt from the raw events in ClickHouse (approved auths, succeeded reversals, settlements
 * of the partition within one settlement deadline): replaying 24 h of Kafka for them would cost
 * 24x the window replay, and an engine snapshot would need its own consistency with offsets.
 */

export interface ProcessorOptions {
  config: ProcessorEnv;
  logger?: Logger;
  /** for tests: override the rules (merged over defaults) */
  rules?: RulesConfigInput;
}

export interface Processor {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly metrics: Metrics;
  readonly metricsPort: number;
  readonly store: Store;
}

/** an idle partition is reported again this often: well inside the rollup's 1 h replay */
const IDLE_REPEAT_MS = 10 * 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The transaction coordinator answers CONCURRENT_TRANSACTIONS (51) while it still writes the
 * markers of our previous commit; the Java client retries it, kafkajs does not. A few ms later
 * the same request goes through: retry up to ~5 s, 5 ms doubling to 100 ms.
 */
async function txRetry<T>(fn: () => Promise<T>): Promise<T> {
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

interface PartState {
  topic: string;
  partition: number;
  /** outputs are suppressed below this offset: they were written before */
  replayUntil: number;
  /** next offset to handle */
  next: number;
  /** after a seek: batches that start at or past replayUntil are stale (fetched before the seek) */
  seeking: boolean;
  /** record time the replay starts at, and its offset */
  fromTs: number;
  replayFrom: number;
  /** rollups: the coverage of the replay has been checked against the merged watermark */
  verified: boolean;
  events?: EventStage;
  rollup?: RollupStage;
}

/**
 * One TabSeparated row of events_raw (@tillwatch/clickhouse column order). Ids are
 * contract-validated ([A-Za-z0-9_.:-]); free text (eventId, txnId, currency, firmware, issuer,
 * the raw JSON bytes as received) is escaped.
 */
export function writeEvent(
  w: TsvWriter,
  ev: TerminalEvent,
  partition: number,
  offset: string,
  rawBytes: Buffer,
  insertedAt: number,
): void {
  const auth = ev.type === 'auth';
  const code = auth ? ev.responseCode : '';
  w.text(ev.eventId)
    .tab()
    .str(ev.type)
    .tab()
    .num(Math.floor(ev.ts / 1000))
    .tab()
    .num(ev.ts);
  w.tab().str(ev.terminalId).tab().str(ev.merchantId).tab().str(ev.region).tab();
  w.text(ev.type === 'heartbeat' ? '' : ev.txnId)
    .tab()
    .str(code)
    .tab();
  w.str(auth ? categorize(code) : '').tab();
  if (auth || ev.type === 'settlement') w.num(ev.amount);
  else w.nul();
  w.tab()
    .text(auth ? ev.currency : '')
    .tab();
  w.text((auth || ev.type === 'heartbeat') && ev.firmware ? ev.firmware : '').tab();
  w.text(auth && ev.issuerId ? ev.issuerId : '').tab();
  w.bytes(rawBytes).tab().num(partition).tab().str(offset).tab().num(insertedAt).end();
}

interface DeadRecord {
  raw: Buffer | null;
  key: Buffer | null;
  reason: string;
  offset: string;
}

class StaleError extends Error {
  constructor() {
    super('partition revoked or consumer stopping');
  }
}

export function createProcessor(opts: ProcessorOptions): Processor {
  const cfg = opts.config;
  const log = opts.logger ?? createLogger('processor', { level: cfg.LOG_LEVEL });
  const metrics = createMetrics();
  const kafka: Kafka = createKafka({
    brokers: cfg.KAFKA_BROKERS,
    clientId: `tillwatch-processor-${cfg.PROCESSOR_INSTANCE_ID}`,
    logger: log.child({ component: 'kafkajs' }),
  });
  const store = createStore({
    url: cfg.CLICKHOUSE_URL,
    ...(cfg.CLICKHOUSE_DATABASE ? { database: cfg.CLICKHOUSE_DATABASE } : {}),
    logger: log,
  });

  const stages = stageEngines({
    allowedLatenessMs: cfg.ALLOWED_LATENESS,
    settlementDeadlineMs: cfg.SETTLEMENT_DEADLINE,
    reversalGraceMs: cfg.REVERSAL_GRACE,
  });
  const win = stages.win;
  const engineConfig = stages.events;
  const longest = Math.max(...DEFAULT_ENGINE_CONFIG.windowsMs);
  const largestPane = Math.max(...DEFAULT_ENGINE_CONFIG.panesMs);
  const eventReplayMs = longest + cfg.ALLOWED_LATENESS + largestPane + cfg.REPLAY_MARGIN;
  // Partials reach a rollup partition from every source at its own pace, so the merged
  // watermark may trail the record time at C: a first guess, checked (and widened) when the
  // replay reaches C.
  const rollupReplayMs = longest + largestPane + cfg.REPLAY_MARGIN;
  const approvedCodes = [...DEFAULT_ENGINE_CONFIG.codeCategories]
    .filter(([, c]) => c === CAT.approved)
    .map(([code]) => code);

  const baseRules = (cfg.RULES_FILE ? loadRulesFile(cfg.RULES_FILE) : {}) as RulesConfigInput;
  const rules = {
    ...baseRules,
    ...opts.rules,
    rules: { ...(baseRules.rules ?? {}), ...(opts.rules?.rules ?? {}) },
  } as RulesConfigInput;

  let consumer: Consumer | undefined;
  let producer: Producer | undefined;
  let admin: ReturnType<Kafka['admin']> | undefined;
  let metricsServer: Server | undefined;
  let metricsPort = 0;
  let sourcePartitions = 0;
  let rollupPartitions = 0;
  let routeRollup: ((key: string) => number) | undefined;
  const states = new Map<string, PartState>();
  let stopping = false;
  /** one producer runs one transaction at a time: batches and idle ticks take turns */
  let txChain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = txChain.then(fn, fn);
    txChain = run.catch(() => {});
    return run;
  };
  /** events partitions of this member, and when each last gave a record (wall clock) */
  let assigned = new Set<number>();
  const lastRecordAt = new Map<number, number>();
  /** idle partitions reported, and when (wall clock) */
  const idleSent = new Map<number, number>();
  let idleTimer: NodeJS.Timeout | undefined;
  // Silences made on the gateway (ClickHouse `silences`), re-read every SILENCES_REFRESH and
  // applied to every task's rules: a silenced transition is recorded by the rules but neither
  // written nor sent to pos.alerts (so no webhook either). Operator input, not event data: a
  // replay after a crash applies the silences of its own time.
  let silences: SilenceInput[] = [];
  let silencesKey = '[]';
  let silenceTimer: NodeJS.Timeout | undefined;
  const monitorsOf = (st: PartState) => [st.events?.monitor, st.rollup?.monitor];
  const refreshSilences = async () => {
    const list = (await listSilences(store.ch)).map(fromStoredSilence);
    const key = JSON.stringify(list);
    if (key === silencesKey) return;
    silencesKey = key;
    silences = list;
    for (const st of states.values()) for (const m of monitorsOf(st)) m?.setSilences?.(list);
    log.info({ silences: list.length }, 'silences updated');
  };

  const newEventStage = (partition: number) =>
    new EventStage({
      partition,
      sourcePartitions,
      rollupPartitions,
      monitor: eventMonitor(engineConfig, { rules, silences }),
      forwardCategories: FORWARD_CATEGORIES,
      statsWindows: win.statsWindows,
      paneWindow: win.paneWindow,
      p0: win.p0,
    });

  const newRollupStage = () =>
    new RollupStage({
      ...stages.rollup,
      p0: win.p0,
      monitor: (windows) => rollupMonitor(windows, engineConfig, { rules, silences }),
    });

  /** Rebuild pending settlements of a partition from ClickHouse's raw events. */
  const primeSettlements = async (task: EventStage, partition: number, beforeTs: number) => {
    const from = beforeTs - cfg.SETTLEMENT_DEADLINE;
    const rows = await store.ch.query<{ raw: string }>(
      sql`SELECT raw FROM ${ident(store.tables.events)}
        WHERE kafka_partition = ${partition}
          AND ts_ms >= ${Math.max(0, Math.floor(from))} AND ts_ms < ${Math.floor(beforeTs)}
          AND ((type = 'auth' AND response_code IN ${inList(approvedCodes)})
            OR type = 'reversal' OR type = 'settlement')
        ORDER BY ts_ms, kafka_offset`,
    );
    let n = 0;
    for (const row of rows) {
      const d = decodeEvent(row.raw);
      if (d.ok) {
        task.prime(d.event);
        n++;
      }
    }
    return n;
  };

  const recover = async (
    topic: string,
    partition: number,
    first: KafkaMessage,
  ): Promise<PartState> => {
    const c = Number(first.offset);
    const t = Number(first.timestamp);
    const isEvents = topic === cfg.TOPIC_EVENTS;
    const fromTs = t - (isEvents ? eventReplayMs : rollupReplayMs);
    const offsets = await admin!.fetchTopicOffsetsByTimestamp(topic, fromTs);
    const found = offsets.find((o) => o.partition === partition);
    let r = found ? Number(found.offset) : c;
    if (!(r >= 0) || r > c) r = c;
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
      st.events = newEventStage(partition);
      const primed = await primeSettlements(st.events, partition, fromTs);
      log.info(
        { topic, partition, resumeAt: c, replayFrom: r, primed },
        'partition assigned: rebuilding state',
      );
    } else {
      st.rollup = newRollupStage();
      log.info(
        { topic, partition, resumeAt: c, replayFrom: r },
        'partition assigned: rebuilding state',
      );
    }
    metrics.recoveries.inc({ topic });
    return st;
  };

  /** ClickHouse write with backoff; heartbeats keep the group membership while it is down. */
  const writeDurably = async (rows: Rows, heartbeat: () => Promise<void>, live: () => boolean) => {
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
    metrics.rows.inc({ table: 'stats' }, rows.stats.count);
    metrics.rows.inc({ table: 'alerts' }, rows.alerts.length);
    metrics.rows.inc({ table: 'dead_letters' }, rows.deadLetters.length);
  };

  /**
   * Group commit. Partitions are consumed concurrently (KAFKA_PARTITIONS_CONCURRENTLY): each
   * batch is decoded and fed to its task on its own, then handed here with its rows, outputs and
   * the offset after it. Its ClickHouse write starts at once (while other partitions' batches
   * are still being computed: the server works while node does). One committer at a time takes
   * every batch handed in so far, waits for their writes, and commits all their outputs and
   * offsets in one Kafka transaction; batches handed in meanwhile form the next group. Measured
   * (300k events, bench trace): a kafkajs fetch round gives ~8 batches (4 events, 4 rollups
   * partitions) and makes 2-3 transactions instead of 8, and a round's idle tail (the last
   * batches' write and transaction, with nothing left to compute) fell from ~200 to ~60 ms.
   *
   * The guarantees are those of one batch: a group's offsets are committed only in the
   * transaction that carries the group's outputs, after ClickHouse has all of the group's rows;
   * a failure fails every batch of the group, whose handlers then throw (consumer restart, replay
   * from the committed offsets) or, when stopping or revoked, return without committing. A
   * partition is in at most one pending group: its handler waits for its commit before kafkajs
   * hands it the next batch.
   */
  interface PendingCommit {
    topic: string;
    partition: number;
    last: number;
    rows: Rows;
    alerts: Alert[];
    rollups: RollupMessage[];
    dead: DeadRecord[];
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
  const pending: Pending[] = [];
  let committing = false;
  const commitDurably = (c: PendingCommit) =>
    new Promise<void>((resolve, reject) => {
      const written = writeDurably(c.rows, c.heartbeat, c.live);
      written.catch(() => {}); // awaited by the group that takes it
      pending.push({ c, written, resolve, reject });
      if (!committing) void runCommits();
    });
  const runCommits = async () => {
    committing = true;
    try {
      while (pending.length) {
        const group = pending.splice(0);
        try {
          await commitGroup(group);
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
      committing = false;
    }
  };
  const commitGroup = async (pendingGroup: Pending[]) => {
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
        messages: bundleRollups(rollups, routeRollup!).map((b) => ({ key: null, ...b })),
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
    const offsets = new Map<string, { partition: number; offset: string }[]>();
    for (const g of group) {
      const list = offsets.get(g.topic) ?? [];
      list.push({ partition: g.partition, offset: String(g.last + 1) });
      offsets.set(g.topic, list);
    }

    const t0 = performance.now();
    await exclusive(async () => {
      const tx = await txRetry(() => producer!.transaction());
      try {
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
        await txRetry(() => tx.commit());
      } catch (e) {
        await tx.abort().catch(() => {});
        throw e;
      }
    });
    metrics.commitSeconds.observe((performance.now() - t0) / 1000);
    metrics.commitGroupBatches.observe(group.length);
    for (const a of alerts) metrics.alerts.inc({ rule: a.rule, status: a.status });
  };

  const handleBatch = async (
    batch: { topic: string; partition: number; messages: KafkaMessage[]; highWatermark: string },
    ctl: {
      resolveOffset: (o: string) => void;
      heartbeat: () => Promise<void>;
      isRunning: () => boolean;
      isStale: () => boolean;
    },
  ) => {
    const { topic, partition, messages } = batch;
    if (!messages.length || ctl.isStale()) return;
    const id = `${topic}:${partition}`;
    let st = states.get(id);
    if (!st) {
      st = await recover(topic, partition, messages[0]!);
      states.set(id, st);
      if (st.seeking) {
        consumer!.seek({ topic, partition, offset: String(st.next) });
        return;
      }
    }
    const firstOffset = Number(messages[0]!.offset);
    if (st.seeking) {
      // Fetched before the seek took effect: it starts where the group resumed, not at the replay.
      if (firstOffset >= st.replayUntil && st.next < st.replayUntil) return;
      st.seeking = false;
    }

    const tp = performance.now();
    const rows = emptyRows();
    const eventRows = new TsvWriter();
    const statRows = new RowBinaryWriter();
    const alerts: Alert[] = [];
    const rollups: RollupMessage[] = [];
    const dead: DeadRecord[] = [];
    const sink: StageSink = {
      stats: (...row) => writeStat(statRows, ...row),
      alert: (a) => alerts.push(a),
      rollup: (m) => rollups.push(m),
    };
    const isEvents = topic === cfg.TOPIC_EVENTS;
    if (isEvents) {
      lastRecordAt.set(partition, Date.now());
      idleSent.delete(partition);
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
        const need = Number.isFinite(wm) ? wm - longest - largestPane - cfg.REPLAY_MARGIN : 0;
        if (need < st.fromTs) {
          const offsets = await admin!.fetchTopicOffsetsByTimestamp(topic, need);
          const found = offsets.find((o) => o.partition === partition);
          const r = found && Number(found.offset) >= 0 ? Number(found.offset) : st.replayFrom;
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
            st.rollup = newRollupStage();
            consumer!.seek({ topic, partition, offset: String(r) });
            return;
          }
        }
      }
      st.next = off + 1;
      last = off;
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
        if (!d.ok) {
          if (emitting) {
            dead.push({ raw, key: msg.key, reason: d.reason, offset: msg.offset });
            rows.deadLetters.push({
              sourceTopic: topic,
              sourcePartition: partition,
              sourceOffset: msg.offset,
              reason: d.reason.slice(0, 1000),
              raw,
              key: msg.key,
              ts: Date.now(),
            });
          }
          continue;
        }
        const ev: TerminalEvent = d.event;
        if (emitting) writeEvent(eventRows, ev, partition, msg.offset, raw!, insertedAt);
        st.events!.handle(ev, emitting ? sink : null);
      } else {
        let rec: RollupRecord;
        try {
          rec = JSON.parse(msg.value!.toString('utf8')) as RollupRecord;
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
    statRows.drainInto(rows.stats);
    metrics.processSeconds.observe((performance.now() - tp) / 1000);
    metrics.batchRecords.observe(emitted + replayed);
    metrics.lag.set({ topic, partition }, Math.max(0, Number(batch.highWatermark) - (last + 1)));
    if (isEvents) {
      metrics.events.inc({ outcome: 'replayed' }, replayed);
      metrics.events.inc({ outcome: 'valid' }, emitted - dead.length);
      metrics.events.inc({ outcome: 'invalid' }, dead.length);
      metrics.decodeErrors.inc(dead.length);
    } else metrics.lateRollups.set(st.rollup!.late);
    if (last < st.replayUntil) {
      // Pure replay: nothing new to write, and committing an offset below C would move the group back.
      ctl.resolveOffset(String(last));
      return;
    }
    rows.alerts.push(...alerts);
    const live = () => ctl.isRunning() && !ctl.isStale() && !stopping;
    await commitDurably({
      topic,
      partition,
      last,
      rows,
      alerts,
      rollups,
      dead,
      live,
      heartbeat: ctl.heartbeat,
    });
    ctl.resolveOffset(String(last));
  };

  /**
   * Idle sources: an events partition of this member that is caught up (nothing past its
   * committed offset but the last commit marker) and gave no record for ROLLUP_IDLE_AFTER (wall
   * clock) tells every rollup partition not to wait for it, until its next ordinary tick. Sent
   * when it goes idle, after every assignment, and again every IDLE_REPEAT_MS while it lasts, so
   * a rollup partition replaying its last hour after a restart meets one. Its own transaction,
   * no offsets: an aborted one is simply sent again next round.
   */
  const sendIdleTicks = async () => {
    if (stopping || !producer || !admin || assigned.size === 0) return;
    const now = Date.now();
    const quiet = [...assigned].filter(
      (p) =>
        now - (lastRecordAt.get(p) ?? now) >= cfg.ROLLUP_IDLE_AFTER &&
        now - (idleSent.get(p) ?? Number.NEGATIVE_INFINITY) >= IDLE_REPEAT_MS,
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
    if (!idle.length || stopping) return;
    const messages = idle.flatMap((p) =>
      Array.from({ length: rollupPartitions }, (_, r) => ({
        partition: r,
        key: null,
        value: JSON.stringify({
          k: 't',
          src: p,
          n: sourcePartitions,
          wm: 0,
          idle: true,
        } satisfies RollupRecord),
        timestamp: String(now),
      })),
    );
    await exclusive(async () => {
      const tx = await txRetry(() => producer!.transaction());
      try {
        await txRetry(() => tx.send({ topic: cfg.TOPIC_ROLLUPS, acks: -1, messages }));
        await txRetry(() => tx.commit());
      } catch (e) {
        await tx.abort().catch(() => {});
        throw e;
      }
    });
    for (const p of idle) idleSent.set(p, now);
    metrics.idleTicks.inc(idle.length);
    log.debug({ partitions: idle }, 'idle source partitions: rollups told not to wait');
  };

  return {
    metrics,
    store,
    get metricsPort() {
      return metricsPort;
    },
    async start() {
      const served = await serveMetrics(
        metrics,
        cfg.PROCESSOR_METRICS_HOST,
        cfg.PROCESSOR_METRICS_PORT,
      );
      metricsServer = served.server;
      metricsPort = served.port;
      log.info({ port: metricsPort }, 'metrics on /metrics');
      await store.migrate();
      await refreshSilences();
      silenceTimer = setInterval(() => {
        refreshSilences().catch((e: unknown) =>
          log.warn({ err: (e as Error).message }, 'silences refresh failed; keeping the last list'),
        );
      }, cfg.SILENCES_REFRESH);
      silenceTimer.unref();
      await ensureTopics(
        kafka,
        [
          { topic: cfg.TOPIC_EVENTS, partitions: cfg.TOPIC_PARTITIONS },
          { topic: cfg.TOPIC_ROLLUPS, partitions: cfg.TOPIC_PARTITIONS },
          { topic: cfg.TOPIC_ALERTS, partitions: cfg.TOPIC_PARTITIONS },
          { topic: cfg.TOPIC_DLQ, partitions: cfg.TOPIC_PARTITIONS },
        ],
        { logger: log },
      );
      admin = kafka.admin();
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({
        topics: [cfg.TOPIC_EVENTS, cfg.TOPIC_ROLLUPS],
      });
      sourcePartitions = meta.topics.find((t) => t.name === cfg.TOPIC_EVENTS)!.partitions.length;
      rollupPartitions = meta.topics.find((t) => t.name === cfg.TOPIC_ROLLUPS)!.partitions.length;
      routeRollup = partitionerFor(rollupPartitions);

      producer = kafka.producer({
        transactionalId: `${cfg.PROCESSOR_GROUP_ID}-${cfg.PROCESSOR_INSTANCE_ID}`,
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      await producer.connect();

      consumer = kafka.consumer({
        groupId: cfg.PROCESSOR_GROUP_ID,
        readUncommitted: false,
        maxBytesPerPartition: cfg.KAFKA_MAX_BYTES_PER_PARTITION,
        maxBytes: Math.max(10_485_760, 8 * cfg.KAFKA_MAX_BYTES_PER_PARTITION),
        sessionTimeout: cfg.PROCESSOR_SESSION_TIMEOUT,
        heartbeatInterval: Math.max(500, Math.floor(cfg.PROCESSOR_SESSION_TIMEOUT / 10)),
        allowAutoTopicCreation: false,
      });
      // Every (re)assignment rebuilds every partition's state from its committed offset: cheap
      // next to getting a half-revoked state right, and the path a crash takes anyway.
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        states.clear();
        assigned = new Set(e.payload.memberAssignment[cfg.TOPIC_EVENTS] ?? []);
        idleSent.clear();
        for (const p of assigned) lastRecordAt.set(p, Date.now());
        log.info({ assignment: e.payload.memberAssignment }, 'joined group');
      });
      await consumer.connect();
      await consumer.subscribe({
        topics: [cfg.TOPIC_EVENTS, cfg.TOPIC_ROLLUPS],
        fromBeginning: true,
      });
      idleTimer = setInterval(
        () => {
          sendIdleTicks().catch((e: unknown) =>
            log.warn({ err: (e as Error).message }, 'idle ticks failed; next round retries'),
          );
        },
        Math.max(1000, Math.floor(cfg.ROLLUP_IDLE_AFTER / 2)),
      );
      idleTimer.unref();
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: cfg.KAFKA_PARTITIONS_CONCURRENTLY,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          try {
            await handleBatch(batch, { resolveOffset, heartbeat, isRunning, isStale });
          } catch (e) {
            // State may hold part of a batch that is not committed: forget it all and replay.
            states.clear();
            if (e instanceof StaleError) return;
            log.error(
              { err: e, topic: batch.topic, partition: batch.partition },
              'batch failed; replaying from the last commit',
            );
            throw e;
          }
        },
      });
    },
    async stop() {
      stopping = true;
      clearInterval(silenceTimer);
      clearInterval(idleTimer);
      await consumer
        ?.disconnect()
        .catch((e: unknown) => log.warn({ err: e }, 'consumer disconnect'));
      await producer?.disconnect().catch(() => {});
      await admin?.disconnect().catch(() => {});
      await store.close().catch(() => {});
      await new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r()));
    },
  };
}
