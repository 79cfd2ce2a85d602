import { createLogger, exitOnConfigError } from '@tillwatch/config';
import { JournalWebhookStore } from '@tillwatch/webhooks';
import { loadNotifierEnv, toNotifierConfig } from './config';
import { createNotifier, type AlertSource } from './notifier';
import { jsonlAlerts } from './sources';
import { kafkaAlerts } from './kafka-source';

/** The notifier as its own process: `tsx services/notifier/src/main.ts`. */
async function main() {
  const env = loadNotifierEnv();
  const logger = createLogger('notifier', { level: env.LOG_LEVEL, pretty: false });
  const store = await JournalWebhookStore.open(env.NOTIFIER_JOURNAL_PATH);
  logger.info({ journal: env.NOTIFIER_JOURNAL_PATH, ...store.stats }, 'webhook journal opened');
  let source: AlertSource | undefined;
  let closeSource = async () => {};
  if (env.KAFKA_BROKERS) {
    const k = kafkaAlerts({
      brokers: env.KAFKA_BROKERS,
      topic: env.NOTIFIER_ALERTS_TOPIC,
      groupId: env.NOTIFIER_GROUP_ID,
      logger,
    });
    source = k.alerts;
    closeSource = k.close;
  } else if (env.NOTIFIER_ALERTS_FILE) {
    source = jsonlAlerts(env.NOTIFIER_ALERTS_FILE);
  } else {
    logger.warn('no KAFKA_BROKERS nor NOTIFIER_ALERTS_FILE: only delivering what is queued');
  }
  const notifier = createNotifier({
    config: toNotifierConfig(env),
    store,
    logger,
    ...(source ? { source } : {}),
  });
  notifier.start();
  void notifier.sourceDone.then(() => logger.info(notifier.stats(), 'alert source drained'));
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await closeSource();
    await notifier.stop();
    await store.close();
    logger.info(notifier.stats(), 'stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch(exitOnConfigError);
