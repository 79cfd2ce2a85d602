import type { Server } from 'node:http';
import { createLogger, type Logger } from '@tillwatch/config';
import { createKafka, ensureTopics, TRANSACTIONAL_RETRY, type Kafka } from '@tillwatch/kafka';
import type { RulesConfigInput } from '@tillwatch/rules';
import { partitionerFor } from '@tillwatch/stream';
import { Partitioners } from 'kafkajs';
import { BatchHandler } from './batch';
import { GroupCommit } from './commit';
import type { ProcessorEnv } from './config';
import { StaleError, Transactions, type ProcessorContext } from './context';
import { IdleTicks } from './idle';
import { createMetrics, serveMetrics, type Metrics } from './metrics';
import { PartitionStages } from './partition-stages';
import { Recovery } from './recovery';
import { Repartition } from './repartition';
import { startProcessorRetention } from './retention';
import { createStore, type Store } from './store';

export { writeEvent } from './event-rows';

/**
 * The processor: one consumer group on pos.events and pos.rollups, exactly-once towards Kafka
 * and idempotent towards ClickHouse.
 *
 * Per batch (kafkajs eachBatch, one partition):
 *  1. decode + validate every record; bad ones become dead letters;
 *  2. feed the partition's stage (@tillwatch/stream: EventStage or RollupStage): window stats, alert transitions and
 *     rollup partials come out at pane boundaries;
 *  3. write raw events, stats, alerts and dead letters to ClickHouse, retrying with backoff
 *     while it is down (the consumer waits: nothing is fetched past what is not yet durable);
 *  4. one Kafka transaction: alerts to pos.alerts, partials and ticks to pos.rollups (bundled
 *     per rollups partition, rollup-bundle.ts), dead letters to
 *     pos.events.dlq, records found outside their merchant's murmur2 partition copied to it
 *     (repartition.ts), and the consumer offset. The offset is committed only with the outputs it
 *     covers, after ClickHouse has them.
 * Partitions are handled concurrently and steps 3-4 are grouped: one transaction carries the
 * outputs and offsets of every batch whose write is done (see commitDurably).
 *
 * A crash anywhere aborts the open transaction (the restarted instance, same transactional id,
 * fences it); consumers read committed only, so no alert or partial is seen twice. ClickHouse
 * rows written before the crash are written again with the same identity and fold away.

 *
 * The parts: batch.ts (one partition batch), commit.ts (group commit), recovery.ts (state
 * rebuilt on assignment), idle.ts (idle sources), partition-stages.ts (stages, rules, silences).
 */
export interface ProcessorOptions {
  config: ProcessorEnv;
  logger?: Logger;
  /** for tests: override the rules (merged over defaults) */
  rules?: RulesConfigInput;
  /**
   * The instance can no longer work (kafkajs stopped its consumer for good): main.ts exits so
   * the orchestrator starts it again; /healthz answers 503 with the reason meanwhile.
   */
  onFatal?: (err: Error) => void;
}

export interface Processor {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly metrics: Metrics;
  readonly metricsPort: number;
  /** why the instance stopped working (onFatal), if it did */
  readonly fatal: Error | undefined;
  readonly store: Store;
}

export function createProcessor(opts: ProcessorOptions): Processor {
  const cfg = opts.config;
  const log = opts.logger ?? createLogger('processor', { level: cfg.LOG_LEVEL });
  const metrics = createMetrics();
  const kafka: Kafka = createKafka({
    brokers: cfg.KAFKA_BROKERS,
    clientId: `tillwatch-processor-${cfg.PROCESSOR_INSTANCE_ID}`,
    logger: log.child({ component: 'kafkajs' }),
  });
  const store = createStore({
    url: cfg.CLICKHOUSE_URL,
    ...(cfg.CLICKHOUSE_DATABASE ? { database: cfg.CLICKHOUSE_DATABASE } : {}),
    logger: log,
  });
  const ctx: ProcessorContext = {
    cfg,
    log,
    metrics,
    store,
    kafka,
    sourcePartitions: 0,
    rollupPartitions: 0,
    stopping: false,
  };
  const stages = new PartitionStages(ctx, opts.rules);
  const txns = new Transactions(ctx, () =>
    kafka.producer({
      transactionalId: `${cfg.PROCESSOR_GROUP_ID}-${cfg.PROCESSOR_INSTANCE_ID}`,
      idempotent: true,
      maxInFlightRequests: 1,
      retry: TRANSACTIONAL_RETRY,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    }),
  );
  const idle = new IdleTicks(ctx, txns);
  const batches = new BatchHandler(
    ctx,
    stages,
    new Recovery(ctx, stages),
    new GroupCommit(ctx, txns),
    idle,
    new Repartition(ctx),
  );
  let metricsServer: Server | undefined;
  let metricsPort = 0;
  let silenceTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let stopRetention: (() => Promise<void>) | undefined;
  let fatal: Error | undefined;

  return {
    metrics,
    store,
    get metricsPort() {
      return metricsPort;
    },
    get fatal() {
      return fatal;
    },
    async start() {
      const served = await serveMetrics(
        metrics,
        cfg.PROCESSOR_METRICS_HOST,
        cfg.PROCESSOR_METRICS_PORT,
        () => (fatal ? `consumer stopped: ${fatal.message}` : undefined),
      );
      metricsServer = served.server;
      metricsPort = served.port;
      log.info({ port: metricsPort }, 'metrics on /metrics');
      await store.migrate();
      stopRetention = startProcessorRetention(store, cfg, log);
      await stages.refreshSilences();
      stages.watchRules();
      silenceTimer = setInterval(() => {
        stages
          .refreshSilences()
          .catch((e: unknown) =>
            log.warn(
              { err: (e as Error).message },
              'silences refresh failed; keeping the last list',
            ),
          );
      }, cfg.SILENCES_REFRESH);
      silenceTimer.unref();
      await ensureTopics(
        kafka,
        [
          { topic: cfg.TOPIC_EVENTS, partitions: cfg.TOPIC_PARTITIONS },
          { topic: cfg.TOPIC_ROLLUPS, partitions: cfg.TOPIC_PARTITIONS },
          { topic: cfg.TOPIC_ALERTS, partitions: cfg.TOPIC_PARTITIONS },
          { topic: cfg.TOPIC_DLQ, partitions: cfg.TOPIC_PARTITIONS },
        ],
        { logger: log },
      );
      const admin = (ctx.admin = kafka.admin());
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({
        topics: [cfg.TOPIC_EVENTS, cfg.TOPIC_ROLLUPS],
      });
      ctx.sourcePartitions = meta.topics.find(
        (t) => t.name === cfg.TOPIC_EVENTS,
      )!.partitions.length;
      ctx.rollupPartitions = meta.topics.find(
        (t) => t.name === cfg.TOPIC_ROLLUPS,
      )!.partitions.length;
      ctx.routeRollup = partitionerFor(ctx.rollupPartitions);
      ctx.routeEvent = partitionerFor(ctx.sourcePartitions);

      await txns.connect();

      const consumer = (ctx.consumer = kafka.consumer({
        groupId: cfg.PROCESSOR_GROUP_ID,
        readUncommitted: false,
        maxBytesPerPartition: cfg.KAFKA_MAX_BYTES_PER_PARTITION,
        maxBytes: Math.max(10_485_760, 8 * cfg.KAFKA_MAX_BYTES_PER_PARTITION),
        sessionTimeout: cfg.PROCESSOR_SESSION_TIMEOUT,
        heartbeatInterval: Math.max(500, Math.floor(cfg.PROCESSOR_SESSION_TIMEOUT / 10)),
        allowAutoTopicCreation: false,
      }));
      // Every (re)assignment rebuilds every partition's state from its committed offset: cheap
      // next to getting a half-revoked state right, and the path a crash takes anyway.
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        stages.states.clear();
        idle.assign(e.payload.memberAssignment[cfg.TOPIC_EVENTS] ?? []);
        log.info({ assignment: e.payload.memberAssignment }, 'joined group');
      });
      // kafkajs restarts its consumer after a retriable error, and stops it for good after any
      // other (seen: "Failed to find group coordinator" the moment a broker died): the process
      // then stayed up with /healthz ok and processed nothing. Now it says so and exits.
      consumer.on(consumer.events.CRASH, (e) => {
        if (e.payload.restart || ctx.stopping) return;
        fatal = e.payload.error;
        log.error(
          { err: e.payload.error },
          'Kafka consumer stopped for good (kafkajs does not restart it after this error): this instance exits',
        );
        opts.onFatal?.(e.payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({
        topics: [cfg.TOPIC_EVENTS, cfg.TOPIC_ROLLUPS],
        fromBeginning: true,
      });
      idleTimer = setInterval(
        () => {
          idle
            .send()
            .catch((e: unknown) =>
              log.warn({ err: (e as Error).message }, 'idle ticks failed; next round retries'),
            );
        },
        Math.max(1000, Math.floor(cfg.ROLLUP_IDLE_AFTER / 2)),
      );
      idleTimer.unref();
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: cfg.KAFKA_PARTITIONS_CONCURRENTLY,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          try {
            await batches.handle(batch, { resolveOffset, heartbeat, isRunning, isStale });
          } catch (e) {
            // State may hold part of a batch that is not committed: forget it all and replay.
            stages.states.clear();
            if (e instanceof StaleError) return;
            log.error(
              { err: e, topic: batch.topic, partition: batch.partition },
              'batch failed; replaying from the last commit',
            );
            throw e;
          }
        },
      });
    },
    async stop() {
      ctx.stopping = true;
      stages.stop();
      clearInterval(silenceTimer);
      clearInterval(idleTimer);
      await ctx.consumer
        ?.disconnect()
        .catch((e: unknown) => log.warn({ err: e }, 'consumer disconnect'));
      await ctx.producer?.disconnect().catch(() => {});
      await ctx.admin?.disconnect().catch(() => {});
      await stopRetention?.();
      await store.close().catch(() => {});
      await new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r()));
    },
  };
}
