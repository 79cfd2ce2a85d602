import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { TABLES } from '@tillwatch/clickhouse';
import { loadGatewayConfig, startProductionGateway } from '@tillwatch/gateway';
import type { ProductionGateway } from '@tillwatch/gateway';
import type { Processor } from '@tillwatch/processor';
import { startTestCluster, type TestCluster } from '@tillwatch/testkit/cluster';
import {
  checkAgainstTruth,
  committedCount,
  count,
  createSuiteProcessor,
  createTopics,
  describeMissing,
  duplicatedEpisodes,
  makeStream,
  pipelineLosses,
  pipelineSuite,
  produce,
  readAlerts,
  reportChaos,
  sleep,
  streamRecords,
  waitProcessed,
} from './harness';

/** How long the processor's ClickHouse server stays dead (issue "Past one box": 30 s). */
const DOWN_MS = 30_000;
const ANALYST = 'cluster-analyst-key-00000001';

/**
 * The pipeline on a ClickHouse cluster: ZooKeeper and two servers that are the two replicas of
 * one shard (deploy/local), tables in the cluster layout (`?cluster=` in CLICKHOUSE_URL). The
 * processor writes through server A, the gateway reads through server B. A is killed (SIGKILL)
 * for 30 s in the middle of the stream: the processor retries until A is back; the gateway goes
 * on answering from B; afterwards both replicas hold every event once and the pane rows the
 * stream implies, none missing, none doubled.
 */
describe('ClickHouse cluster: a replica killed for 30 s under the pipeline', () => {
  const suite = pipelineSuite('cluster');
  const { topics, groupId, kafka } = suite;
  const stream = makeStream(31, 20_000);
  let cluster: TestCluster;
  let processor: Processor;
  let gateway: ProductionGateway;
  let urls: string[];

  beforeAll(async () => {
    cluster = await startTestCluster({ log: (m) => process.stderr.write(`[cluster] ${m}\n`) });
    urls = cluster.urls(suite.db);
    await createTopics(kafka, Object.values(topics));
    processor = createSuiteProcessor(suite, {
      instance: 'cluster',
      logLevel: 'error',
      clickhouse: { url: urls[0]! },
      // retries every 2 s at most; 1 MiB fetches bound what is in flight when A dies
      extra: { CLICKHOUSE_MAX_BACKOFF: '2s', KAFKA_MAX_BYTES_PER_PARTITION: '1048576' },
    });
    // the processor creates the database and the tables (ON CLUSTER) before the gateway reads
    await processor.start();
    gateway = await startProductionGateway({
      config: loadGatewayConfig({
        PORT: '0',
        GATEWAY_WEB_DIST: '/nonexistent',
        TILLWATCH_API_KEYS: `${ANALYST}:analyst`,
        GATEWAY_RATE_LIMIT_MAX: '100000',
        KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
        CLICKHOUSE_URL: urls[1]!,
        WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64'),
        GATEWAY_ALERTS_TOPIC: topics.TOPIC_ALERTS,
        GATEWAY_KAFKA_GROUP_ID: `${groupId}-gw`,
        // the processor writes the alerts; the gateway only reads them here
        GATEWAY_PERSIST_ALERTS: 'false',
        LOG_LEVEL: 'silent',
      }),
    });
  }, 300_000);
  afterAll(async () => {
    await gateway?.stop();
    await processor?.stop();
    await cluster?.stop();
  }, 120_000);

  it('the processor waits for its server, the gateway answers from the other, nothing lost or doubled', async () => {
    const [serverA] = cluster.clickhouse.servers;
    const admin = kafka.admin();
    await admin.connect();
    const committed = () => committedCount(admin, groupId, topics.TOPIC_EVENTS);
    const producing = produce(kafka, topics.TOPIC_EVENTS, streamRecords(stream), 1000);
    while ((await committed()) < stream.events.length / 4) await sleep(200);
    await serverA!.kill();
    const downAt = await committed();

    // while A is down: the board's reads go to B (a region's raw events, the alert list)
    const region = stream.events[0]!.region;
    const get = async (path: string) => {
      const r = await fetch(`${gateway.url}${path}`, {
        headers: { authorization: `Bearer ${ANALYST}` },
      });
      return {
        status: r.status,
        body: (await r.json()) as { matched?: number; alerts?: unknown[] },
      };
    };
    const answers: { events: number; alerts: number; statuses: number[] }[] = [];
    const until = Date.now() + DOWN_MS;
    while (Date.now() < until) {
      const ev = await get(`/api/events?scope=region&key=${region}&since=2026-03-01T00:00:00.000Z`);
      const al = await get('/api/alerts?since=2026-03-01T00:00:00.000Z&limit=1000');
      answers.push({
        events: ev.body.matched ?? -1,
        alerts: al.body.alerts?.length ?? -1,
        statuses: [ev.status, al.status],
      });
      await sleep(1000);
    }
    const whileDown = await committed();
    await serverA!.restart();
    await producing;
    await waitProcessed(suite);
    await admin.disconnect();

    // both replicas, once B has every part A wrote
    const client = (url: string): ClickHouseClient => {
      const u = new URL(url);
      return createClient({
        url: u.origin,
        database: suite.db,
        keep_alive: { enabled: false },
        request_timeout: 120_000,
      });
    };
    const [chA, chB] = [client(urls[0]!), client(urls[1]!)];
    const local = (ch: ClickHouseClient) =>
      count(ch, `SELECT count() AS n FROM ${TABLES.events}_local FINAL`);
    const want = stream.events.length;
    for (let t = Date.now() + 60_000; Date.now() < t && (await local(chB)) !== want;)
      await sleep(500);
    const stored = [await local(chA), await local(chB)];
    const truth = await checkAgainstTruth(stream.events, chB, TABLES.panes, 'fast');
    const localPanes = [
      await count(chA, `SELECT count() AS n FROM ${TABLES.panes}_local FINAL`),
      await count(chB, `SELECT count() AS n FROM ${TABLES.panes}_local FINAL`),
    ];
    const storedAlerts = await count(chB, `SELECT count() AS n FROM ${TABLES.alerts} FINAL`);
    await chA.close();
    await chB.close();
    const alerts = await readAlerts(kafka, topics.TOPIC_ALERTS);
    const dups = duplicatedEpisodes(alerts);
    const served = answers.filter((a) => a.statuses.every((x) => x === 200) && a.events > 0).length;
    console.log(
      `[cluster] server A down ${DOWN_MS / 1000} s at ${downAt} committed events (${whileDown - downAt} more committed while down); ` +
        `gateway on B: ${served} of ${answers.length} rounds answered (region's events ${answers.at(-1)?.events}, alerts ${answers.at(-1)?.alerts}); raw events per replica ${stored.join('/')} of ${want}; ` +
        `pane rows ${truth.rows} (replicas ${localPanes.join('/')}): ${truth.mismatched.length} differ, ${truth.missing.length} of ${truth.expectedRows} missing; ` +
        `alert transitions ${alerts.length} on Kafka, ${storedAlerts} on B; duplicated episodes ${dups.length}`,
    );
    reportChaos({
      fault: 'ClickHouse cluster: one of two replicas kill -9 (restarted)',
      injected: `1 x SIGKILL of the processor's server, down ${DOWN_MS / 1000} s`,
      events: want,
      ...pipelineLosses(truth, Math.min(...stored), want),
      duplicatedEpisodes: dups.length,
    });
    expect(answers.length).toBeGreaterThan(10);
    expect(served).toBe(answers.length);
    expect(stored).toEqual([want, want]);
    expect(localPanes[0]).toBe(localPanes[1]);
    expect(truth.mismatched.length).toBe(0);
    expect(truth.missing.length, describeMissing(truth.missing)).toBe(0);
    expect(alerts.length).toBeGreaterThan(0);
    expect(storedAlerts).toBe(alerts.length);
    expect(dups).toEqual([]);
  });
});
