/**
 * Real Kafka and ClickHouse for tests, in docs/architecture.md's order ("Real services in tests"):
 *   1. KAFKA_BROKERS / CLICKHOUSE_URL set: use them, start nothing;
 *   2. else a Docker engine answers: testcontainers starts them;
 *   3. else deploy/local starts them as plain processes (Kafka jars from Maven Central on Java
 *      17, ClickHouse from Debian's package).
 * Each service is decided on its own: a developer may point at their own Kafka and still get a
 * local ClickHouse.
 */
import { execFile } from 'node:child_process';
// By path: deploy/local is scripts in the repository, not a package (it is also run as `node deploy/local/...`).
import { startClickHouse } from '../../../deploy/local/clickhouse/start.mjs';
import { startKafka } from '../../../deploy/local/kafka/start.mjs';

export const ENV_KAFKA = 'KAFKA_BROKERS';
export const ENV_CLICKHOUSE = 'CLICKHOUSE_URL';
/** Set to `local` or `docker` to skip the Docker probe and force one provider. */
export const ENV_PROVIDER = 'TILLWATCH_TEST_SERVICES';

/** Images for the Docker path: cp-kafka because @testcontainers/kafka drives its env vars. */
export const KAFKA_IMAGE = 'confluentinc/cp-kafka:7.9.0';
/** A current LTS release: on Docker machines the same SQL is proven on a modern server too. */
export const CLICKHOUSE_IMAGE = 'clickhouse/clickhouse-server:24.8';

export type Provider = 'env' | 'testcontainers' | 'local';
export type ServiceName = 'kafka' | 'clickhouse';

export interface ServiceEnv {
  KAFKA_BROKERS?: string;
  CLICKHOUSE_URL?: string;
}

export interface Services {
  /** Variables for the tests' environment: only the services that were asked for. */
  env: ServiceEnv;
  /** Where each service came from. */
  providers: Partial<Record<ServiceName, Provider>>;
  /** Stops whatever this call started (nothing for `env`). Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartServicesOptions {
  /** Which services to provide; both by default. */
  need?: readonly ServiceName[];
  /** Environment to read (default process.env). */
  env?: Record<string, string | undefined>;
  log?: (message: string) => void;
}

/**
 * Does a Docker engine answer within `timeoutMs`? `docker info` with a short leash: on a machine
 * with the CLI but no daemon it fails in ~50 ms; on one with no CLI at all, ENOENT.
 */
export function dockerAvailable(timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'docker',
      ['info', '--format', '{{.ServerVersion}}'],
      { timeout: timeoutMs },
      (err, out) => resolve(!err && out.trim().length > 0),
    );
  });
}

async function chooseProvider(
  env: Record<string, string | undefined>,
): Promise<'testcontainers' | 'local'> {
  const forced = env[ENV_PROVIDER];
  if (forced === 'local') return 'local';
  if (forced === 'docker') return 'testcontainers';
  return (await dockerAvailable()) ? 'testcontainers' : 'local';
}

type Started = { value: string; stop: () => Promise<void> };

async function kafkaViaTestcontainers(): Promise<Started> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const c = await new KafkaContainer(KAFKA_IMAGE)
    .withKraft()
    // Same broker behaviour as deploy/local: explicit topics, 4 partitions, no rebalance delay.
    .withEnvironment({
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_NUM_PARTITIONS: '4',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    })
    .start();
  return {
    value: `${c.getHost()}:${c.getMappedPort(9093)}`,
    stop: async () => {
      await c.stop();
    },
  };
}

async function clickhouseViaTestcontainers(): Promise<Started> {
  const { ClickHouseContainer } = await import('@testcontainers/clickhouse');
  const c = await new ClickHouseContainer(CLICKHOUSE_IMAGE).start();
  return {
    value: c.getConnectionUrl(),
    stop: async () => {
      await c.stop();
    },
  };
}

async function kafkaLocally(log: (m: string) => void): Promise<Started> {
  const k = await startKafka({ log });
  return { value: k.brokers, stop: () => k.stop() };
}

async function clickhouseLocally(log: (m: string) => void): Promise<Started> {
  const ch = await startClickHouse({ log });
  return { value: ch.url, stop: () => ch.stop() };
}

/**
 * Provide Kafka and/or ClickHouse. Starts what is missing in parallel (Kafka ~4 s warm, ~10 s
 * the first time it fetches its jars; ClickHouse ~0.3 s) and returns the variables to hand on.
 */
export async function startServices(opts: StartServicesOptions = {}): Promise<Services> {
  const env = opts.env ?? process.env;
  const need = opts.need ?? ['kafka', 'clickhouse'];
  const log = opts.log ?? (() => {});
  const result: ServiceEnv = {};
  const providers: Services['providers'] = {};
  const stops: (() => Promise<void>)[] = [];

  const missing: ServiceName[] = [];
  for (const s of need) {
    const given = env[s === 'kafka' ? ENV_KAFKA : ENV_CLICKHOUSE];
    if (given) {
      if (s === 'kafka') result.KAFKA_BROKERS = given;
      else result.CLICKHOUSE_URL = given;
      providers[s] = 'env';
    } else missing.push(s);
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Reverse order, all of them even when one fails: a leaked JVM costs 500 MB and a core.
    const errors: unknown[] = [];
    for (const s of stops.reverse()) await s().catch((e: unknown) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, 'stopping test services failed');
  };

  if (missing.length) {
    const provider = await chooseProvider(env);
    log(`starting ${missing.join(' + ')} via ${provider}`);
    const starters: Record<ServiceName, () => Promise<Started>> =
      provider === 'testcontainers'
        ? { kafka: kafkaViaTestcontainers, clickhouse: clickhouseViaTestcontainers }
        : { kafka: () => kafkaLocally(log), clickhouse: () => clickhouseLocally(log) };
    const outcomes = await Promise.allSettled(missing.map((s) => starters[s]()));
    outcomes.forEach((o, i) => {
      const s = missing[i]!;
      if (o.status !== 'fulfilled') return;
      stops.push(o.value.stop);
      if (s === 'kafka') result.KAFKA_BROKERS = o.value.value;
      else result.CLICKHOUSE_URL = o.value.value;
      providers[s] = provider;
    });
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed) {
      await stop().catch(() => {});
      throw (failed as PromiseRejectedResult).reason;
    }
  }
  return { env: result, providers, stop };
}
