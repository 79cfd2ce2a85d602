import { ConfigError } from '@tillwatch/config';
import {
  createClickHouse,
  ensureDatabase,
  migrate,
  type ClickHouse,
  type MigrateResult,
} from '@tillwatch/clickhouse';
import type { Logger } from '@tillwatch/config';
import { createKafka, ensureTopics } from '@tillwatch/kafka';
import { ClickHouseWebhookStore } from '@tillwatch/webhooks';
import { createAlertFeed, type AlertFeed } from './alert-feed';
import { ClickHouseStore } from './clickhouse-store';
import type { GatewayConfig, ProductionConfig } from './config';
import { ClickHouseKeyStore } from './managed-keys';
import { createGateway, type Gateway } from './gateway';

export interface ProductionGateway {
  url: string;
  gateway: Gateway;
  store: ClickHouseStore;
  feed: AlertFeed;
  webhooks: ClickHouseWebhookStore;
  ch: ClickHouse;
  migrations: MigrateResult;
  stop(): Promise<void>;
}

/** Thrown when the production variables are missing: the embedded mode is `npm start`. */
export class NotProductionError extends Error {
  readonly code = 'TW_GW_NOT_PRODUCTION';
  readonly retriable = false;
  constructor(readonly missing: readonly string[]) {
    super(
      `the gateway on its own runs the production mode and needs ${missing.join(' and ')} ` +
        `(KAFKA_BROKERS=host:port[,host:port] CLICKHOUSE_URL=http://host:8123[/database]). ` +
        `For the embedded all-in-one (simulator + engine + gateway in one process, no Kafka, ` +
        `no ClickHouse) run \`npm start\` at the repository root instead.`,
    );
    this.name = 'NotProductionError';
  }
}

/**
 * The gateway in production mode: ClickHouse behind the REST API (migrations applied first),
 * pos.alerts from Kafka for the live feed, pane_counts polled for live rates, webhook
 * subscriptions in the ClickHouse webhook store shared with the notifier. Listens before the consumer has joined its
 * group, so the board and /healthz answer while Kafka is still being reached.
 */
export async function startProductionGateway(opts: {
  config: GatewayConfig;
  logger?: Logger;
  /** options of the store, for tests (faster polls) */
  storeOptions?: { ratesPollMs?: number; silencesRefreshMs?: number };
}): Promise<ProductionGateway> {
  const { config, logger } = opts;
  const prod: ProductionConfig | undefined = config.production;
  if (!prod) throw new NotProductionError(config.productionMissing);
  // The notifier seals every signing secret at its start: without the same key the gateway could
  // not show, rotate or replay with them. Checked here, not in the schema: the all-in-one reads
  // the same schema and keeps its own journal key.
  if (!config.webhookSecretKeys) {
    throw new ConfigError([
      {
        variable: 'WEBHOOK_SECRET_KEY',
        message:
          "required in production: the notifier's key that seals webhook signing secrets (base64 of 32 bytes)",
      },
    ]);
  }

  const database = new URL(prod.clickhouseUrl).pathname.replace(/^\/+|\/+$/g, '');
  if (database && database !== 'default') {
    await ensureDatabase({ url: prod.clickhouseUrl }, decodeURIComponent(database));
  }
  const ch = createClickHouse({ url: prod.clickhouseUrl, ...(logger ? { logger } : {}) });
  const cleanup: (() => Promise<unknown>)[] = [() => ch.close()];
  const undo = async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  };
  try {
    const migrations = await migrate(ch);
    logger?.info(migrations, 'ClickHouse migrations');
    const store = await ClickHouseStore.open({
      ch,
      ratesPollMs: opts.storeOptions?.ratesPollMs ?? prod.ratesPollMs,
      ...(opts.storeOptions?.silencesRefreshMs !== undefined
        ? { silencesRefreshMs: opts.storeOptions.silencesRefreshMs }
        : {}),
      ...(logger ? { logger: logger.child({ part: 'store' }) } : {}),
    });
    cleanup.push(() => store.close());
    // Same client, migrations already applied above: open() finds nothing left to apply.
    const webhooks = await ClickHouseWebhookStore.open({
      clickhouse: ch,
      ...(config.webhookSecretKeys ? { secretKeys: config.webhookSecretKeys } : {}),
    });
    cleanup.push(() => webhooks.close());
    // keys admins make here, known to every gateway of this ClickHouse
    const keys = await ClickHouseKeyStore.open(ch);
    cleanup.push(() => keys.close());
    const gateway = await createGateway({
      config,
      store,
      ...(logger ? { logger } : {}),
      webhooks: { store: webhooks, guard: config.webhookGuard },
      keys,
    });
    cleanup.push(() => gateway.close());
    const url = await gateway.listen();
    const kafka = createKafka({
      brokers: prod.kafkaBrokers,
      clientId: 'tillwatch-gateway',
      ...(logger ? { logger: logger.child({ part: 'kafka' }) } : {}),
    });
    // The processor creates pos.alerts too; whoever starts first makes it (4 partitions, the
    // processor's TOPIC_PARTITIONS default). An existing topic is left as it is.
    await ensureTopics(kafka, [{ topic: prod.alertsTopic, partitions: 4 }], {
      ...(logger ? { logger } : {}),
    });
    const feed = createAlertFeed({
      kafka,
      topic: prod.alertsTopic,
      groupId: prod.groupId,
      store,
      persist: prod.persistAlerts,
      fromBeginning: prod.fromBeginning,
      ...(logger ? { logger: logger.child({ part: 'feed' }) } : {}),
    });
    cleanup.push(() => feed.stop());
    await feed.start();
    logger?.info(
      { url, topic: prod.alertsTopic, groupId: prod.groupId, ratesPollMs: prod.ratesPollMs },
      'gateway running (production mode)',
    );
    let stopped = false;
    return {
      url,
      gateway,
      store,
      feed,
      webhooks,
      ch,
      migrations,
      async stop() {
        if (stopped) return;
        stopped = true;
        // consumer first (no new alerts), then HTTP and sockets, then the stores and client
        await undo();
      },
    };
  } catch (err) {
    await undo();
    throw err;
  }
}
