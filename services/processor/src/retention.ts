import { startRetention, type ClickHouse } from '@tillwatch/clickhouse';
import type { Logger } from '@tillwatch/config';
import type { ProcessorEnv } from './config';

/**
 * Drop the day partitions RETENTION says are too old: once now, then every RETENTION_EVERY.
 * Call after store.migrate() (the tables exist then); await the returned stop() before
 * store.close(), so a pass in progress finishes on an open client. Failures are logged, never
 * thrown. Every instance may run it: a partition another instance already dropped is simply
 * no longer listed.
 */
export function startProcessorRetention(
  store: { readonly ch: ClickHouse },
  cfg: Pick<ProcessorEnv, 'RETENTION' | 'RETENTION_EVERY'>,
  log: Logger,
): () => Promise<void> {
  const logger = log.child({ component: 'retention' });
  logger.info({ days: cfg.RETENTION, everyMs: cfg.RETENTION_EVERY }, 'retention scheduled');
  return startRetention(store.ch, {
    policy: cfg.RETENTION,
    everyMs: cfg.RETENTION_EVERY,
    logger,
  });
}
