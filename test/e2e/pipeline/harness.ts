/**
 * Shared parts of the pipeline suites: simulated streams on real Kafka, the processor under
 * test, and the ground truth. The ground truth runs ReferenceEngine (the executable definition of
 * the window semantics) over the same events in the same order, stepping pane boundaries as the
 * processor does, and holds every window-stats row in ClickHouse to it.
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import {
  DEFAULT_CODE_TABLE,
  eventTimeToMs,
  validateEvent,
  type Alert,
  type TerminalEvent,
} from '@tillwatch/contracts';
import {
  DEFAULT_ENGINE_CONFIG,
  METRIC_COUNT,
  ReferenceEngine,
  SCOPE,
  createEngine,
  type ScopeName,
  type WindowEngine,
} from '@tillwatch/core';
import { createKafka, type Kafka } from '@tillwatch/kafka';
import {
  STAT_COUNTERS,
  createProcessor,
  loadProcessorConfig,
  type Processor,
  type ProcessorEnv,
} from '@tillwatch/processor';
import { LocalTopology, partitionerFor } from '@tillwatch/stream';
import { createSimulation, type IncidentLabel, type Simulation } from '@tillwatch/simulator';

export const PARTITIONS = 4;
/** RETENTION that drops nothing */
export const KEEP_EVERYTHING = [
  'events_raw',
  'window_stats',
  'alerts',
  'alert_actions',
  'dead_letters',
  'notifier_deliveries',
  'notifier_attempts',
]
  .map((t) => `${t}=off`)
  .join(',');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function env(name: 'KAFKA_BROKERS' | 'CLICKHOUSE_URL'): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run through vitest globalSetup`);
  return v;
}

export interface Stream {
  events: TerminalEvent[];
  /** partition of each event (same index), by the Java client's murmur2 of merchantId */
  partitions: number[];
  /** serialised values as produced */
  values: string[];
  /** the simulation's incidents */
  labels: readonly IncidentLabel[];
}

/**
 * `count` simulated events (daytime, every incident scenario) plus one sentinel heartbeat per
 * partition 70 min after the last event: it moves every partition's watermark past the end of
 * every window holding real events, so every window the stream touches gets closed.
 */
export function makeStream(seed: number, count: number, partitions = PARTITIONS): Stream {
  const start = Date.UTC(2026, 2, 2, 1, 0, 0);
  // `all` spreads its incidents over the run; three more start 8 min in, so that even a short
  // stream raises alerts (card testing, a terminal fault, failed-but-charged).
  const early = (scenario: 'card-testing' | 'terminal-fault' | 'failed-but-charged') => ({
    scenario,
    start: start + 8 * 60_000,
    durationMs: 15 * 60_000,
  });
  const sim = createSimulation({
    seed,
    scenario: 'all',
    start,
    durationMs: 6 * 3_600_000,
    incidents: [early('card-testing'), early('terminal-fault'), early('failed-but-charged')],
  });
  return streamOf(sim, count, partitions);
}

/** Events of a simulation (at most `count`, then one sentinel per partition), partitioned by merchant. */
export function streamOf(sim: Simulation, count: number, partitions = PARTITIONS): Stream {
  const route = partitionerFor(partitions);
  const events: TerminalEvent[] = [];
  const parts: number[] = [];
  const values: string[] = [];
  let maxTs = 0;
  for (const raw of sim.events()) {
    const text = JSON.stringify(raw);
    const r = validateEvent(JSON.parse(text));
    if (!r.ok) throw new Error(`simulator produced an invalid event: ${r.reason}`);
    events.push(r.event);
    values.push(text);
    parts.push(route(r.event.merchantId));
    maxTs = Math.max(maxTs, r.event.ts);
    if (events.length >= count) break;
  }
  const sentinelTs = maxTs + 70 * 60_000;
  for (let p = 0; p < partitions; p++) {
    const hb = {
      type: 'heartbeat' as const,
      eventId: `sentinel-${p}`,
      ts: sentinelTs,
      terminalId: `SENTINEL-T${p}`,
      merchantId: `SENTINEL-M${p}`,
      region: 'SENTINEL',
    };
    events.push(hb);
    values.push(JSON.stringify(hb));
    parts.push(p);
  }
  return { events, partitions: parts, values, labels: sim.labels };
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

export function streamRecords(s: Stream) {
  return s.events.map((e, i) => ({
    partition: s.partitions[i]!,
    key: e.merchantId,
    value: s.values[i]!,
    ts: e.ts,
  }));
}

/** Wait until the group has committed up to the end of every partition of `topics`, twice in a row. */
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
    while (Date.now() < deadline) {
      opts.alive?.();
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
      if (behind === 0 && sig === last) {
        if (++stable >= 2) return;
      } else stable = 0;
      last = sig;
      await sleep(1000);
    }
    throw new Error(`group ${groupId} did not catch up on ${topics.join(', ')}`);
  } finally {
    await admin.disconnect();
  }
}

export function chClient(): ClickHouseClient {
  return createClient({
    url: env('CLICKHOUSE_URL'),
    request_timeout: 120_000,
    // The checks block the event loop for seconds: a kept-alive socket would be closed under us.
    keep_alive: { enabled: false },
  });
}

export interface StatRowOut {
  scope: string;
  key: string;
  window: string;
  ts: number;
  counts: number[];
}

export async function count(ch: ClickHouseClient, sql: string): Promise<number> {
  const rs = await ch.query({ query: sql, format: 'JSONEachRow' });
  const [row] = await rs.json<{ n: string | number }>();
  return Number(row?.n ?? 0);
}

const WINDOW_LABEL: Record<string, number> = { '1m': 0, '5m': 1, '15m': 2, '1h': 3 };

export interface Truth {
  rows: number;
  checked: number;
  mismatched: { row: StatRowOut; expected: number[] }[];
  missing: string[];
  expectedRows: number;
  byScope: Record<string, number>;
}

/**
 * Hold ClickHouse's rows to ReferenceEngine over the same events (global order): every row's
 * 22 counters must equal the reference's window at that end, and every (scope, key, window, end)
 * whose closed pane held an event of the key must have a row (terminal, merchant, region and
 * issuer; firmware keys depend on a terminal's remembered version and are held by the counts).
 * Rows stream from ClickHouse in end order (FINAL: one row per identity), so 2M rows cost no
 * more memory than the reference engine itself.
 */
export async function checkAgainstTruth(
  events: readonly TerminalEvent[],
  ch: ClickHouseClient,
  table: string,
  oracle: 'reference' | 'fast' = 'reference',
): Promise<Truth> {
  const cfg = DEFAULT_ENGINE_CONFIG;
  const labels = ['1m', '5m', '15m', '1h'];
  const expected = new Set<string>();
  const p0 = Math.min(...cfg.panesMs);
  for (const e of events) {
    // The sentinels are the last events: their own panes never close.
    if (e.type === 'settlement' || e.eventId.startsWith('sentinel-')) continue;
    const keys: [ScopeName, string][] = [
      ['terminal', e.terminalId],
      ['merchant', e.merchantId],
      ['region', e.region],
    ];
    if (e.type === 'auth' && e.issuerId !== undefined) keys.push(['issuer', e.issuerId]);
    cfg.panesMs.forEach((pane, i) => {
      const end = (Math.floor(e.ts / pane) + 1) * pane;
      for (const [sc, k] of keys) expected.add(`${sc}|${k}|${labels[i]}|${end}`);
    });
  }
  const expectedRows = expected.size;

  // ReferenceEngine re-scans every pending settlement on each advance: ~O(events x pending),
  // minutes at 200k events. The fast engine is held equal to it by core's property tests, so
  // long streams may use it as the oracle (the test says which it used).
  const ref: WindowEngine = oracle === 'reference' ? new ReferenceEngine({}) : createEngine({});
  const out = new Float64Array(METRIC_COUNT);
  const truth: Truth = {
    rows: 0,
    checked: 0,
    mismatched: [],
    missing: [],
    expectedRows,
    byScope: {},
  };
  let next = Number.NaN;
  let i = 0;
  /** Move the reference to boundary b as the processor closes it: just before the first event whose time (less the lateness) reaches b. False if the stream never closes b. */
  const reach = (b: number): boolean => {
    while (i < events.length) {
      const e = events[i]!;
      if (Number.isNaN(next)) next = (Math.floor(e.ts / p0) + 1) * p0;
      if (next <= e.ts - cfg.allowedLatenessMs) {
        if (next > b) return false;
        ref.advance(next);
        const hit = next === b;
        next += p0;
        if (hit) return true;
        continue;
      }
      ref.ingest(e);
      i++;
    }
    return false;
  };
  const cols = ['failures', 'faults', ...STAT_COUNTERS.map(([c]) => c)];
  const rs = await ch.query({
    query: `SELECT scope, key, window, toUInt32(ts) AS t, ${cols.join(', ')} FROM ${table} FINAL ORDER BY t`,
    format: 'JSONEachRow',
  });
  let at = Number.NaN;
  let closed = false;
  for await (const batch of rs.stream()) {
    for (const raw of batch) {
      const r = raw.json<Record<string, string | number>>();
      const row: StatRowOut = {
        scope: r.scope as string,
        key: r.key as string,
        window: r.window as string,
        ts: Number(r.t) * 1000,
        counts: cols.map((c) => Number(r[c])),
      };
      truth.rows++;
      truth.byScope[row.scope] = (truth.byScope[row.scope] ?? 0) + 1;
      expected.delete(`${row.scope}|${row.key}|${row.window}|${row.ts}`);
      if (row.ts !== at) {
        at = row.ts;
        closed = reach(row.ts);
      }
      if (!closed) {
        // A row for a boundary the stream never closes cannot be right.
        truth.mismatched.push({ row, expected: [] });
        continue;
      }
      if (!ref.read(SCOPE[row.scope as ScopeName], row.key, WINDOW_LABEL[row.window]!, out))
        out.fill(0);
      truth.checked++;
      // failures, faults, then STAT_COUNTERS' columns, as selected
      const failures = out[0]! - out[1]!;
      const want = [
        failures,
        failures - out[2]!,
        ...STAT_COUNTERS.map(([, metric]) => out[metric]!),
      ];
      if (row.counts.some((v, k) => v !== want[k])) {
        truth.mismatched.push({ row, expected: truth.mismatched.length < 100 ? want : [] });
      }
    }
  }
  truth.missing = [...expected];
  return truth;
}

/**
 * The alert transitions the processor must publish for a stream: the same topology in one
 * process (LocalTopology), each event in the partition the stream put it in (by merchant, as
 * the producer does). No partition is ever reported idle: the suites' streams keep every
 * partition busy until the sentinels, which jump 70 min ahead.
 */
export function expectedAlerts(s: Stream, partitions = PARTITIONS): Alert[] {
  const out: Alert[] = [];
  const topology = new LocalTopology(
    { alert: (a) => out.push(a) },
    { partitions, idleAfterMs: Number.POSITIVE_INFINITY },
  );
  s.events.forEach((e, i) => {
    if (topology.partitionOf(e) !== s.partitions[i])
      throw new Error(`event ${e.eventId} is in partition ${s.partitions[i]}, not its merchant's`);
    topology.push(e);
  });
  return out;
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

/** One alert transition: an episode's id, its status and when. */
export const alertSig = (a: Alert): string => `${a.alertId}|${a.status}|${a.ts}`;

export { eventTimeToMs, DEFAULT_CODE_TABLE };

/** Bundle the processor once (see services/processor/scripts/bundle.mjs); returns the file. */
export async function bundleProcessor(): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'tw-processor-')), 'processor.mjs');
  const script = new URL('../../../services/processor/scripts/bundle.mjs', import.meta.url);
  execFileSync(process.execPath, [script.pathname, out], { stdio: 'pipe' });
  return out;
}

export interface ChildProcessor {
  readonly pid: number;
  readonly exited: boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The processor as a real child process (its own pid, killable with SIGKILL), logs to `logFile`. */
export async function spawnProcessor(
  bundle: string,
  envVars: Record<string, string>,
  logFile: string,
): Promise<ChildProcessor> {
  const { spawn } = await import('node:child_process');
  const { openSync } = await import('node:fs');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [bundle], {
    env: { PATH: process.env.PATH ?? '', ...envVars },
    stdio: ['ignore', fd, fd],
  });
  let exited = false;
  const done = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  return {
    pid: child.pid!,
    get exited() {
      return exited;
    },
    async kill(signal = 'SIGKILL') {
      if (!exited) child.kill(signal);
      await done;
    },
  };
}

/** Small seeded generator (mulberry32) for reproducible kill points. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Alert transitions of one episode seen more than once, or an episode that fired twice. */
export function duplicatedEpisodes(alerts: readonly Alert[]): string[] {
  const seen = new Set<string>();
  const firstFiring = new Map<string, number>();
  const problems: string[] = [];
  for (const a of alerts) {
    const sig = `${a.alertId}|${a.status}|${a.ts}`;
    if (seen.has(sig)) problems.push(`transition twice: ${sig}`);
    seen.add(sig);
    if (a.status === 'firing' && a.ts === a.firstSeen) {
      const n = (firstFiring.get(a.alertId) ?? 0) + 1;
      firstFiring.set(a.alertId, n);
      if (n > 1) problems.push(`episode fired twice: ${a.alertId}`);
    }
  }
  // Two episodes of one rule/scope/key open at once would be a duplicate under another id.
  const open = new Map<string, string>();
  const sorted = [...alerts].sort((x, y) => Date.parse(x.ts) - Date.parse(y.ts));
  for (const a of sorted) {
    const k = `${a.rule}|${a.scope}|${a.key}`;
    if (a.status === 'firing') {
      const cur = open.get(k);
      if (cur !== undefined && cur !== a.alertId) problems.push(`overlapping episodes of ${k}`);
      open.set(k, a.alertId);
    } else if (open.get(k) === a.alertId) open.delete(k);
  }
  return problems;
}
