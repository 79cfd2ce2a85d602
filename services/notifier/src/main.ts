import { createLogger, exitOnConfigError, healthRoute, serveOps } from '@tillwatch/config';
import {
  ClickHouseWebhookStore,
  JournalWebhookStore,
  type WebhookStore,
} from '@tillwatch/webhooks';
import { loadNotifierEnv, productionSecretKeys, secretKeysOf, toNotifierConfig } from './config';
import { createNotifier } from './notifier';
import { jsonlAlerts } from './sources';

/** The notifier as its own process: `npm start -w @tillwatch/notifier`. */
async function main() {
  const env = loadNotifierEnv();
  const logger = createLogger('notifier', { level: env.LOG_LEVEL, pretty: false });
  // Probes answer from the start: 503 with the reason until the notifier can deliver.
  let unhealthy: string | undefined = 'starting: opening the webhook store';
  const health = await serveOps(env.NOTIFIER_HEALTH_HOST, env.NOTIFIER_HEALTH_PORT, {
    '/healthz': healthRoute(() => unhealthy),
  });
  logger.info({ port: health.port }, 'health on /healthz');
  let store: WebhookStore;
  if (env.CLICKHOUSE_URL) {
    const secretKeys = productionSecretKeys(env);
    const ch = await ClickHouseWebhookStore.open({
      clickhouse: { url: env.CLICKHOUSE_URL, logger },
      secretKeys,
    });
    // Rows in clear (before encryption) or under a rotated-out key are sealed with the current one.
    const resealed = await ch.resealSecrets();
    logger.info({ resealed, secretKeyId: secretKeys.current.id }, 'webhook store: ClickHouse');
    store = ch;
  } else {
    const secretKeys = secretKeysOf(env);
    const journal = await JournalWebhookStore.open(env.NOTIFIER_JOURNAL_PATH, {
      ...(secretKeys ? { secretKeys } : {}),
    });
    logger.info({ path: env.NOTIFIER_JOURNAL_PATH, ...journal.stats }, 'webhook store: journal');
    store = journal;
  }
  const fileSource =
    !env.KAFKA_BROKERS && env.NOTIFIER_ALERTS_FILE
      ? jsonlAlerts(env.NOTIFIER_ALERTS_FILE)
      : undefined;
  const notifier = createNotifier({
    config: toNotifierConfig(env),
    store,
    logger,
    ...(fileSource ? { source: fileSource } : {}),
  });
  notifier.start();
  // With Kafka, ready only once the consumer joins its group: loading kafkajs below takes a
  // while, and a probe answered 200 in between would send traffic to a notifier that consumes
  // nothing (CI saw it under load).
  unhealthy = env.KAFKA_BROKERS ? 'starting: joining the consumer group' : undefined;
  let consumer: { stop(): Promise<void> } | undefined;
  let stopping = false;
  // Handlers go in before anything slow (joining the consumer group takes seconds): a SIGTERM
  // during start-up still shuts down cleanly.
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await consumer?.stop().catch((err: unknown) => logger.warn({ err }, 'consumer stop failed'));
    await notifier.stop();
    await store.close();
    await new Promise((r) => health.server.close(r));
    logger.info(notifier.stats(), 'stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  if (env.KAFKA_BROKERS) {
    // Loaded only when Kafka is configured: the embedded mode does not need kafkajs at all.
    const { kafkaAlertConsumer } = await import('./kafka-source');
    const c = kafkaAlertConsumer({
      brokers: env.KAFKA_BROKERS,
      topic: env.NOTIFIER_ALERTS_TOPIC,
      groupId: env.NOTIFIER_GROUP_ID,
      ingest: notifier.ingest,
      fromBeginning: env.NOTIFIER_KAFKA_FROM_BEGINNING,
      logger,
    });
    consumer = c;
    // kafkajs restarts its consumer after a retriable error and stops it for good after any
    // other: then the notifier delivers nothing more, and says so to its liveness probe.
    c.consumer.on(c.consumer.events.CRASH, (e) => {
      if (e.payload.restart || stopping) return;
      unhealthy = `consumer stopped: ${e.payload.error.message}`;
      logger.error({ err: e.payload.error }, 'Kafka consumer stopped for good');
    });
    c.consumer.on(c.consumer.events.GROUP_JOIN, () => {
      if (!unhealthy?.startsWith('consumer stopped')) unhealthy = undefined;
    });
    await c.start().catch((err: unknown) => {
      if (!stopping) throw err; // a start cut short by shutdown is not a failure
    });
  } else if (!fileSource) {
    logger.warn('no KAFKA_BROKERS nor NOTIFIER_ALERTS_FILE: only delivering what is queued');
  }
}

main().catch(exitOnConfigError);
