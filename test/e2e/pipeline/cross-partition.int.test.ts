import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '@tillwatch/clickhouse';
import { createSimulation } from '@tillwatch/simulator';
import {
  PARTITIONS,
  alertSig,
  chClient,
  checkAgainstTruth,
  count,
  createSuiteProcessor,
  createTopics,
  expectedAlerts,
  pipelineSuite,
  produce,
  readAlerts,
  streamOf,
  streamRecords,
  waitProcessed,
} from './harness';

/**
 * The rules whose keys span every partition — a regional outage, an issuer in trouble, a bad
 * firmware rollout — raised by the processor's rollup stage from real Kafka, with one events
 * partition that never gets a record (its owner reports it idle, or no region window would
 * ever close).
 */
describe('cross-partition rules end to end', () => {
  const suite = pipelineSuite('xp');
  const { topics, db, kafka } = suite;
  const ch = chClient();
  const start = Date.UTC(2026, 2, 2, 1, 0, 0); // 09:00 in the fleet's UTC+8: trading hours
  const at = (min: number) => start + min * 60_000;
  // one after the other: an issuer outage during a regional one blurs both (left for the rules)
  const sim = createSimulation({
    seed: 11,
    scenario: 'healthy',
    start,
    durationMs: 160 * 60_000,
    fleet: { terminals: 500 },
    incidents: [
      { scenario: 'regional-outage-errors', start: at(35), durationMs: 25 * 60_000 },
      { scenario: 'issuer-outage', start: at(65), durationMs: 25 * 60_000 },
      { scenario: 'firmware-regression', start: at(95), durationMs: 60 * 60_000 },
    ],
  });
  // every event, then sentinels in every partition that close the last windows
  const stream = streamOf(sim, Number.POSITIVE_INFINITY);
  const processor = createSuiteProcessor(suite, {
    instance: 'solo',
    logLevel: 'warn',
    // The stream is placed over 4 of the 5 events partitions on purpose (murmur2 mod 4), to
    // leave one empty: the processor is told to trust that placement, not to move merchants
    // to their murmur2 partition of 5.
    extra: { ROLLUP_IDLE_AFTER: '2s', EVENTS_REPARTITION: 'off' },
  });

  beforeAll(async () => {
    // one events partition more than the stream uses: it stays empty
    await createTopics(kafka, [topics.TOPIC_EVENTS], PARTITIONS + 1);
    await createTopics(kafka, [topics.TOPIC_DLQ, topics.TOPIC_ALERTS, topics.TOPIC_ROLLUPS]);
    await produce(kafka, topics.TOPIC_EVENTS, streamRecords(stream));
  }, 120_000);
  afterAll(async () => {
    await processor.stop();
    await ch.close();
  });

  it('regional_outage, issuer_degradation and firmware_regression come out of the rollup', async () => {
    await processor.start();
    await waitProcessed(suite);

    const alerts = await readAlerts(kafka, topics.TOPIC_ALERTS);
    const want = expectedAlerts(stream);
    const truth = await checkAgainstTruth(stream.events, ch, `${db}.${TABLES.panes}`);
    const metrics = await fetch(`http://127.0.0.1:${processor.metricsPort}/metrics`).then((r) =>
      r.text(),
    );
    const idleTicks = Number(/tw_processor_idle_source_ticks_total (\d+)/.exec(metrics)?.[1]);
    const cross = ['regional_outage', 'issuer_degradation', 'firmware_regression'];
    const stored = await ch
      .query({
        query: `SELECT rule, key, status FROM ${db}.${TABLES.alerts} FINAL WHERE rule IN ('${cross.join("','")}') ORDER BY rule, key, status`,
        format: 'JSONEachRow',
      })
      .then((r) => r.json<{ rule: string; key: string; status: string }>());
    console.log(
      `[e2e] ${stream.events.length} events, 1 of ${PARTITIONS + 1} partitions empty (${idleTicks} idle ticks); ` +
        `${alerts.length} alert transitions on the topic, ${want.length} expected; ` +
        `cross-partition: ${alerts
          .filter((a) => cross.includes(a.rule))
          .map((a) => `${a.rule}/${a.key} ${a.status}`)
          .join(', ')}; pane rows: ${truth.checked} held to ReferenceEngine, ` +
        `${truth.mismatched.length} differ, ${truth.missing.length} missing`,
    );

    // every labelled incident is raised, by the rollup stage, and stored
    for (const label of stream.labels) {
      expect(
        alerts.some(
          (a) =>
            a.rule === label.rule &&
            a.scope === label.scope &&
            a.key === label.key &&
            a.status === 'firing',
        ),
        `${label.rule} ${label.key}`,
      ).toBe(true);
      expect(stored.some((r) => r.rule === label.rule && r.key === label.key)).toBe(true);
    }
    expect(new Set(stream.labels.map((l) => l.rule))).toEqual(new Set(cross));
    // exactly the transitions of the pipeline's definition (events partitions + rollup)
    expect(alerts.map(alertSig).sort()).toEqual(want.map(alertSig).sort());
    // the empty partition was reported idle, and held nothing back
    expect(idleTicks).toBeGreaterThan(0);
    expect(truth.byScope.region).toBeGreaterThan(0);
    expect(truth.mismatched).toEqual([]);
    expect(truth.missing).toEqual([]);
    expect(await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.events} FINAL`)).toBe(
      stream.events.length,
    );
  });
});
