import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '@tillwatch/clickhouse';
import { createKafka, type Kafka } from '@tillwatch/kafka';
import { startKafka, type LocalKafka } from '../../../deploy/local/kafka/start.mjs';
import {
  alertSig,
  bundleProcessor,
  chClient,
  checkAgainstTruth,
  committedCount,
  count,
  createTopics,
  describeMissing,
  duplicatedEpisodes,
  expectedAlerts,
  makeStream,
  pipelineLosses,
  pipelineSuite,
  processorVars,
  readAlerts,
  reportChaos,
  sleep,
  spawnProcessor,
  streamRecords,
  waitProcessed,
  type ChildProcessor,
  type PipelineSuite,
} from './harness';

/** How long the broker stays dead before it is started again on the same port and data dir. */
const BROKER_DOWN_MS = 5000;

/**
 * Produce `records` in chunks with an idempotent producer, `pauseMs` between chunks (so that the
 * stream is still arriving when the broker dies). A chunk whose send fails (kafkajs gave up
 * after its own retries) is sent again by the same producer: kafkajs rolls a failed request's
 * sequence numbers back, so a resend that the broker had in fact written is recognised by its
 * producer id and sequence and not appended twice.
 */
async function produceThroughOutage(
  kafka: Kafka,
  topic: string,
  records: ReturnType<typeof streamRecords>,
  opts: { chunk: number; pauseMs: number; onProgress: (sent: number) => void },
): Promise<{ resent: number }> {
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  let resent = 0;
  try {
    for (let i = 0; i < records.length; i += opts.chunk) {
      const messages = records.slice(i, i + opts.chunk).map((r) => ({
        partition: r.partition,
        key: r.key,
        value: r.value,
        timestamp: String(r.ts),
      }));
      for (let attempt = 1; ; attempt++) {
        try {
          await producer.send({ topic, acks: -1, messages });
          break;
        } catch (e) {
          if (attempt >= 30) throw e;
          resent++;
          await sleep(1000);
        }
      }
      opts.onProgress(i + messages.length);
      await sleep(opts.pauseMs);
    }
  } finally {
    await producer.disconnect();
  }
  return { resent };
}

/**
 * The Kafka broker itself is killed with SIGKILL in the middle of a stream, as Kafka's own
 * system tests do (kill -9, no controlled shutdown), and started again after a few seconds on
 * the same port and data dir (log recovery). The producer keeps sending through it, the
 * processor (a real child process) rides it out, and afterwards every count in ClickHouse equals
 * the ground truth: 0 missing, 0 double-counted, every raw event stored once, no alert episode
 * twice on pos.alerts. The suite starts a broker of its own (deploy/local) beside the shared one,
 * which the other suites keep using.
 */
describe('Kafka broker kill -9', () => {
  const ch = chClient();
  const stream = makeStream(31, 60_000);
  const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'tw-broker-kill-')), 'processor.log');
  let broker: LocalKafka | undefined;
  let suite: PipelineSuite;
  let bundle = '';
  let child: ChildProcessor | undefined;
  const childEnv = () =>
    processorVars(suite, {
      instance: 'broker-kill',
      logLevel: 'info',
      extra: { KAFKA_BROKERS: broker!.brokers, PROCESSOR_SESSION_TIMEOUT: '6s' },
    });

  beforeAll(async () => {
    broker = await startKafka({ partitions: 4 });
    const base = pipelineSuite('brokerkill');
    suite = {
      ...base,
      kafka: createKafka({ brokers: broker.brokers, clientId: base.groupId }),
    };
    await createTopics(suite.kafka, Object.values(suite.topics));
    bundle = await bundleProcessor();
  }, 180_000);
  afterAll(async () => {
    await child?.kill('SIGTERM');
    await broker?.stop();
    await ch.close();
  });

  it('a broker SIGKILLed mid-stream and restarted: 0 missing, 0 doubled, no episode twice', async () => {
    const { kafka, topics, groupId, db } = suite;
    const t0 = performance.now();
    // A supervisor, as an orchestrator would be: a processor that exits is started again. kafkajs
    // stops a consumer for good after an error it deems not retriable (seen here: "Failed to
    // find group coordinator" the moment the broker dies, 2 runs of 6; "Cannot call
    // beginTransaction in state COMMITTING" after a commit the kill interrupted, until the
    // producer was replaced, context.ts Transactions); the processor then exits by itself
    // (processor.ts, CRASH with restart false; exit 70, main.ts) and the supervisor starts it
    // again. Before, it stayed up with /healthz ok and processed nothing: a consumer stopped for
    // 20 s while the process lived is counted (and killed, so the data checks still run) and
    // must not happen.
    let exits = 0;
    let consumerStops = 0;
    let stopping = false;
    // kafkajs logs "Stopped" on every crash, the ones it restarts from too ("Starting" follows
    // after its retry time): stopped is a "Stopped" with no "Starting" after it. (Before, any
    // "Stopped" since the spawn counted, and a consumer restarted early and running for 20 s
    // more was killed as stopped: the failure of one CI run.)
    const consumerStopped = (from: number): boolean => {
      const text = readFileSync(logFile, 'utf8').slice(from);
      const stopped = text.lastIndexOf('"kafkajs":"Consumer","msg":"Stopped"');
      return stopped >= 0 && stopped > text.lastIndexOf('"kafkajs":"Consumer","msg":"Starting"');
    };
    const supervise = async () => {
      while (!stopping) {
        const from = existsSync(logFile) ? statSync(logFile).size : 0;
        child = await spawnProcessor(bundle, childEnv(), logFile);
        let stoppedFor = 0;
        while (!child.exited && !stopping) {
          await sleep(500);
          stoppedFor = !stopping && consumerStopped(from) ? stoppedFor + 500 : 0;
          if (stoppedFor >= 20_000) {
            consumerStops++;
            await child.kill('SIGKILL');
          }
        }
        if (child.exited && !stopping) exits++;
      }
    };
    const supervising = supervise();

    let sent = 0;
    const producing = produceThroughOutage(kafka, topics.TOPIC_EVENTS, streamRecords(stream), {
      chunk: 1000,
      pauseMs: 300,
      onProgress: (n) => (sent = n),
    });
    const admin = kafka.admin();
    await admin.connect();
    // -1 while the group coordinator is still loading (a fresh broker's first seconds)
    const committed = () =>
      committedCount(admin, groupId, topics.TOPIC_EVENTS).catch((): number => -1);
    // Mid-stream: a fifth of the events committed by the processor and the producer not done.
    let committedAtKill = 0;
    while ((committedAtKill = await committed()) < stream.events.length / 5) await sleep(200);
    await admin.disconnect();
    const sentAtKill = sent;
    const pidBefore = broker!.pid;
    await broker!.kill();
    await sleep(BROKER_DOWN_MS);
    const tr = performance.now();
    await broker!.restart();
    const restartMs = performance.now() - tr;

    const { resent } = await producing;
    await waitProcessed(suite, { timeoutMs: 240_000 });
    stopping = true;
    await child?.kill('SIGTERM');
    await supervising;
    const elapsed = performance.now() - t0;

    // What the broker holds: a producer with no transactions writes one offset per record, so
    // the topic's end offsets add up to the records it kept. Fewer than the stream is a loss.
    // More is a chunk appended twice: kafkajs' idempotent producer did that across the kill in
    // one of five runs here (1,000 records, by its own retry, not ours). The processor's
    // event-id dedup must then count each event once, which the checks below hold it to.
    const ends = await (async () => {
      const a = kafka.admin();
      await a.connect();
      const offsets = await a.fetchTopicOffsets(topics.TOPIC_EVENTS);
      await a.disconnect();
      return offsets.reduce((n, p) => n + Number(p.high), 0);
    })();
    const truth = await checkAgainstTruth(stream.events, ch, `${db}.${TABLES.panes}`, 'fast');
    // Rows missing at the first read (one CI run of many: 474, none differing): read again after
    // 30 s, so that the failure says whether they were lost or only not written yet when the
    // group looked caught up (then the wait is wrong, not the processor).
    const later = truth.missing.length
      ? await sleep(30_000).then(() =>
          checkAgainstTruth(stream.events, ch, `${db}.${TABLES.panes}`, 'fast'),
        )
      : truth;
    const stored = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.events} FINAL`);
    const dead = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.deadLetters} FINAL`);
    const alerts = await readAlerts(kafka, topics.TOPIC_ALERTS);
    const dups = duplicatedEpisodes(alerts);
    const replaced =
      readFileSync(logFile, 'utf8').split('Kafka producer left mid-commit').length - 1;
    const want = expectedAlerts(stream);
    const got = new Set(alerts.map(alertSig));
    const exp = new Set(want.map(alertSig));
    const missingAlerts = [...exp].filter((s) => !got.has(s));
    const extraAlerts = [...got].filter((s) => !exp.has(s));
    console.log(
      [
        `[broker-kill] ${stream.events.length} events; broker pid ${pidBefore} SIGKILLed with ${sentAtKill} sent and ` +
          `${committedAtKill} committed, down ${BROKER_DOWN_MS / 1000} s, back after ${Math.round(restartMs / 1000)} s more ` +
          `(pid ${broker!.pid}); done in ${Math.round(elapsed / 1000)} s (log: ${logFile})`,
        `  producer chunks sent again ${resent}; processor exited and was restarted by the supervisor ${exits} times ` +
          `(${consumerStops} of them killed: a consumer kafkajs had stopped while the process stayed up); ` +
          `transactional producer replaced ${replaced} times (a commit the kill cut off)`,
        `  events topic holds ${ends} records (${stream.events.length} produced, ${ends - stream.events.length} appended twice ` +
          `by the producer); raw events stored ${stored}; dead letters ${dead}`,
        `  pane rows ${truth.rows}: ${truth.mismatched.length} differ (double-counted or short), ` +
          `${truth.missing.length} of ${truth.expectedRows} missing` +
          (later === truth ? '' : ` (30 s later: ${later.missing.length})`),
        `  alert transitions ${alerts.length} (expected ${want.length}); duplicated episodes ${dups.length}; ` +
          `${missingAlerts.length} missing, ${extraAlerts.length} extra`,
      ].join('\n'),
    );
    reportChaos({
      fault: 'Kafka broker kill -9 (restarted on its port and data)',
      injected: `1 x SIGKILL, down ${BROKER_DOWN_MS / 1000} s + ${Math.round(restartMs / 1000)} s to restart`,
      events: stream.events.length,
      ...pipelineLosses(truth, stored, stream.events.length),
      duplicatedEpisodes: dups.length,
    });
    if (truth.mismatched.length) console.log(JSON.stringify(truth.mismatched.slice(0, 3)));
    if (dups.length) console.log(dups.slice(0, 10));
    if (missingAlerts.length || extraAlerts.length)
      console.log({
        missingAlerts: missingAlerts.slice(0, 5),
        extraAlerts: extraAlerts.slice(0, 5),
      });

    // The kill happened mid-stream: events were still to come, and to be committed.
    expect(sentAtKill).toBeLessThan(stream.events.length);
    expect(committedAtKill).toBeLessThan(stream.events.length);
    expect(broker!.pid).not.toBe(pidBefore);
    // a processor whose consumer kafkajs stopped exits by itself (it is not left idle)
    expect(consumerStops).toBe(0);
    expect(ends).toBeGreaterThanOrEqual(stream.events.length);
    expect(stored).toBe(stream.events.length);
    expect(dead).toBe(0);
    expect(truth.rows).toBeGreaterThan(0);
    expect(truth.mismatched.length).toBe(0);
    expect(
      truth.missing.length,
      `${describeMissing(truth.missing)}; 30 s later ${later.missing.length} missing`,
    ).toBe(0);
    expect(alerts.length).toBeGreaterThan(0);
    expect(dups).toEqual([]);
    expect(missingAlerts).toEqual([]);
    expect(extraAlerts).toEqual([]);
  });
});
