import { createLogger, exitOnConfigError } from '@tillwatch/config';
import { loadGatewayConfig } from './config';
import { NotProductionError, startProductionGateway } from './production';

/**
 * `npm start -w @tillwatch/gateway`: the gateway as its own process, production mode only
 * (KAFKA_BROKERS + CLICKHOUSE_URL). The embedded all-in-one is `npm start` at the root.
 */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  if (!config.production) {
    process.stderr.write(
      `tillwatch gateway: ${new NotProductionError(config.productionMissing).message}\n`,
    );
    process.exit(2);
  }
  const logger = createLogger('gateway', { level: config.logLevel });
  if (config.apiKeys.length === 0) {
    logger.warn(
      'set TILLWATCH_API_KEYS or TILLWATCH_API_KEYS_FILE: without keys every API call gets 401',
    );
  }
  const running: { stop?: () => Promise<void> } = {};
  let stopping = false;
  // Handlers before anything slow (migrations, joining the consumer group): a SIGTERM during
  // start-up still shuts down cleanly.
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // a signal during start-up exits at once: nothing was serving yet
    await running.stop?.().catch((err: unknown) => logger.warn({ err }, 'stop failed'));
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  const gw = await startProductionGateway({ config, logger });
  running.stop = gw.stop;
}

main().catch((err: unknown) => {
  try {
    exitOnConfigError(err); // a bad variable: exit 78 naming it
  } catch {
    process.stderr.write(
      `tillwatch gateway: cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  }
});
