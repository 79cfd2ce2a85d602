/**
 * `npm run bench -w @tillwatch/e2e`: produce → alert on the board, end to end, as production
 * runs it: events produced to Kafka, the bundled processor in a process of its own (decode,
 * windows, rules, ClickHouse writes, Kafka transactions) publishing alerts to pos.alerts, the
 * production gateway consuming them, persisting them in ClickHouse and emitting them over
 * socket.io, and an analyst's socket.io client receiving them. Events go out live at half the
 * processor's sustained rate (or BENCH_LIVE_RATE, to compare two builds at the same load),
 * measured first in the same run on a pre-filled topic (its peak: from start to every offset
 * committed). Per alert the latency runs from the produce time of the event that let the
 * processor decide it (under-load.ts alertLatencies: the first event past the alert's time plus
 * the allowed lateness) to the processor's send (the pos.alerts record's timestamp), to its
 * arrival at a Kafka consumer of pos.alerts and at the socket, so each hop's share is read off
 * the differences; the board's figures also apart for the run's first BENCH_START_MS (10 s: the
 * processor's start) and after it, and by 10 s slice; a last table gives the live processor's
 * stage means from its /metrics.
 * Prints; asserts nothing.
 *
 * Kafka and ClickHouse: KAFKA_BROKERS / CLICKHOUSE_URL if set, else started for the run
 * (@tillwatch/testkit: Docker if present, else deploy/local).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Alert } from '@tillwatch/contracts';
import { formatApiKeys, loadGatewayConfig, startProductionGateway } from '@tillwatch/gateway';
import { createKafka } from '@tillwatch/kafka';
import {
  alertLatencies,
  bundleProcessor,
  spawnProcessor,
  waitForMembers,
  collectAlerts,
  latencyQuantiles,
  liveStream,
  type EventMessage,
} from '@tillwatch/processor/under-load';
import { createSimulation } from '@tillwatch/simulator';
import { startServices } from '@tillwatch/testkit/services';
import { Partitioners } from 'kafkajs';
import { io as connect } from 'socket.io-client';

const args = process.argv.slice(2);
/** events of the pre-filled topic the peak is measured on */
const PEAK_EVENTS = Number(args.find((a) => /^\d+$/.test(a)) ?? 200_000);
const LIVE_MS = Number(process.env['BENCH_LIVE_MS'] ?? 90_000);
/**
 * The start of the live run, shown apart as well: the live processor has just started (a new
 * topic: nothing to replay, so its JIT warms on live traffic; after a restart in production the
 * recovery's replay does that first) and the fleet's windows fill for the first time.
 */
const START_MS = Number(process.env['BENCH_START_MS'] ?? 10_000);
const PARTITIONS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

async function main() {
  const services = await startServices({ log });
  const brokers = services.env.KAFKA_BROKERS!;
  const chUrl = services.env.CLICKHOUSE_URL!;
  const id = Date.now().toString(36);
  const kafka = createKafka({ brokers, clientId: `bench-board-${id}` });
  const admin = kafka.admin();
  await admin.connect();
  const topic = (s: string) => `bench.board.${id}.${s}`;
  const stops: (() => Promise<unknown>)[] = [];
  const workDir = mkdtempSync(path.join(tmpdir(), 'tw-board-bench-'));
  try {
    // The processor runs as production runs it: the bundled service in a process of its own,
    // so this process's producer, gateway and consumers do not share its event loop.
    const bundle = bundleProcessor(path.join(workDir, 'processor.mjs'));
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        'peak',
        'peak-dlq',
        'peak-alerts',
        'peak-rollups',
        'live',
        'dlq',
        'alerts',
        'rollups',
      ].map((s) => ({
        topic: topic(s),
        numPartitions: PARTITIONS,
        replicationFactor: 1,
        configEntries: [{ name: 'retention.ms', value: '-1' }],
      })),
    });
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    stops.push(() => producer.disconnect());
    // the processor's fetch knobs, when the bench is run with them set (to compare settings)
    const passThrough = Object.fromEntries(
      ['KAFKA_MAX_BYTES_PER_PARTITION', 'KAFKA_PARTITIONS_CONCURRENTLY'].flatMap((k) =>
        process.env[k] ? [[k, process.env[k]!]] : [],
      ),
    );
    const processorEnv = (s: 'peak' | 'live'): Record<string, string> => ({
      KAFKA_BROKERS: brokers,
      CLICKHOUSE_URL: chUrl,
      CLICKHOUSE_DATABASE: `bench_board_${id}_${s}`,
      TOPIC_EVENTS: topic(s === 'peak' ? 'peak' : 'live'),
      TOPIC_DLQ: topic(s === 'peak' ? 'peak-dlq' : 'dlq'),
      TOPIC_ALERTS: topic(s === 'peak' ? 'peak-alerts' : 'alerts'),
      TOPIC_ROLLUPS: topic(s === 'peak' ? 'peak-rollups' : 'rollups'),
      PROCESSOR_GROUP_ID: `bench-board-${s}-${id}`,
      PROCESSOR_INSTANCE_ID: s,
      PROCESSOR_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      ...passThrough,
    });
    const startProcessor = async (s: 'peak' | 'live') => {
      const logFile = path.join(workDir, `processor-${s}.log`);
      const child = spawnProcessor(bundle, processorEnv(s), logFile, {
        nodeArgs: ['--max-semi-space-size=64'],
        signal: 'SIGTERM',
        killAfterMs: 20_000,
      });
      // its metrics port, from its log line "metrics on /metrics"
      for (let i = 0; ; i++) {
        const m = /"port":(\d+)[^\n]*"msg":"metrics on \/metrics"/.exec(
          readFileSync(logFile, 'utf8'),
        );
        if (m) return { child, metricsPort: Number(m[1]), logFile };
        if (child.exited || i > 600)
          throw new Error(`processor ${s} did not start: see ${logFile}`);
        await sleep(100);
      }
    };

    // ---- 1. the processor's sustained rate on a pre-filled topic ---------------------------
    const sim = createSimulation({
      seed: 1,
      scenario: 'all',
      start: Date.UTC(2026, 2, 2, 0, 0, 0),
      durationMs: 24 * 3_600_000,
    });
    let batch: EventMessage[] = [];
    let n = 0;
    for (const ev of sim.events()) {
      const ts = typeof ev.ts === 'number' ? ev.ts : Date.parse(ev.ts);
      batch.push({ key: ev.merchantId, value: JSON.stringify(ev), timestamp: String(ts) });
      if (batch.length === 5000) {
        await producer.send({ topic: topic('peak'), acks: -1, messages: batch });
        batch = [];
      }
      if (++n >= PEAK_EVENTS) break;
    }
    if (batch.length) await producer.send({ topic: topic('peak'), acks: -1, messages: batch });
    const committed = async () => {
      const [c] = await admin.fetchOffsets({
        groupId: `bench-board-peak-${id}`,
        topics: [topic('peak')],
      });
      return (c?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    };
    const p0 = performance.now();
    const peakProcessor = await startProcessor('peak');
    while ((await committed()) < n) {
      if (peakProcessor.child.exited) throw new Error(`see ${peakProcessor.logFile}`);
      await sleep(250);
    }
    const peak = n / ((performance.now() - p0) / 1000);
    await peakProcessor.child.kill();
    log(`processor peak ${Math.round(peak)} events/s on ${n} pre-filled events`);

    // ---- 2. live at half of it, alerts to the board --------------------------------------
    // BENCH_LIVE_RATE: a fixed live rate, to compare two builds at the same load
    const rate = Number(process.env['BENCH_LIVE_RATE'] ?? 0) || Math.max(500, Math.floor(peak / 2));
    const analystKey = `bench-analyst-${randomBytes(12).toString('hex')}`;
    const gw = await startProductionGateway({
      config: loadGatewayConfig({
        PORT: '0',
        GATEWAY_WEB_DIST: '/nonexistent',
        TILLWATCH_API_KEYS: formatApiKeys([{ key: analystKey, role: 'analyst', name: 'bench' }]),
        GATEWAY_RATE_LIMIT_MAX: '100000',
        KAFKA_BROKERS: brokers,
        CLICKHOUSE_URL: `${chUrl.replace(/\/+$/, '')}/bench_board_${id}_gw`,
        WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64'),
        GATEWAY_ALERTS_TOPIC: topic('alerts'),
        GATEWAY_KAFKA_GROUP_ID: `bench-board-gw-${id}`,
        LOG_LEVEL: 'silent',
      }),
    });
    stops.push(() => gw.stop());
    const socketGot: { ts: string; at: number }[] = [];
    const socket = connect(gw.url, { auth: { token: analystKey }, transports: ['websocket'] });
    stops.push(async () => socket.close());
    // every alert transition the board hears of, keyed by its time as pos.alerts carries it
    socket.on('alert', (msg: { alert: Alert }) => {
      socketGot.push({ ts: msg.alert.ts, at: performance.now() });
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const live = await startProcessor('live');
    stops.push(() => live.child.kill());
    await waitForMembers(admin, `bench-board-live-${id}`, 1, { gone: () => live.child.exited });
    const topicGot = await collectAlerts(kafka, `bench-board-alerts-${id}`, topic('alerts'), () =>
      performance.now(),
    );
    stops.push(() => topicGot.stop());
    const stream = liveStream({
      producer,
      topic: topic('live'),
      rate,
      now: () => performance.now(),
    });
    await sleep(LIVE_MS);
    await stream.stop();
    await sleep(5000);

    const viaTopic = latencyQuantiles(alertLatencies(stream.sent, topicGot.got).map(([, l]) => l));
    // when the processor sent each alert (its record's timestamp, the same machine's clock put
    // on this process's performance clock): the processor's share, before Kafka's delivery
    const sentByProcessor = latencyQuantiles(
      alertLatencies(
        stream.sent,
        topicGot.got.map((a) => ({ ts: a.ts, at: (a.written ?? NaN) - performance.timeOrigin })),
      ).map(([, l]) => l),
    );
    const boardLatencies = alertLatencies(stream.sent, socketGot);
    const viaSocket = latencyQuantiles(boardLatencies.map(([, l]) => l));
    const t0 = stream.sent[0]?.at ?? 0;
    const liveFrom = t0 + START_MS;
    const steady = latencyQuantiles(
      boardLatencies.filter(([at]) => at >= liveFrom).map(([, l]) => l),
    );
    const start = latencyQuantiles(
      boardLatencies.filter(([at]) => at < liveFrom).map(([, l]) => l),
    );
    const load = process.env['BENCH_LIVE_RATE']
      ? `set by BENCH_LIVE_RATE; the processor's peak was ${Math.round(peak)} events/s`
      : `half the processor's ${Math.round(peak)} events/s`;
    console.log(
      `\nProduce -> alert, ${rate} events/s live (${load} measured on ${n.toLocaleString()} pre-filled events), ${Math.round(LIVE_MS / 1000)} s, this machine (2 cores shared with Kafka and ClickHouse), one run`,
    );
    console.table([
      { 'received at': 'sent by the processor (pos.alerts record timestamp)', ...sentByProcessor },
      { 'received at': 'pos.alerts (a Kafka consumer)', ...viaTopic },
      { 'received at': 'the board (socket.io client, via the gateway)', ...viaSocket },
      {
        'received at': 'the gateway’s share (board − topic)',
        alerts: viaSocket.alerts - viaTopic.alerts,
        'p50 ms': viaSocket['p50 ms'] - viaTopic['p50 ms'],
        'p99 ms': viaSocket['p99 ms'] - viaTopic['p99 ms'],
        'max ms': viaSocket['max ms'] - viaTopic['max ms'],
      },
      { 'received at': `the board, the run's first ${START_MS / 1000} s (the start)`, ...start },
      { 'received at': `the board, after the first ${START_MS / 1000} s (steady)`, ...steady },
    ]);
    // when in the run the slow alerts were decided: 10 s slices of the live stream by the
    // produce time of the deciding event (a tail at the start is the processor warming up, one
    // slice's is a stall, a spread one the rounds)
    const slices = new Map<number, number[]>();
    for (const [at, l] of boardLatencies) {
      const k = Math.floor((at - t0) / 10_000);
      let list = slices.get(k);
      if (!list) slices.set(k, (list = []));
      list.push(l);
    }
    console.log(
      '\nThe board latency by when the deciding event was produced (10 s slices of the run)',
    );
    console.table(
      [...slices]
        .sort((a, b) => a[0] - b[0])
        .map(([k, l]) => ({ 'from s': k * 10, ...latencyQuantiles(l) })),
    );
    // where a batch's time goes in the live processor, from its /metrics (one batch is one
    // partition's share of a kafkajs fetch round; a round waits for all of its batches)
    const text = await (await fetch(`http://127.0.0.1:${live.metricsPort}/metrics`)).text();
    const mean = (name: string, scale: number) => {
      const num = (suffix: string) =>
        Number(new RegExp(`^${name}_${suffix} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      const count = num('count');
      return { count, mean: count ? Math.round((num('sum') / count) * scale * 10) / 10 : NaN };
    };
    const stagesOf = [
      ['decode + stage (ms per batch)', mean('tw_processor_batch_process_seconds', 1000)],
      ['ClickHouse write (ms per write)', mean('tw_processor_batch_write_seconds', 1000)],
      ['batches per write', mean('tw_processor_write_group_batches', 1)],
      ['Kafka transaction (ms per transaction)', mean('tw_processor_commit_seconds', 1000)],
      ['batches per transaction', mean('tw_processor_commit_group_batches', 1)],
      ['records per batch', mean('tw_processor_batch_records', 1)],
    ] as const;
    console.log('\nThe live processor, from its metrics (means over the run)');
    console.table(stagesOf.map(([what, v]) => ({ what, mean: v.mean, count: v.count })));
    console.log('target: produce -> board p50 and p99 <= 1,000 ms (issue 14)');
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    await admin.disconnect();
    await services.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
