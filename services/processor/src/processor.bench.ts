/**
 * `npm run bench -w @tillwatch/processor`: on one pre-filled topic of 1M simulated events,
 *   1. a bare kafkajs consumer that only reads (the ceiling),
 *   2. the processor end to end (decode, Monitor per partition, ClickHouse writes, Kafka
 *      transactions), from start to every offset committed,
 *   3. the Kafka Streams peer (test/peers/kafka-streams, issue 14: the same per-terminal and
 *      per-merchant windows, exactly-once) as a child process on the same topic, from its
 *      start to every offset committed (`--no-peer` skips it; without Java or Maven its row
 *      says why it did not run),
 * and their ratios; then p50/p99 from produce to alert on pos.alerts with events produced live at
 * half the processor's measured rate. Prints tables; asserts nothing about time.
 *
 * After the throughput run, sizing figures from that same run (README "Sizing"): per ClickHouse
 * table the processor wrote, its rows and bytes in system.parts (active parts, after OPTIMIZE
 * TABLE ... FINAL) per input event and per terminal-day of the simulated stream; and the
 * processor's memory (heap and RSS after a forced GC, less a baseline taken the same way before
 * the processor started) per terminal in the stream.
 *
 * Kafka and ClickHouse: KAFKA_BROKERS / CLICKHOUSE_URL if set, else started for the run
 * (@tillwatch/testkit: Docker if present, else deploy/local).
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { ident, sql } from '@tillwatch/clickhouse';
import { createKafka } from '@tillwatch/kafka';
import { createSimulation } from '@tillwatch/simulator';
import { Partitioners } from 'kafkajs';
import {
  alertLatencies,
  collectAlerts,
  latencyQuantiles,
  liveStream,
  type EventMessage,
} from './under-load';
import { allocationMeter } from '@tillwatch/core/alloc-meter';
import { startServices } from '@tillwatch/testkit/services';
import { loadProcessorConfig } from './config';
import { createProcessor } from './processor';

const args = process.argv.slice(2);
const EVENTS = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
/** `--throughput-only`: skip the 90 s latency run (profiling, quick comparisons) */
const LATENCY = !args.includes('--throughput-only');
/** `--no-peer`: skip the Kafka Streams peer's run */
const PEER = !args.includes('--no-peer');
const PEER_SCRIPT = fileURLToPath(
  new URL('../../../test/peers/kafka-streams/run.mjs', import.meta.url),
);
/** `NAME=value`: processor settings for both runs (e.g. KAFKA_MAX_BYTES_PER_PARTITION=4194304) */
const overrides = Object.fromEntries(
  args
    .filter((a) => /^[A-Z_]+=/.test(a))
    .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
);
const PARTITIONS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
// A full GC before each memory reading, so both readings are live data and not garbage waiting
// for a collection (the bench runs without --expose-gc; this turns it on for a new context).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const liveMemory = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss, external: m.external };
};

async function main() {
  const services = await startServices({ log });
  const brokers = services.env.KAFKA_BROKERS!;
  const chUrl = services.env.CLICKHOUSE_URL!;
  const id = Date.now().toString(36);
  const kafka = createKafka({ brokers, clientId: `bench-${id}` });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic = (s: string) => `bench.${id}.${s}`;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        'events',
        'dlq',
        'alerts',
        'rollups',
        'live',
        'live-dlq',
        'live-alerts',
        'live-rollups',
      ].map((s) => ({
        topic: topic(s),
        numPartitions: PARTITIONS,
        replicationFactor: 1,
        configEntries: [{ name: 'retention.ms', value: '-1' }],
      })),
    });

    // ---- pre-fill ------------------------------------------------------------------------
    const t0 = performance.now();
    const sim = createSimulation({
      seed: 1,
      scenario: 'all',
      start: Date.UTC(2026, 2, 2, 0, 0, 0),
      durationMs: 24 * 3_600_000,
    });
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    let batch: EventMessage[] = [];
    let n = 0;
    // What the stream holds, for the sizing table: terminals, merchants, event time, bytes.
    const terminals = new Set<string>();
    const merchants = new Set<string>();
    const types = new Map<string, number>();
    let tsMin = Infinity;
    let tsMax = -Infinity;
    let valueBytes = 0;
    const perHour = new Map<number, number>();
    for (const ev of sim.events()) {
      const ts = typeof ev.ts === 'number' ? ev.ts : Date.parse(ev.ts);
      const value = JSON.stringify(ev);
      batch.push({ key: ev.merchantId, value, timestamp: String(ts) });
      terminals.add(ev.terminalId);
      merchants.add(ev.merchantId);
      types.set(ev.type, (types.get(ev.type) ?? 0) + 1);
      if (ts < tsMin) tsMin = ts;
      if (ts > tsMax) tsMax = ts;
      valueBytes += Buffer.byteLength(value);
      const hour = Math.floor(ts / 3_600_000);
      perHour.set(hour, (perHour.get(hour) ?? 0) + 1);
      if (batch.length === 5000) {
        // One send at a time: concurrent sends may land in a partition out of order (a 5,000
        // event chunk is ~7 min of event time, so a swap makes late events), and the processor's
        // work then differs from run to run (1.42M-1.92M window-stats rows for the same 300k events, when it wrote those).
        await producer.send({ topic: topic('events'), acks: -1, messages: batch });
        batch = [];
      }
      if (++n >= EVENTS) break;
    }
    if (batch.length) await producer.send({ topic: topic('events'), acks: -1, messages: batch });
    log(`pre-filled ${n} events in ${Math.round(performance.now() - t0)} ms`);

    // ---- 1. bare consumer ----------------------------------------------------------------
    const bare = kafka.consumer({ groupId: `bench-bare-${id}`, maxBytesPerPartition: 1_048_576 });
    await bare.connect();
    await bare.subscribe({ topics: [topic('events')], fromBeginning: true });
    let read = 0;
    let bareStart = 0;
    let bareEnd = 0;
    await bare.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch: b }) => {
        if (!bareStart) bareStart = performance.now();
        read += b.messages.length;
        if (read >= n && !bareEnd) bareEnd = performance.now();
      },
    });
    while (!bareEnd) await sleep(50);
    await bare.disconnect();
    const bareRate = n / ((bareEnd - bareStart) / 1000);

    // ---- 2. the processor ----------------------------------------------------------------
    const db = `bench_${id}`;
    const cfg = (s: string) =>
      loadProcessorConfig({
        KAFKA_BROKERS: brokers,
        CLICKHOUSE_URL: chUrl,
        CLICKHOUSE_DATABASE: db,
        TOPIC_EVENTS: topic(s === 'live' ? 'live' : 'events'),
        TOPIC_DLQ: topic(s === 'live' ? 'live-dlq' : 'dlq'),
        TOPIC_ALERTS: topic(s === 'live' ? 'live-alerts' : 'alerts'),
        TOPIC_ROLLUPS: topic(s === 'live' ? 'live-rollups' : 'rollups'),
        PROCESSOR_GROUP_ID: `bench-${s}-${id}`,
        PROCESSOR_INSTANCE_ID: s,
        PROCESSOR_METRICS_PORT: '0',
        LOG_LEVEL: 'error',
        ...overrides,
      });
    const mem0 = liveMemory();
    const processor = createProcessor({ config: cfg('full') });
    const committed = async (group: string, t: string) => {
      const [c] = await admin.fetchOffsets({ groupId: group, topics: [t] });
      return (c?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    };
    // the JS heap this process allocates while the processor runs (the bench itself only
    // polls offsets meanwhile): kafkajs' fetches and decoding, the stages, rows, transactions
    const alloc = allocationMeter();
    alloc.start();
    const p0 = performance.now();
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    await processor.start();
    while ((await committed(`bench-full-${id}`, topic('events'))) < n) await sleep(250);
    // ...and the rollup stage has caught up with every partial the events produced (each
    // partition's last transaction leaves one commit marker past the committed offset).
    const rollupsDone = async () => {
      const [ends, [c]] = await Promise.all([
        admin.fetchTopicOffsets(topic('rollups')),
        admin.fetchOffsets({ groupId: `bench-full-${id}`, topics: [topic('rollups')] }),
      ]);
      const done = new Map((c?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      return ends.every((e) => Number(e.high) - Math.max(0, done.get(e.partition) ?? 0) <= 1);
    };
    while (!(await rollupsDone())) await sleep(250);
    const p1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    const allocated = alloc.stop();
    // The processor still runs, holding every partition's windows, rules memory and pending
    // settlements at the end of the stream (the consumers idle at the topics' ends).
    const mem1 = liveMemory();
    const rows = (await processor.metrics.rows.get()).values;
    const hist = async (h: {
      get(): Promise<{ values: { metricName?: string; value: number }[] }>;
    }) => {
      const v = (await h.get()).values;
      const sum = v.find((x) => x.metricName?.endsWith('_sum'))?.value ?? 0;
      const count = v.find((x) => x.metricName?.endsWith('_count'))?.value ?? 0;
      return { sum, count };
    };
    const stages = {
      process: await hist(processor.metrics.processSeconds),
      write: await hist(processor.metrics.writeSeconds),
      commit: await hist(processor.metrics.commitSeconds),
      records: await hist(processor.metrics.batchRecords),
      groups: await hist(processor.metrics.commitGroupBatches),
      writes: await hist(processor.metrics.writeGroupBatches),
    };
    const retries = (await processor.metrics.writeRetries.get()).values[0]?.value ?? 0;
    const recoveries = (await processor.metrics.recoveries.get()).values.reduce(
      (n, v) => n + v.value,
      0,
    );
    await processor.stop();
    const procRate = n / ((p1 - p0) / 1000);
    const paneRows = rows.find((r) => r.labels.table === 'panes')?.value ?? 0;
    const tickRows = rows.find((r) => r.labels.table === 'pane_ticks')?.value ?? 0;

    // ---- 3. the Kafka Streams peer -------------------------------------------------------
    const peer = PEER ? await runPeer() : { skipped: '--no-peer' };

    console.log(
      '\nThroughput on one topic of',
      n.toLocaleString(),
      'events (4 partitions), this machine, one run',
    );
    const ratio = (x: number) => Number(x.toFixed(3));
    console.table([
      {
        path: 'bare kafkajs consumer (reads only)',
        'events/s': Math.round(bareRate),
        'ratio to ceiling': 1,
        'processor ÷ this': ratio(procRate / bareRate),
      },
      {
        path: `processor end to end (${Math.round(tickRows).toLocaleString()} pane tick rows written, ${Math.round(paneRows).toLocaleString()} pane rows in them)`,
        'events/s': Math.round(procRate),
        'ratio to ceiling': ratio(procRate / bareRate),
        'processor ÷ this': 1,
      },
      'rate' in peer
        ? {
            path: `Kafka Streams peer, exactly_once_v2 (${peer.records.toLocaleString()} window records written)`,
            'events/s': Math.round(peer.rate),
            'ratio to ceiling': ratio(peer.rate / bareRate),
            'processor ÷ this': ratio(procRate / peer.rate),
          }
        : {
            path: `Kafka Streams peer: not run: ${peer.skipped}`,
            'events/s': '-',
            'ratio to ceiling': '-',
            'processor ÷ this': '-',
          },
    ]);

    // Where the processor's wall time went: sums of the stage histograms (per batch, per
    // ClickHouse write, per transaction; stages may overlap, so the shares can add up to more
    // than 100%).
    const wall = (p1 - p0) / 1000;
    const stage = (name: string, h: { sum: number; count: number }) => ({
      stage: name,
      batches: h.count,
      'total s': Number(h.sum.toFixed(2)),
      count: h.count,
      'ms each': h.count ? Number(((h.sum / h.count) * 1000).toFixed(2)) : 0,
      'share of wall': Number((h.sum / wall).toFixed(3)),
    });
    console.log(
      `\nThis process while the processor ran: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU (all its threads, GC included) in ${((p1 - p0) / 1000).toFixed(1)} s, ${((cpu.user + cpu.system) / n).toFixed(1)} µs per event; event loop busy ${(elu.utilization * 100).toFixed(0)}% of the time; JS heap allocated ${(allocated / 1e9).toFixed(2)} GB, ${Math.round(allocated / n).toLocaleString()} B per event; ${(tickRows / n).toFixed(3)} stats rows written per event (pane_ticks), ${(paneRows / n).toFixed(2)} pane rows per event (pane_counts)`,
    );
    console.log(
      `\nProcessor stages (${Math.round(stages.records.sum).toLocaleString()} records in ${stages.records.count} batches, ${Math.round(stages.records.sum / Math.max(1, stages.records.count))} per batch; ${stages.writes.count} ClickHouse writes; ${stages.groups.count} transactions; ${retries} ClickHouse retries; ${recoveries} partition recoveries; wall ${wall.toFixed(1)} s)`,
    );
    console.table([
      stage('decode + tasks + rows', stages.process),
      stage('ClickHouse write', stages.write),
      stage('Kafka transaction', stages.commit),
    ]);
    await sizing();
    if (LATENCY) await latencyRun();

    // ---- the Kafka Streams peer on the same topic (hoisted: called above) -------------------
    // Built first (not timed: `mvn package` and its tests), then run as a child process in its
    // own process group, timed like the processor: from the moment it starts its streams
    // (it prints {"started":...}) until its group's committed offsets cover all n events.
    async function runPeer(): Promise<{ rate: number; records: number } | { skipped: string }> {
      const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
      if (java.error || java.status !== 0) return { skipped: 'no java on PATH' };
      const built = spawnSync(process.execPath, [PEER_SCRIPT, '--build-only'], {
        encoding: 'utf8',
      });
      if (built.error || built.status !== 0) {
        const why = `${built.error?.message ?? ''}${built.stderr ?? ''}`.trim().split('\n');
        return { skipped: `build failed: ${why.at(-1) ?? `exit ${built.status}`}` };
      }
      const group = `bench-peer-${id}`;
      const output = topic('peer-windows');
      const child = spawn(
        process.execPath,
        [
          PEER_SCRIPT,
          ...['--brokers', brokers, '--topic', topic('events'), '--output', output],
          ...['--app-id', group, '--events', String(n)],
        ],
        { detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      // the whole group: the node script and its java
      const killPeer = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      process.on('exit', killPeer);
      try {
        let started = 0;
        let exited: string | undefined;
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (!started && out.includes('{"started"')) started = performance.now();
        });
        child.on('exit', (code, sig) => (exited = `exit ${code ?? sig}`));
        let cpuAtStart = process.cpuUsage();
        while (!started) {
          if (exited) return { skipped: `peer ${exited} before it started` };
          await sleep(20);
        }
        cpuAtStart = process.cpuUsage();
        while ((await committed(group, topic('events'))) < n) {
          if (exited)
            return {
              skipped: `peer ${exited} at ${await committed(group, topic('events'))} events`,
            };
          await sleep(250);
        }
        const end = performance.now();
        const rate = n / ((end - started) / 1000);
        const benchCpu = process.cpuUsage(cpuAtStart);
        // it closes and exits by itself once committed; its last line has what it wrote
        for (let i = 0; i < 1200 && !exited; i++) await sleep(50);
        log(`peer: ${out.trim().split('\n').join(' ')}`);
        // this process's own CPU while the peer ran (polling its offsets): not the peer's
        log(
          `bench process CPU while the peer ran: ${((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)} s in ${((end - started) / 1000).toFixed(1)} s`,
        );
        const last = out.trim().split('\n').at(-1) ?? '';
        const records = last.includes('windowRecords')
          ? (JSON.parse(last) as { windowRecords: number }).windowRecords
          : NaN;
        return { rate, records };
      } finally {
        killPeer();
        process.off('exit', killPeer);
      }
    }

    // ---- sizing: what the throughput run left in ClickHouse and in memory ------------------
    async function sizing() {
      const spanDays = (tsMax - tsMin) / 86_400_000;
      // three significant figures below 100 (a table of a few rows is 0.00002 rows per event)
      const fig = (x: number) => (x >= 100 || x === 0 ? Math.round(x) : Number(x.toPrecision(3)));
      const perTerminalDay = n / terminals.size / spanDays;
      console.log(
        `\nSizing, from the throughput run above: ${n.toLocaleString()} events from ${terminals.size.toLocaleString()} terminals of ${merchants.size.toLocaleString()} merchants over ${(spanDays * 24).toFixed(2)} h of event time (${new Date(tsMin).toISOString()} to ${new Date(tsMax).toISOString()}), ${Math.round(perTerminalDay).toLocaleString()} events per terminal per day of that span; ${[
          ...types,
        ]
          .map(([t, c]) => `${t} ${((c / n) * 100).toFixed(1)}%`)
          .join(', ')}; JSON values on Kafka ${(valueBytes / n).toFixed(0)} B per event`,
      );
      const busiest = Math.max(...perHour.values());
      console.log(
        `Busiest hour of event time: ${busiest.toLocaleString()} events (${Math.round(busiest / 3600).toLocaleString()} events/s), ${(busiest / (n / (spanDays * 24))).toFixed(2)}x the mean hour of the span`,
      );
      const ch = createClient({ url: chUrl, request_timeout: 600_000 });
      try {
        const before = await parts(ch, db);
        for (const t of before)
          await ch.command({
            query: sql`OPTIMIZE TABLE ${ident(db)}.${ident(t.table)} FINAL`.text,
          });
        const after = await parts(ch, db);
        const sum = (ps: Parts[], table: string): Parts => ({
          table,
          parts: ps.reduce((s, p) => s + p.parts, 0),
          rows: ps.reduce((s, p) => s + p.rows, 0),
          compressed: ps.reduce((s, p) => s + p.compressed, 0),
          uncompressed: ps.reduce((s, p) => s + p.uncompressed, 0),
          disk: ps.reduce((s, p) => s + p.disk, 0),
        });
        const line = (p: Parts, b: Parts | undefined) => ({
          table: p.table,
          rows: p.rows,
          'rows/event': fig(p.rows / n),
          parts: `${b?.parts ?? 0}→${p.parts}`,
          'compressed B/event': fig(p.compressed / n),
          'uncompressed B/event': fig(p.uncompressed / n),
          'on disk B/event': fig(p.disk / n),
          'before merges B/event': fig((b?.disk ?? 0) / n),
          'on disk KB/terminal/day': fig(p.disk / terminals.size / spanDays / 1024),
        });
        console.log(
          `\nClickHouse tables of the run (system.parts, active parts of ${db}, after OPTIMIZE TABLE ... FINAL; "on disk" is bytes_on_disk: compressed columns, marks, primary index; "before merges" the same before the OPTIMIZE; per terminal/day over the span above)`,
        );
        console.table([
          ...after.map((p) =>
            line(
              p,
              before.find((b) => b.table === p.table),
            ),
          ),
          line(sum(after, 'all tables'), sum(before, 'all tables')),
        ]);
      } finally {
        await ch.close();
      }
      console.log(
        `\nProcessor memory at the end of the stream (this bench process after a forced GC, less the same reading taken before the processor was created; ${terminals.size.toLocaleString()} terminals, ${merchants.size.toLocaleString()} merchants tracked)`,
      );
      const MB = 2 ** 20;
      console.table(
        (['heap', 'external', 'rss'] as const).map((k) => ({
          what: { heap: 'JS heap used', external: 'external (buffers)', rss: 'RSS' }[k],
          'before (MB)': Number((mem0[k] / MB).toFixed(1)),
          'after (MB)': Number((mem1[k] / MB).toFixed(1)),
          'processor (MB)': Number(((mem1[k] - mem0[k]) / MB).toFixed(1)),
          'B per terminal': Math.round((mem1[k] - mem0[k]) / terminals.size),
        })),
      );
    }

    // ---- 3. latency at half the peak rate (hoisted: called above) ---------------------------
    async function latencyRun() {
      const rate = Math.max(500, Math.floor(procRate / 2));
      const live = createProcessor({ config: cfg('live') });
      await live.start();
      // Both clocks performance.now(): sent[].at and the alerts' arrival times.
      const alerts = await collectAlerts(kafka, `bench-alerts-${id}`, topic('live-alerts'), () =>
        performance.now(),
      );
      // Event time runs 60x wall time (a demo incident every 2 sim-minutes), so a minute of
      // wall time holds an hour of incidents; events go out in 50 ms slices at `rate`/s.
      const durationMs = 90_000;
      const stream = liveStream({
        producer,
        topic: topic('live'),
        rate,
        now: () => performance.now(),
      });
      await sleep(durationMs);
      await stream.stop();
      await sleep(5000);
      await alerts.stop();
      await live.stop();
      const lat = alertLatencies(stream.sent, alerts.got).map(([, l]) => l);
      console.log(
        `\nProduce -> alert on pos.alerts, ${rate} events/s (half the processor's rate), ${Math.round(durationMs / 1000)} s`,
      );
      console.table([latencyQuantiles(lat)]);
    }
    await producer.disconnect();
    const ch = createClient({ url: chUrl });
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await ch.close();
  } finally {
    await admin.disconnect();
    await services.stop();
  }
}

interface Parts {
  table: string;
  parts: number;
  rows: number;
  compressed: number;
  uncompressed: number;
  disk: number;
}

/** Active parts of every table of `db` with rows (ClickHouse 18.16 has all these columns). */
async function parts(ch: ClickHouseClient, db: string): Promise<Parts[]> {
  const rs = await ch.query({
    query: sql`SELECT table, count() AS parts, sum(rows) AS rows,
        sum(data_compressed_bytes) AS compressed, sum(data_uncompressed_bytes) AS uncompressed,
        sum(bytes_on_disk) AS disk
      FROM system.parts WHERE database = ${db} AND active
      GROUP BY table HAVING rows > 0 ORDER BY table`.text,
    format: 'JSONEachRow',
  });
  // UInt64 columns come back as strings
  const got = await rs.json<Record<keyof Parts, string>>();
  return got.map((r) => ({
    table: r.table,
    parts: Number(r.parts),
    rows: Number(r.rows),
    compressed: Number(r.compressed),
    uncompressed: Number(r.uncompressed),
    disk: Number(r.disk),
  }));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(
      `bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(1);
  },
);
