import type { Server } from 'node:http';
import { healthRoute, serveOps } from '@tillwatch/config';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one processor (docs/architecture.md: lag, events/s, decode errors, batch latency, alerts). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tw_processor_' });
  return {
    registry,
    /** events by outcome; events/s is rate(tw_processor_events_total[1m]) */
    events: new Counter({
      name: 'tw_processor_events_total',
      help: 'pos.events records handled, by outcome (valid, invalid, replayed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    mispartitioned: new Counter({
      name: 'tw_processor_events_mispartitioned_total',
      help: "pos.events records found in another partition than their merchantId's murmur2 partition (a producer with another partitioner, e.g. librdkafka's default), by the partition they came in; each re-routed to its own (EVENTS_REPARTITION)",
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    decodeErrors: new Counter({
      name: 'tw_processor_decode_errors_total',
      help: 'records that broke the contract and went to the dead-letter topic and table',
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'tw_processor_consumer_lag',
      help: 'records behind the high watermark, per topic partition, after the last batch',
      labelNames: ['topic', 'partition'] as const,
      registers: [registry],
    }),
    writeSeconds: new Histogram({
      name: 'tw_processor_batch_write_seconds',
      help: 'ClickHouse write of one batch of results, retries included',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'tw_processor_commit_seconds',
      help: 'Kafka transaction of one batch: alerts, rollups, dead letters and offsets',
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    processSeconds: new Histogram({
      name: 'tw_processor_batch_process_seconds',
      help: 'CPU side of one batch: decode, tasks (windows, rules), row and record building',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    batchRecords: new Histogram({
      name: 'tw_processor_batch_records',
      help: 'records handled per write and commit (replayed ones included)',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000],
      registers: [registry],
    }),
    commitGroupBatches: new Histogram({
      name: 'tw_processor_commit_group_batches',
      help: 'partition batches committed together (one Kafka transaction)',
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32],
      registers: [registry],
    }),
    writeGroupBatches: new Histogram({
      name: 'tw_processor_write_group_batches',
      help: 'partition batches whose rows went to ClickHouse together (one insert per table)',
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32],
      registers: [registry],
    }),
    heldAhead: new Gauge({
      name: 'tw_processor_events_held_ahead',
      help: "events of a partition held because their time is far past the partition's (a wrong terminal clock), until another terminal vouches for it",
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    droppedAhead: new Gauge({
      name: 'tw_processor_events_dropped_ahead',
      help: 'events dropped from that hold when it overflowed (they stay in events_raw), since the partition was assigned',
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    rulesReloads: new Counter({
      name: 'tw_processor_rules_reloads_total',
      help: 'rule sets put in force (applied, the start included) or refused (the old set stays)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    rulesInfo: new Gauge({
      name: 'tw_processor_rules_info',
      help: 'the rule set in force: sha256 of RULES_FILE (defaults: no file)',
      labelNames: ['sha256'] as const,
      registers: [registry],
    }),
    writeRetries: new Counter({
      name: 'tw_processor_clickhouse_retries_total',
      help: 'ClickHouse writes retried (server down or slow): the consumer waits, nothing is dropped',
      registers: [registry],
    }),
    producerReplaced: new Counter({
      name: 'tw_processor_producer_replaced_total',
      help: 'transactional producers replaced after a commit or abort failed mid-way (broker lost)',
      registers: [registry],
    }),
    alerts: new Counter({
      name: 'tw_processor_alerts_total',
      help: 'alert transitions produced to pos.alerts',
      labelNames: ['rule', 'status'] as const,
      registers: [registry],
    }),
    rows: new Counter({
      name: 'tw_processor_rows_total',
      help: 'rows written to ClickHouse, by table role',
      labelNames: ['table'] as const,
      registers: [registry],
    }),
    recoveries: new Counter({
      name: 'tw_processor_recoveries_total',
      help: 'partition assignments that rebuilt state by replay',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    recoverySeconds: new Histogram({
      name: 'tw_processor_recovery_seconds',
      help: "a partition's rebuild at its first batch after an assignment, before its replay: the rules memory, warm-up and pending settlements read from ClickHouse, the replay's offset from Kafka (the partition handles nothing meanwhile)",
      labelNames: ['topic'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    memoryRestores: new Counter({
      name: 'tw_processor_memory_restores_total',
      help: 'partition recoveries that restored the rules memory (profiles, baselines, open episodes): from rules_memory, or learnt from stored events on a first start (RULES_WARMUP)',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    lateRollups: new Gauge({
      name: 'tw_processor_rollup_late_partials',
      help: 'rollup partials that arrived after their pane closed (0 unless an idle source woke up with old events)',
      registers: [registry],
    }),
    idleTicks: new Counter({
      name: 'tw_processor_idle_source_ticks_total',
      help: 'idle events partitions reported to the rollup stage (caught up, no record for ROLLUP_IDLE_AFTER)',
      registers: [registry],
    }),
    warmupEvents: new Counter({
      name: 'tw_processor_warmup_events_total',
      help: 'stored events (events_raw) read to warm the rules up on a first start (RULES_WARMUP)',
      registers: [registry],
    }),
    warmupSeconds: new Counter({
      name: 'tw_processor_warmup_seconds_total',
      help: 'time spent warming the rules up from stored events on a first start (RULES_WARMUP)',
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

export function serveMetrics(
  metrics: Metrics,
  host: string,
  port: number,
  /** why the instance is not healthy, or undefined: /healthz answers 503 with it */
  unhealthy: () => string | undefined = () => undefined,
): Promise<{ server: Server; port: number }> {
  return serveOps(host, port, {
    '/metrics': async () => ({
      status: 200,
      type: metrics.registry.contentType,
      body: await metrics.registry.metrics(),
    }),
    '/healthz': healthRoute(unhealthy),
  });
}
