import { z } from 'zod';
import { ConfigError, envs, loadConfig, type Env } from '@tillwatch/config';
import { TOPICS } from '@tillwatch/contracts';
import {
  SecretKeyring,
  parseSchedule,
  previousSecretKeysEnv,
  secretKeyEnv,
} from '@tillwatch/webhooks';
import type { NotifierConfig } from './notifier';

const schedule = z.string().transform((s, ctx) => {
  try {
    return parseSchedule(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

/** Every variable the notifier reads. A bad value stops it at start, naming the variable. */
export const notifierEnvSchema = z.object({
  /** Production store: subscriptions, deliveries and attempts in ClickHouse (shared with the gateway). */
  CLICKHOUSE_URL: z.url().optional(),
  /** Embedded-mode durable store, used when CLICKHOUSE_URL is not set: subscriptions and pending deliveries (fsync'd journal). */
  NOTIFIER_JOURNAL_PATH: z.string().min(1).default('.data/notifier/webhooks.journal'),
  /** Delay before each attempt; tests compress it, e.g. "0,50ms,100ms". */
  NOTIFIER_RETRY_SCHEDULE: schedule.default(parseSchedule('0,5s,5m,30m,2h,5h,10h,10h')),
  NOTIFIER_RETRY_JITTER: z.coerce.number().min(0).max(1).default(0.2),
  NOTIFIER_TIMEOUT_MS: envs.int(15_000, 100, 15_000),
  NOTIFIER_CONCURRENCY: envs.int(16, 1, 256),
  /** Attempts in flight for one merchant (fairness: a merchant's dead endpoints hold only these). */
  NOTIFIER_MERCHANT_CONCURRENCY: envs.int(4, 1, 256),
  /** Failed attempts in a row that open an endpoint's circuit breaker. */
  NOTIFIER_BREAKER_FAILURES: envs.int(5, 1, 1000),
  /** How long an open breaker defers its endpoint's deliveries before one trial. */
  NOTIFIER_BREAKER_COOLDOWN_MS: envs.int(30_000, 0, 3_600_000),
  NOTIFIER_POLL_MS: envs.int(1000, 10, 60_000),
  NOTIFIER_MAX_RETRY_AFTER_MS: envs.int(86_400_000, 0),
  /** Development only: allow http:// targets. */
  WEBHOOK_ALLOW_HTTP: envs.bool(false),
  /** Development only: IPs/CIDRs let through the SSRF guard, e.g. 127.0.0.1 for local receivers. */
  WEBHOOK_ALLOW_ADDRESSES: envs.list().optional(),
  /** Alerts from Kafka when set... */
  KAFKA_BROKERS: envs.list().optional(),
  NOTIFIER_ALERTS_TOPIC: z.string().min(1).default(TOPICS.alerts),
  NOTIFIER_GROUP_ID: z.string().min(1).default('tillwatch-notifier'),
  /** A new consumer group reads pos.alerts from the start (backfill) instead of the end. */
  NOTIFIER_KAFKA_FROM_BEGINNING: envs.bool(false),
  /** ...else from a JSON-lines file of alerts (e.g. what `tillwatch replay` wrote). */
  NOTIFIER_ALERTS_FILE: z.string().min(1).optional(),
  /**
   * Seals the webhook signing secrets at rest (AES-256-GCM): base64 of 32 random bytes
   * (`openssl rand -base64 32`). Required with CLICKHOUSE_URL, and the gateway must have the
   * same; embedded, a key file beside the journal is used when it is not set.
   */
  WEBHOOK_SECRET_KEY: secretKeyEnv.optional(),
  /** Keys rotated out, comma-separated: still read, never written (README: rotation). */
  WEBHOOK_SECRET_KEYS_PREVIOUS: previousSecretKeysEnv.optional(),
  /**
   * GET /healthz for an orchestrator's probes: 200 once the store is open and (with Kafka) the
   * consumer has joined its group; 503 with the reason before that and after the consumer
   * stopped for good. 0 takes a free port; NOTIFIER_HEALTH_HOST 0.0.0.0 in a container or pod.
   */
  NOTIFIER_HEALTH_PORT: envs.port(9465),
  NOTIFIER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: envs.logLevel(),
});
export type NotifierEnv = z.infer<typeof notifierEnvSchema>;

export function loadNotifierEnv(env?: Env): NotifierEnv {
  return loadConfig(notifierEnvSchema, env);
}

/** The keys of WEBHOOK_SECRET_KEY / WEBHOOK_SECRET_KEYS_PREVIOUS, when set. */
export function secretKeysOf(e: NotifierEnv): SecretKeyring | undefined {
  return e.WEBHOOK_SECRET_KEY
    ? new SecretKeyring(e.WEBHOOK_SECRET_KEY, e.WEBHOOK_SECRET_KEYS_PREVIOUS ?? [])
    : undefined;
}

/**
 * The keys of the production store (CLICKHOUSE_URL): required there, so the notifier stops at
 * start naming WEBHOOK_SECRET_KEY (exit 78) rather than keep secrets in clear. Checked here and
 * not in the schema: the all-in-one reads this schema too, keeps its journal whatever
 * CLICKHOUSE_URL says, and must start with no setup.
 */
export function productionSecretKeys(e: NotifierEnv): SecretKeyring {
  const keys = secretKeysOf(e);
  if (!keys) {
    throw new ConfigError([
      {
        variable: 'WEBHOOK_SECRET_KEY',
        message:
          'required with CLICKHOUSE_URL (secrets are encrypted at rest): base64 of 32 random ' +
          'bytes, e.g. `openssl rand -base64 32`, the same for the gateway',
      },
    ]);
  }
  return keys;
}

export function toNotifierConfig(e: NotifierEnv): NotifierConfig {
  return {
    retrySchedule: e.NOTIFIER_RETRY_SCHEDULE,
    jitter: e.NOTIFIER_RETRY_JITTER,
    timeoutMs: e.NOTIFIER_TIMEOUT_MS,
    concurrency: e.NOTIFIER_CONCURRENCY,
    merchantConcurrency: e.NOTIFIER_MERCHANT_CONCURRENCY,
    breakerFailures: e.NOTIFIER_BREAKER_FAILURES,
    breakerCooldownMs: e.NOTIFIER_BREAKER_COOLDOWN_MS,
    pollMs: e.NOTIFIER_POLL_MS,
    maxRetryAfterMs: e.NOTIFIER_MAX_RETRY_AFTER_MS,
    guard: {
      allowHttp: e.WEBHOOK_ALLOW_HTTP,
      allowAddresses: e.WEBHOOK_ALLOW_ADDRESSES ?? [],
    },
  };
}
