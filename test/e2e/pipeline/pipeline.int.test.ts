import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertSchema } from '@tillwatch/contracts';
import { TABLES } from '@tillwatch/clickhouse';
import {
  PARTITIONS,
  alertSig,
  chClient,
  checkAgainstTruth,
  count,
  createSuiteProcessor,
  createTopics,
  expectedAlerts,
  makeStream,
  pipelineSuite,
  produce,
  readAlerts,
  streamRecords,
  waitProcessed,
} from './harness';

/**
 * End to end on the real broker and server: a simulated stream produced to Kafka comes out of
 * the processor as pane rows in ClickHouse equal to ReferenceEngine's panes over the same
 * events (and the windows summed from them equal to its windows),
 * and as alert transitions on pos.alerts equal to the Monitor's over each partition.
 */
describe('pipeline end to end', () => {
  const suite = pipelineSuite('e2e');
  const { topics, db, kafka } = suite;
  const ch = chClient();
  const stream = makeStream(7, 40_000);
  const processor = createSuiteProcessor(suite, { instance: 'solo', logLevel: 'warn' });

  beforeAll(async () => {
    await createTopics(kafka, Object.values(topics));
    await produce(kafka, topics.TOPIC_EVENTS, streamRecords(stream));
  }, 120_000);
  afterAll(async () => {
    await processor.stop();
    await ch.close();
  });

  it('pane rows and windows equal the reference engine, alerts equal the per-partition monitors', async () => {
    const t0 = performance.now();
    await processor.start();
    await waitProcessed(suite);
    const elapsed = performance.now() - t0;

    const truth = await checkAgainstTruth(stream.events, ch, `${db}.${TABLES.panes}`);
    const valid = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.events} FINAL`);
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
    console.log(
      `[e2e] ${stream.events.length} events through the processor in ${Math.round(elapsed)} ms; ` +
        `${truth.rows} pane rows (${JSON.stringify(truth.byScope)}), ` +
        `${truth.checked} held to ReferenceEngine with ${truth.windowsChecked} window sums, ${truth.mismatched.length} differ, ` +
        `${truth.missing.length} of ${truth.expectedRows} expected rows missing; ` +
        `${alerts.length} alert transitions on the topic, ${want.length} expected`,
    );
    if (truth.mismatched.length)
      console.log('first mismatches', JSON.stringify(truth.mismatched.slice(0, 3)));
    if (truth.missing.length) console.log('first missing', truth.missing.slice(0, 5));

    expect(valid).toBe(stream.events.length);
    // Prometheus: events/s source, lag per partition (caught up: 0 or a transaction marker),
    // batch write latency, alert counts.
    expect(metric('tw_processor_events_total{outcome="valid"}')).toBe(stream.events.length);
    expect(metric('tw_processor_decode_errors_total')).toBe(0);
    expect(metrics).toMatch(
      /tw_processor_consumer_lag\{topic="[^"]+events",partition="3"\} [01]\n/,
    );
    expect(metric('tw_processor_batch_write_seconds_count')).toBeGreaterThan(0);
    expect(metric('tw_processor_alerts_total')).toBe(want.length);
    expect(truth.rows).toBeGreaterThan(0);
    expect(truth.windowsChecked).toBeGreaterThan(truth.rows);
    expect(new Set(Object.keys(truth.byScope))).toEqual(
      new Set(['terminal', 'merchant', 'region', 'firmware', 'issuer', 'fleet']),
    );
    expect(truth.mismatched).toEqual([]);
    expect(truth.missing).toEqual([]);

    for (const a of alerts) expect(alertSchema.safeParse(a).success).toBe(true);
    expect(want.length).toBeGreaterThan(0);
    expect(alerts.map(alertSig).sort()).toEqual(want.map(alertSig).sort());
    const firing = alerts.filter((a) => a.status === 'firing');
    expect(new Set(firing.map((a) => `${a.alertId}|${a.ts}`)).size).toBe(firing.length);
    void PARTITIONS;
  });
});
