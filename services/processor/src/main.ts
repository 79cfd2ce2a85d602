import { createLogger, exitOnConfigError } from '@tillwatch/config';
import { loadProcessorConfig } from './config';
import { createProcessor } from './processor';

/** `tsx src/main.ts`: the processor as its own process (compose, the crash tests). */
async function main() {
  let config;
  try {
    config = loadProcessorConfig();
  } catch (e) {
    exitOnConfigError(e);
  }
  const log = createLogger('processor', { level: config.LOG_LEVEL });
  const p = createProcessor({
    config,
    logger: log,
    // the consumer stopped for good: exit (70, EX_SOFTWARE) so the orchestrator restarts it;
    // within 10 s even if a client's disconnect hangs on a broker that is away
    onFatal: () => {
      setTimeout(() => process.exit(70), 10_000).unref();
      void p.stop().finally(() => process.exit(70));
    },
  });
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ sig }, 'stopping');
    await p.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await p.start();
  log.info({ metricsPort: p.metricsPort }, 'processor running');
}

main().catch((e: unknown) => {
  process.stderr.write(`processor: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
