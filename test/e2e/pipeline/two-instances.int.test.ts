import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '@tillwatch/clickhouse';
import type { Alert } from '@tillwatch/contracts';
import { createProcessor, loadProcessorConfig, type Processor } from '@tillwatch/processor';
import {
  chClient,
  checkAgainstTruth,
  count,
  createTopics,
  duplicatedEpisodes,
  env,
  expectedAlerts,
  makeStream,
  newKafka,
  produce,
  readTopic,
  streamRecords,
  uniqueSuffix,
  waitCaughtUp,
} from './harness';

/** Two processors in one consumer group split the partitions and together produce what one does. */
describe('two instances', () => {
  const id = uniqueSuffix();
  const topics = {
    TOPIC_EVENTS: `two.${id}.events`,
    TOPIC_DLQ: `two.${id}.dlq`,
    TOPIC_ALERTS: `two.${id}.alerts`,
    TOPIC_ROLLUPS: `two.${id}.rollups`,
  };
  const db = `two_${id}`;
  const groupId = `two-${id}`;
  const kafka = newKafka(`two-${id}`);
  const ch = chClient();
  const stream = makeStream(41, 40_000);
  const make = (instance: string): Processor =>
    createProcessor({
      config: loadProcessorConfig({
        KAFKA_BROKERS: env('KAFKA_BROKERS'),
        CLICKHOUSE_URL: env('CLICKHOUSE_URL'),
        CLICKHOUSE_DATABASE: db,
        ...topics,
        PROCESSOR_GROUP_ID: groupId,
        PROCESSOR_INSTANCE_ID: instance,
        PROCESSOR_METRICS_PORT: '0',
        LOG_LEVEL: 'error',
      }),
    });
  const a = make('a');
  const b = make('b');

  beforeAll(async () => {
    await createTopics(kafka, Object.values(topics));
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await ch.close();
  });

  it('split the partitions and produce the same stats and alerts as one', async () => {
    await Promise.all([a.start(), b.start()]);
    await produce(kafka, topics.TOPIC_EVENTS, streamRecords(stream));
    await waitCaughtUp(kafka, groupId, [topics.TOPIC_EVENTS, topics.TOPIC_ROLLUPS]);
    const valid = async (p: Processor) =>
      (await p.metrics.events.get()).values.find((v) => v.labels.outcome === 'valid')?.value ?? 0;
    const [va, vb] = [await valid(a), await valid(b)];
    const truth = await checkAgainstTruth(stream.events, ch, `${db}.${TABLES.rates}`, 'fast');
    const stored = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.events} FINAL`);
    const alerts = (await readTopic(kafka, topics.TOPIC_ALERTS)).map(
      (m) => JSON.parse(m.value!.toString()) as Alert,
    );
    const want = expectedAlerts(stream);
    const sig = (x: Alert) => `${x.alertId}|${x.status}|${x.ts}`;
    console.log(
      `[two] instance a handled ${va} events, b ${vb}; raw events ${stored}/${stream.events.length}; ` +
        `stats rows ${truth.rows}: ${truth.mismatched.length} differ, ${truth.missing.length} missing; ` +
        `alert transitions ${alerts.length} (one instance: ${want.length})`,
    );
    expect(va).toBeGreaterThan(0);
    expect(vb).toBeGreaterThan(0);
    expect(stored).toBe(stream.events.length);
    expect(truth.mismatched.length).toBe(0);
    expect(truth.missing.length).toBe(0);
    expect(duplicatedEpisodes(alerts)).toEqual([]);
    expect([...new Set(alerts.map(sig))].sort()).toEqual(want.map(sig).sort());
  });
});
