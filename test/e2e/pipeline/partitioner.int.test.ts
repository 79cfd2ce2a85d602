import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import { TABLES } from '@tillwatch/clickhouse';
import { partitionerFor } from '@tillwatch/stream';
import {
  PARTITIONS,
  alertSig,
  bundleProcessor,
  chClient,
  checkAgainstTruth,
  count,
  createSuiteProcessor,
  createTopics,
  env,
  expectedAlerts,
  makeStream,
  pipelineSuite,
  processorVars,
  produce,
  readAlerts,
  readTopic,
  seeded,
  sleep,
  spawnProcessor,
  streamRecords,
  waitProcessed,
  type ChildProcessor,
} from './harness';

/**
 * A producer with another partitioner. Terminals reach Kafka through two switches: a C switch
 * that produces through Debian's kcat (librdkafka, default partitioner `consistent_random`:
 * CRC32 of the key) and a node/Java switch (kafkajs' DefaultPartitioner: murmur2), both keyed
 * by merchantId. A merchant with terminals behind both lands in two partitions. The processor
 * moves every record found outside its merchant's murmur2 partition there (repartition.ts), so
 * the pane rows and alerts equal those of the same events all placed by murmur2, and counts
 * them (tw_processor_events_mispartitioned_total).
 *
 * The stream is produced live, paced at SPEED seconds of event time per second: a re-routed
 * record reaches its partition one batch commit later, within ALLOWED_LATENESS (10 s of event
 * time) of its neighbours. (A mis-partitioned backlog read in one go is late there: see the
 * processor's README.) kcat stamps records with the wall clock, so does the other switch.
 */
const SPEED = 4;

/** CRC-32 (IEEE), librdkafka's rd_crc32: what its consistent_random partitioner hashes keys with. */
function crc32(s: string): number {
  let c = ~0;
  for (const b of Buffer.from(s, 'utf8')) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function requireKcat(): void {
  const r = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new Error(
      "kcat not found: this suite produces through Debian's kcat (librdkafka's default " +
        'partitioner). Install it: apt-get install -y kcat (.ci/run does).',
    );
}

describe('a producer with another partitioner (kcat, librdkafka default)', () => {
  const suite = pipelineSuite('kcat');
  const { topics, db, kafka } = suite;
  const ch = chClient();
  const stream = makeStream(43, 20_000);
  const murmur = partitionerFor(PARTITIONS);
  const viaKcat = (terminalId: string) => partitionerFor(2)(terminalId) === 0;
  // Idle-source ticks off (wall clock): the sentinels come a few seconds after the stream.
  const processor = createSuiteProcessor(suite, {
    instance: 'kcat',
    logLevel: 'warn',
    extra: { ROLLUP_IDLE_AFTER: '1h' },
  });
  let kcat: ChildProcess | undefined;

  beforeAll(async () => {
    requireKcat();
    await createTopics(kafka, Object.values(topics));
  }, 120_000);
  afterAll(async () => {
    kcat?.kill('SIGTERM');
    await processor.stop();
    await ch.close();
  });

  it('pane rows and alerts equal the murmur2-placed truth; misplaced records counted', async () => {
    const events = stream.events.filter((e) => !e.eventId.startsWith('sentinel-'));
    const values = stream.values.slice(0, events.length);
    const sentinels = stream.events.slice(events.length);
    // what kcat will misplace, and the merchants it splits
    let expectMisplaced = 0;
    const where = new Map<string, Set<number>>();
    for (const e of events) {
      const p = viaKcat(e.terminalId) ? crc32(e.merchantId) % PARTITIONS : murmur(e.merchantId);
      if (viaKcat(e.terminalId) && p !== murmur(e.merchantId)) expectMisplaced++;
      const s = where.get(e.merchantId) ?? new Set<number>();
      s.add(p);
      where.set(e.merchantId, s);
    }
    const split = [...where.values()].filter((s) => s.size > 1).length;

    await processor.start();
    kcat = spawn(
      'kcat',
      ['-P', '-b', env('KAFKA_BROKERS'), '-t', topics.TOPIC_EVENTS, '-K', '\\t', '-D', '\\n'],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let kcatErr = '';
    kcat.stderr!.on('data', (b: Buffer) => (kcatErr += b.toString()));
    const kcatExit = new Promise<number | null>((r) => kcat!.once('exit', (code) => r(code)));
    const other = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await other.connect();

    // live, SPEED × event time, one second of event time at a time
    const t0 = performance.now();
    const e0 = events[0]!.ts;
    let byKcat = 0;
    for (let i = 0; i < events.length;) {
      const sliceEnd = events[i]!.ts - ((events[i]!.ts - e0) % 1000) + 1000;
      const lines: string[] = [];
      const msgs: { key: string; value: string }[] = [];
      for (; i < events.length && events[i]!.ts < sliceEnd; i++) {
        const e = events[i]!;
        if (viaKcat(e.terminalId)) lines.push(`${e.merchantId}\t${values[i]}\n`);
        else msgs.push({ key: e.merchantId, value: values[i]! });
      }
      const due = (sliceEnd - 1000 - e0) / SPEED - (performance.now() - t0);
      if (due > 0) await sleep(due);
      if (lines.length && !kcat.stdin!.write(lines.join('')))
        await new Promise((r) => kcat!.stdin!.once('drain', r));
      byKcat += lines.length;
      if (msgs.length) await other.send({ topic: topics.TOPIC_EVENTS, acks: -1, messages: msgs });
    }
    kcat.stdin!.end();
    const code = await kcatExit;
    await other.disconnect();
    const produceMs = performance.now() - t0;
    expect(code, `kcat failed: ${kcatErr}`).toBe(0);
    expect(kcatErr).not.toMatch(/fail|error/i);
    await waitProcessed(suite);
    // then the sentinels, once every re-routed record is in: they close the last windows
    await produce(
      kafka,
      topics.TOPIC_EVENTS,
      sentinels.map((e, k) => ({
        partition: murmur(e.merchantId),
        key: e.merchantId,
        value: stream.values[events.length + k]!,
        ts: Date.now(),
      })),
    );
    await waitProcessed(suite);

    const truth = await checkAgainstTruth(stream.events, ch, `${db}.${TABLES.panes}`);
    const stored = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.events} FINAL`);
    // every row ever written (no FINAL): none from a partition other than its merchant's
    const placed = await ch
      .query({
        query: `SELECT DISTINCT merchant_id, kafka_partition FROM ${db}.${TABLES.events}`,
        format: 'JSONEachRow',
      })
      .then((r) => r.json<{ merchant_id: string; kafka_partition: number }>());
    const rawRows = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.events}`);
    const dead = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.deadLetters} FINAL`);
    const alerts = await readAlerts(kafka, topics.TOPIC_ALERTS);
    const want = expectedAlerts(stream);
    const metrics = await fetch(`http://127.0.0.1:${processor.metricsPort}/metrics`).then((r) =>
      r.text(),
    );
    const metric = (name: string) =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith(name))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    const misplaced = metric('tw_processor_events_mispartitioned_total');
    const perSource = metrics
      .split('\n')
      .filter((l) => l.startsWith('tw_processor_events_mispartitioned_total{'))
      .join(', ');
    const gotAlerts = new Set(alerts.map(alertSig));
    const wantAlerts = new Set(want.map(alertSig));
    console.log(
      `[kcat] ${stream.events.length} events in ${Math.round(produceMs / 1000)} s (${SPEED}× event time), ` +
        `${byKcat} through kcat, ${events.length - byKcat} through kafkajs; ${split} of ${where.size} merchants split by the two partitioners; ` +
        `mispartitioned ${misplaced} (kcat misplaced ${expectMisplaced}: CRC32 vs murmur2) [${perSource}]; ` +
        `raw events ${stored} (${rawRows} rows before FINAL); pane rows ${truth.rows}: ${truth.checked} held to ReferenceEngine, ` +
        `${truth.mismatched.length} differ, ${truth.missing.length} of ${truth.expectedRows} missing; ` +
        `alerts ${alerts.length} on the topic, ${want.length} expected ` +
        `(${[...wantAlerts].filter((s) => !gotAlerts.has(s)).length} missing, ${[...gotAlerts].filter((s) => !wantAlerts.has(s)).length} extra)`,
    );
    if (truth.mismatched.length)
      console.log('first mismatches', JSON.stringify(truth.mismatched.slice(0, 3)));
    if (truth.missing.length) console.log('first missing', truth.missing.slice(0, 5));

    // kcat really put merchants elsewhere, and they were split
    expect(split).toBeGreaterThan(0);
    expect(expectMisplaced).toBeGreaterThan(0);
    expect(misplaced).toBeGreaterThanOrEqual(expectMisplaced);
    expect(metric('tw_processor_events_total{outcome="rerouted"}')).toBe(misplaced);
    // every event stored once, in its merchant's murmur2 partition
    expect(dead).toBe(0);
    expect(stored).toBe(stream.events.length);
    expect(placed.filter((r) => r.kafka_partition !== murmur(r.merchant_id))).toEqual([]);
    // the same windows as murmur2-placed input
    expect(truth.rows).toBeGreaterThan(0);
    expect(truth.mismatched).toEqual([]);
    expect(truth.missing).toEqual([]);
    expect(want.length).toBeGreaterThan(0);
    expect([...gotAlerts].sort()).toEqual([...wantAlerts].sort());
  });
});

/**
 * Exactly once across kill -9 with misplaced input: half the terminals' records in librdkafka's
 * consistent_random partition (CRC32 of the key, what kcat does above; produced here by
 * partition number, for speed), the processor SIGKILLed 3 times while it copies them. Every
 * misplaced record has exactly one committed copy, and every event is in events_raw exactly
 * once, in its merchant's murmur2 partition. (The stream is a backlog: its copies arrive behind
 * their partitions' time and are counted late, so the window figures are not held here.)
 */
describe('misplaced records across kill -9', () => {
  const suite = pipelineSuite('kcatkill');
  const { topics, db, groupId, kafka } = suite;
  const ch = chClient();
  const stream = makeStream(53, 100_000);
  const murmur = partitionerFor(PARTITIONS);
  const viaRdkafka = (terminalId: string) => partitionerFor(2)(terminalId) === 0;
  const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'tw-kcatkill-')), 'processor.log');
  let bundle = '';
  let child: ChildProcessor | undefined;
  const vars = () =>
    processorVars(suite, {
      instance: 'kcatkill',
      logLevel: 'info',
      extra: { PROCESSOR_SESSION_TIMEOUT: '6s', ROLLUP_IDLE_AFTER: '1h' },
    });

  beforeAll(async () => {
    await createTopics(kafka, Object.values(topics));
    bundle = await bundleProcessor();
  }, 120_000);
  afterAll(async () => {
    await child?.kill('SIGTERM');
    await ch.close();
  });

  it('one committed copy per misplaced record, every event stored once', async () => {
    const records = streamRecords(stream).map((r, i) => {
      const e = stream.events[i]!;
      return e.eventId.startsWith('sentinel-') || !viaRdkafka(e.terminalId)
        ? r
        : { ...r, partition: crc32(e.merchantId) % PARTITIONS };
    });
    const misplaced = new Set<string>();
    const rand = seeded(16);
    const producing = produce(kafka, topics.TOPIC_EVENTS, records, 1000);
    const kills: string[] = [];
    for (let k = 0; k < 3; k++) {
      child = await spawnProcessor(bundle, vars(), logFile);
      const wait = 4000 + Math.floor(rand() * 6000);
      await sleep(wait);
      expect(child.exited, `processor died on its own; see ${logFile}`).toBe(false);
      await child.kill('SIGKILL');
      kills.push(`${wait} ms`);
    }
    await producing;
    child = await spawnProcessor(bundle, vars(), logFile);
    await waitProcessed(suite, {
      timeoutMs: 600_000,
      alive: () => {
        if (child?.exited) throw new Error(`processor died; see ${logFile}`);
      },
    });
    // the originals' places, by offset: what the copies must name
    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topics.TOPIC_EVENTS] });
    await admin.disconnect();
    const all = await readTopic(kafka, topics.TOPIC_EVENTS, { timeoutMs: 120_000 });
    const copies = all.filter((m) => m.headers['tillwatch-rerouted-from'] !== undefined);
    const from = copies.map((m) => m.headers['tillwatch-rerouted-from']!);
    for (const r of records) {
      const merchant = r.key!;
      if (r.partition !== murmur(merchant)) misplaced.add(`${merchant}|${r.value}`);
    }
    const copied = new Set(copies.map((m) => `${m.key}|${m.value!.toString()}`));
    const stored = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.events} FINAL`);
    // every row ever written (no FINAL): none from a partition other than its merchant's
    const placed = await ch
      .query({
        query: `SELECT DISTINCT merchant_id, kafka_partition FROM ${db}.${TABLES.events}`,
        format: 'JSONEachRow',
      })
      .then((r) => r.json<{ merchant_id: string; kafka_partition: number }>());
    const ids = await count(
      ch,
      `SELECT uniqExact(event_id) AS n FROM ${db}.${TABLES.events} FINAL`,
    );
    const dead = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.deadLetters} FINAL`);
    console.log(
      `[kcat kill] ${stream.events.length} events, ${misplaced.size} in CRC32's partition, not murmur2's; ` +
        `SIGKILLs after ${kills.join(', ')} (log: ${logFile}); committed copies ${copies.length} ` +
        `(${new Set(from).size} distinct sources), of ${misplaced.size} misplaced; raw events ${stored} ` +
        `(${ids} distinct ids); committed offsets ${JSON.stringify(committed?.partitions)}`,
    );
    expect(kills).toHaveLength(3);
    expect(misplaced.size).toBeGreaterThan(0);
    // each misplaced record copied once, nothing else copied
    expect(copies.length).toBe(misplaced.size);
    expect(new Set(from).size).toBe(copies.length);
    expect([...misplaced].filter((m) => !copied.has(m))).toEqual([]);
    expect(dead).toBe(0);
    expect(stored).toBe(stream.events.length);
    expect(ids).toBe(stream.events.length);
    expect(placed.filter((r) => r.kafka_partition !== murmur(r.merchant_id))).toEqual([]);
  });
});
