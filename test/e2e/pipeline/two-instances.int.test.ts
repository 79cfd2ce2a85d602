import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '@tillwatch/clickhouse';
import type { Processor } from '@tillwatch/processor';
import {
  alertSig,
  chClient,
  checkAgainstTruth,
  count,
  createSuiteProcessor,
  createTopics,
  describeMissing,
  duplicatedEpisodes,
  expectedAlerts,
  makeStream,
  PARTITIONS,
  pipelineSuite,
  produce,
  readAlerts,
  streamRecords,
  waitProcessed,
} from './harness';

/**
 * Two processors in one consumer group split the partitions and together produce what one does,
 * with the rules memory restored on every assignment (the default).
 *
 * Every pos.rollups partition starts with an aborted transaction, as a commit revoked in a
 * rebalance leaves behind: a partition's replay then starts on records read-committed never
 * delivers, and its first batch lies past where the group resumes. That batch was taken for one
 * fetched before the seek and dropped, every time: the partition hung (what restoring memory in a
 * rebalance ran into).
 */
describe('two instances', () => {
  const suite = pipelineSuite('two');
  const { topics, db, kafka } = suite;
  const ch = chClient();
  const stream = makeStream(41, 40_000);
  const logLevel = (process.env.TW_DEBUG_LOG as 'info' | undefined) ?? 'error';
  const a = createSuiteProcessor(suite, { instance: 'a', logLevel });
  const b = createSuiteProcessor(suite, { instance: 'b', logLevel });

  beforeAll(async () => {
    await createTopics(kafka, Object.values(topics));
    const producer = kafka.producer({
      transactionalId: `${suite.groupId}-revoked`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const tx = await producer.transaction();
    const ts = stream.events[0]!.ts + 5_000;
    await tx.send({
      topic: topics.TOPIC_ROLLUPS,
      messages: Array.from({ length: PARTITIONS }, (_, partition) => ({
        partition,
        value: JSON.stringify({ k: 't', src: 0, n: PARTITIONS, wm: ts - (ts % 5_000) }),
        timestamp: String(ts),
      })),
    });
    await tx.abort();
    await producer.disconnect();
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await ch.close();
  });

  it('split the partitions and produce the same pane rows and alerts as one', async () => {
    await Promise.all([a.start(), b.start()]);
    await produce(kafka, topics.TOPIC_EVENTS, streamRecords(stream));
    await waitProcessed(suite);
    const valid = async (p: Processor) =>
      (await p.metrics.events.get()).values.find((v) => v.labels.outcome === 'valid')?.value ?? 0;
    const [va, vb] = [await valid(a), await valid(b)];
    const truth = await checkAgainstTruth(stream.events, ch, `${db}.${TABLES.panes}`, 'fast');
    const stored = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.events} FINAL`);
    const alerts = await readAlerts(kafka, topics.TOPIC_ALERTS);
    const want = expectedAlerts(stream);
    console.log(
      `[two] instance a handled ${va} events, b ${vb}; raw events ${stored}/${stream.events.length}; ` +
        `pane rows ${truth.rows}: ${truth.mismatched.length} differ, ${truth.missing.length} missing; ` +
        `alert transitions ${alerts.length} (one instance: ${want.length})`,
    );
    expect(va).toBeGreaterThan(0);
    expect(vb).toBeGreaterThan(0);
    expect(stored).toBe(stream.events.length);
    expect(truth.mismatched.length).toBe(0);
    expect(truth.missing.length, describeMissing(truth.missing)).toBe(0);
    expect(duplicatedEpisodes(alerts)).toEqual([]);
    expect([...new Set(alerts.map(alertSig))].sort()).toEqual(want.map(alertSig).sort());
  });
});
