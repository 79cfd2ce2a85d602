/**
 * `npm run bench -w @tillwatch/e2e`: produce → alert on the board, end to end, as production
 * runs it: events produced to Kafka, the processor (decode, windows, rules, ClickHouse writes,
 * Kafka transactions) publishing alerts to pos.alerts, the production gateway consuming them,
 * persisting them in ClickHouse and emitting them over socket.io, and an analyst's socket.io
 * client receiving them. Events go out live at half the processor's sustained rate, measured
 * first in the same run on a pre-filled topic (its peak: from start to every offset
 * committed). Per alert the latency runs from the produce time of the event that let the
 * processor decide it (under-load.ts alertLatencies: the first event past the alert's time plus
 * the allowed lateness) to its arrival, at a Kafka consumer of pos.alerts and at the socket; the
 * table shows both, so the gateway's share is read off the difference. Prints; asserts nothing.
 *
 * Kafka and ClickHouse: KAFKA_BROKERS / CLICKHOUSE_URL if set, else started for the run
 * (@tillwatch/testkit: Docker if present, else deploy/local).
 */
import { randomBytes } from 'node:crypto';
import type { Alert } from '@tillwatch/contracts';
import { formatApiKeys, loadGatewayConfig, startProductionGateway } from '@tillwatch/gateway';
import { createKafka } from '@tillwatch/kafka';
import { createProcessor, loadProcessorConfig } from '@tillwatch/processor';
import {
  alertLatencies,
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
  try {
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
    const processorConfig = (s: 'peak' | 'live') =>
      loadProcessorConfig({
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
        LOG_LEVEL: 'error',
      });

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
    const peakProcessor = createProcessor({ config: processorConfig('peak') });
    const p0 = performance.now();
    await peakProcessor.start();
    while ((await committed()) < n) await sleep(250);
    const peak = n / ((performance.now() - p0) / 1000);
    await peakProcessor.stop();
    log(`processor peak ${Math.round(peak)} events/s on ${n} pre-filled events`);

    // ---- 2. live at half of it, alerts to the board --------------------------------------
    const rate = Math.max(500, Math.floor(peak / 2));
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
    const live = createProcessor({ config: processorConfig('live') });
    await live.start();
    stops.push(() => live.stop());
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
    const viaSocket = latencyQuantiles(alertLatencies(stream.sent, socketGot).map(([, l]) => l));
    console.log(
      `\nProduce -> alert, ${rate} events/s live (half the processor's ${Math.round(peak)} events/s measured on ${n.toLocaleString()} pre-filled events), ${Math.round(LIVE_MS / 1000)} s, this machine (2 cores shared with Kafka and ClickHouse), one run`,
    );
    console.table([
      { 'received at': 'pos.alerts (a Kafka consumer)', ...viaTopic },
      { 'received at': 'the board (socket.io client, via the gateway)', ...viaSocket },
      {
        'received at': 'the gateway’s share (board − topic)',
        alerts: viaSocket.alerts - viaTopic.alerts,
        'p50 ms': viaSocket['p50 ms'] - viaTopic['p50 ms'],
        'p99 ms': viaSocket['p99 ms'] - viaTopic['p99 ms'],
        'max ms': viaSocket['max ms'] - viaTopic['max ms'],
      },
    ]);
    console.log('target: produce -> board p50 and p99 <= 1,000 ms (issue 14)');
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    await admin.disconnect();
    await services.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
