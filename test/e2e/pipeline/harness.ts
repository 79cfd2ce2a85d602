/**
 * Shared parts of the pipeline suites: real Kafka and ClickHouse, each suite's own topics and
 * database, the processor under test. Streams (streams.ts), the ground truth (truth.ts) and the
 * processor as a child process (children.ts) are re-exported from here.
 */
import { randomUUID } from 'node:crypto';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { DAY_PARTITIONED_TABLES } from '@tillwatch/clickhouse';
import { DEFAULT_CODE_TABLE, eventTimeToMs, type Alert } from '@tillwatch/contracts';
import { createKafka, type Kafka } from '@tillwatch/kafka';
import {
  createProcessor,
  loadProcessorConfig,
  type Processor,
  type ProcessorEnv,
} from '@tillwatch/processor';
import { PARTITIONS } from './streams';
import type { ChaosRow } from './chaos';
import type { Truth } from './truth';

export * from './streams';
export * from './truth';
export * from './children';
export { reportChaos, type ChaosRow } from './chaos';

/**
 * RETENTION that drops nothing: every table retention knows of, so a table added to it (as
 * pane_counts was) is kept too: the streams' event time may lie further back than any retention.
 */
export const KEEP_EVERYTHING = DAY_PARTITIONED_TABLES.map((t) => `${t}=off`).join(',');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function env(name: 'KAFKA_BROKERS' | 'CLICKHOUSE_URL'): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run through vitest globalSetup`);
  return v;
}

export async function createTopics(kafka: Kafka, topics: string[], partitions = PARTITIONS) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    // Record timestamps are event time (March 2026 in the simulation), which may lie further in
    // the past than the broker's 7-day retention: without retention.ms=-1 the broker deletes the
    // stream while the test still needs it for replays.
    topics: topics.map((topic) => ({
      topic,
      numPartitions: partitions,
      replicationFactor: 1,
      configEntries: [{ name: 'retention.ms', value: '-1' }],
    })),
  });
  await admin.disconnect();
}

/** Produce values (optionally interleaved with extra raw records) in order, record timestamp = event time. */
export async function produce(
  kafka: Kafka,
  topic: string,
  records: { partition: number; key: string | null; value: Buffer | string | null; ts: number }[],
  chunk = 2000,
) {
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
  await producer.connect();
  for (let i = 0; i < records.length; i += chunk) {
    await producer.send({
      topic,
      acks: -1,
      messages: records.slice(i, i + chunk).map((r) => ({
        partition: r.partition,
        key: r.key,
        value: r.value,
        timestamp: String(r.ts),
      })),
    });
  }
  await producer.disconnect();
}

/**
 * Whether any record a read-committed consumer would get lies at or past `from` (per topic and
 * partition): what is left past a group's committed offsets may be transaction markers only.
 * Two processors' transactions open at once on a partition (idle ticks from each) end it with
 * two markers in a row, which no consumer ever gets or commits past.
 */
async function recordsPast(kafka: Kafka, from: Map<string, Map<number, number>>): Promise<boolean> {
  const c = kafka.consumer({ groupId: `peek-${randomUUID()}`, maxWaitTimeInMs: 100 });
  let found = false;
  let seeked = false;
  // Fetches completed since the seeks: "nothing past" is a verdict only once the peek has read
  // from there. (It was a fixed 3 s from run(): a group join slower than that under a loaded
  // CI machine read nothing and answered "nothing past", so the caller took a group still
  // working for one caught up.)
  let fetched = 0;
  c.on(c.events.FETCH, () => {
    if (seeked) fetched++;
  });
  try {
    await c.connect();
    await c.subscribe({ topics: [...from.keys()], fromBeginning: false });
    await c.run({
      eachBatch: async ({ batch }) => {
        const at = from.get(batch.topic)?.get(batch.partition) ?? 0;
        if (seeked && batch.messages.some((m) => Number(m.offset) >= at)) found = true;
      },
    });
    for (const [topic, parts] of from)
      for (const [partition, offset] of parts) c.seek({ topic, partition, offset: String(offset) });
    seeked = true;
    const t0 = Date.now();
    // the first fetch after the seeks may have started before them: three, and at least 3 s
    while (!found && (fetched < 3 || Date.now() - t0 < 3000)) {
      if (Date.now() - t0 > 60_000)
        throw new Error(`the peek consumer made ${fetched} fetches in 60 s: no verdict`);
      await sleep(100);
    }
  } finally {
    await c.disconnect();
  }
  return found;
}

/**
 * Wait until the group has committed up to the end of every partition of `topics`, twice in a
 * row: the end less one transaction marker, or, when the committed offsets stand still a few
 * gaps short, nothing but markers past them (recordsPast).
 */
export async function waitCaughtUp(
  kafka: Kafka,
  groupId: string,
  topics: string[],
  opts: { timeoutMs?: number; alive?: () => void } = {},
) {
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  let stable = 0;
  let last = '';
  try {
    /** where every partition stands (topic:partition:end:committed;...), and how far behind */
    const poll = async () => {
      let behind = 0;
      let sig = '';
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const e of ends) {
          const c = committed?.partitions.find((p) => p.partition === e.partition);
          const at = c ? Number(c.offset) : -1;
          // Transaction markers take an offset: the end is caught up within one marker.
          const gap = Number(e.high) - Math.max(at, 0);
          if (at < 0 ? Number(e.high) > 0 : gap > 1) behind += Math.max(gap, 1);
          sig += `${topic}:${e.partition}:${e.high}:${at};`;
        }
      }
      return { behind, sig };
    };
    while (Date.now() < deadline) {
      opts.alive?.();
      const { behind, sig } = await poll();
      if (sig === last) stable++;
      else stable = 0;
      if (behind === 0 && stable >= 2) return;
      // Standing still short of the ends: caught up if nothing past the committed offsets is a
      // record, and nothing moved while the peek looked.
      if (
        behind > 0 &&
        stable === 3 &&
        !(await recordsPast(kafka, committedAt(sig))) &&
        (await poll()).sig === sig
      ) {
        console.log(
          `[caught up] ${behind} offsets short of the ends, none of them a record: ${sig}`,
        );
        return;
      }
      last = sig;
      await sleep(1000);
    }
    // which partitions hung, and where: topic:partition:end:committed
    const stuck = last
      .split(';')
      .filter((x) => {
        const [, , high, at] = x.split(':');
        return x && (Number(at) < 0 ? Number(high) > 0 : Number(high) - Number(at) > 1);
      })
      .join(' ');
    throw new Error(`group ${groupId} did not catch up on ${topics.join(', ')}: ${stuck}`);
  } finally {
    await admin.disconnect();
  }
}

/** topic -> partition -> committed offset, from waitCaughtUp's signature */
function committedAt(sig: string): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const x of sig.split(';')) {
    if (!x) continue;
    const [topic, partition, , at] = x.split(':');
    const m = out.get(topic!) ?? new Map<number, number>();
    m.set(Number(partition), Math.max(0, Number(at)));
    out.set(topic!, m);
  }
  return out;
}

export function chClient(): ClickHouseClient {
  return createClient({
    url: env('CLICKHOUSE_URL'),
    request_timeout: 120_000,
    // The checks block the event loop for seconds: a kept-alive socket would be closed under us.
    keep_alive: { enabled: false },
  });
}

export async function readTopic(
  kafka: Kafka,
  topic: string,
  opts: { timeoutMs?: number; idleMs?: number } = {},
): Promise<{ key: string | null; value: Buffer | null; headers: Record<string, string> }[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = new Map(ends.map((e) => [e.partition, Number(e.high)]));
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const out: { key: string | null; value: Buffer | null; headers: Record<string, string> }[] = [];
  const reached = new Map<number, number>();
  const done = () => [...want].every(([p, h]) => h === 0 || (reached.get(p) ?? 0) >= h - 1);
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.push({ key: message.key?.toString() ?? null, value: message.value, headers });
      reached.set(partition, Number(message.offset) + 1);
    },
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let lastSize = -1;
  let idleSince = Date.now();
  while (Date.now() < deadline) {
    await sleep(300);
    if (out.length !== lastSize) {
      lastSize = out.length;
      idleSince = Date.now();
    }
    // Read-committed skips transaction markers, so "reached" can stop one short of the end.
    if (done() && Date.now() - idleSince > (opts.idleMs ?? 1500)) break;
    if (Date.now() - idleSince > 5000) break;
  }
  await consumer.disconnect();
  return out;
}

export function newKafka(clientId: string): Kafka {
  return createKafka({ brokers: env('KAFKA_BROKERS'), clientId });
}

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** The four topics the processor reads and writes, as its TOPIC_* variables. */
export interface PipelineTopics {
  TOPIC_EVENTS: string;
  TOPIC_DLQ: string;
  TOPIC_ALERTS: string;
  TOPIC_ROLLUPS: string;
}

/**
 * One suite's own names on the shared broker and server, so suites never see each other's data:
 * topics `<prefix>.<id>.events|dlq|alerts|rollups`, database `<prefix>_<id>`, consumer group
 * and Kafka client id `<prefix>-<id>`.
 */
export interface PipelineSuite {
  id: string;
  topics: PipelineTopics;
  db: string;
  groupId: string;
  kafka: Kafka;
}

export function pipelineSuite(prefix: string): PipelineSuite {
  const id = uniqueSuffix();
  return {
    id,
    topics: {
      TOPIC_EVENTS: `${prefix}.${id}.events`,
      TOPIC_DLQ: `${prefix}.${id}.dlq`,
      TOPIC_ALERTS: `${prefix}.${id}.alerts`,
      TOPIC_ROLLUPS: `${prefix}.${id}.rollups`,
    },
    db: `${prefix}_${id}`,
    groupId: `${prefix}-${id}`,
    kafka: newKafka(`${prefix}-${id}`),
  };
}

export interface ProcessorVarsOptions {
  /** PROCESSOR_INSTANCE_ID: two live instances must differ; a restart keeps it to fence the old one */
  instance: string;
  logLevel: 'error' | 'warn' | 'info';
  /**
   * Where the processor writes. Default: the shared server (CLICKHOUSE_URL) and the suite's own
   * database; a suite with a server of its own names it (no database: the URL's default).
   */
  clickhouse?: { url: string; database?: string };
  /** Further variables of processorConfigSchema, e.g. MAX_EVENT_BYTES. */
  extra?: Record<string, string>;
}

/**
 * The processor's environment for a suite: its topics, group, instance, database, and a free
 * metrics port (0). Plain strings, as a child process gets them.
 */
export function processorVars(
  suite: PipelineSuite,
  opts: ProcessorVarsOptions,
): Record<string, string> {
  const clickhouse = opts.clickhouse ?? { url: env('CLICKHOUSE_URL'), database: suite.db };
  return {
    KAFKA_BROKERS: env('KAFKA_BROKERS'),
    CLICKHOUSE_URL: clickhouse.url,
    ...(clickhouse.database === undefined ? {} : { CLICKHOUSE_DATABASE: clickhouse.database }),
    ...suite.topics,
    PROCESSOR_GROUP_ID: suite.groupId,
    PROCESSOR_INSTANCE_ID: opts.instance,
    PROCESSOR_METRICS_PORT: '0',
    LOG_LEVEL: opts.logLevel,
    // The suites' streams are in March 2026: retention would drop them as soon as a processor
    // (re)starts. operations.int.test.ts turns it on where it is the subject.
    RETENTION: KEEP_EVERYTHING,
    ...opts.extra,
  };
}

/** processorVars() read through the processor's own schema, as it reads its environment. */
export function processorConfig(suite: PipelineSuite, opts: ProcessorVarsOptions): ProcessorEnv {
  return loadProcessorConfig(processorVars(suite, opts));
}

/** An in-process processor for the suite, not yet started (the test starts it, afterAll stops it). */
export function createSuiteProcessor(suite: PipelineSuite, opts: ProcessorVarsOptions): Processor {
  return createProcessor({ config: processorConfig(suite, opts) });
}

/**
 * Wait until the suite's group has worked through everything on the events topic and the
 * rollups it wrote itself (see waitCaughtUp).
 */
export function waitProcessed(
  suite: PipelineSuite,
  opts: { timeoutMs?: number; alive?: () => void } = {},
): Promise<void> {
  return waitCaughtUp(
    suite.kafka,
    suite.groupId,
    [suite.topics.TOPIC_EVENTS, suite.topics.TOPIC_ROLLUPS],
    opts,
  );
}

/** Events of `topic` the group has committed, summed over partitions (none yet: 0). */
export async function committedCount(
  admin: ReturnType<Kafka['admin']>,
  groupId: string,
  topic: string,
): Promise<number> {
  const [c] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (c?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

/** Every alert transition on the topic, parsed (see readTopic for when reading stops). */
export async function readAlerts(kafka: Kafka, topic: string): Promise<Alert[]> {
  return (await readTopic(kafka, topic)).map((m) => JSON.parse(m.value!.toString()) as Alert);
}

/**
 * missing / doubled of a pipeline run: pane rows against the truth, raw events against the
 * stream. Wrong window sums are left out: each follows from a wrong or missing pane row that is
 * already counted.
 */
export function pipelineLosses(
  truth: Pick<Truth, 'missing' | 'mismatched'>,
  storedEvents: number,
  events: number,
): Pick<ChaosRow, 'missing' | 'doubled'> {
  return {
    missing: truth.missing.length + Math.max(0, events - storedEvents),
    doubled:
      truth.mismatched.filter((m) => m.what !== 'window').length +
      Math.max(0, storedEvents - events),
  };
}

/** One alert transition: an episode's id, its status and when. */
export const alertSig = (a: Alert): string => `${a.alertId}|${a.status}|${a.ts}`;

export { eventTimeToMs, DEFAULT_CODE_TABLE };
