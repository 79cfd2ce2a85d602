import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import proxyAddr from '@fastify/proxy-addr';
import { ConfigError, envs, loadConfig, type Env } from '@tillwatch/config';
import { TOPICS } from '@tillwatch/contracts';
import { SecretKeyring, previousSecretKeysEnv, secretKeyEnv } from '@tillwatch/webhooks';
import { DEFAULT_RULES_CONFIG, loadRulesFile } from '@tillwatch/rules';
import { z } from 'zod';
import { apiKeyEntrySchema, parseApiKeys, type ApiKeyEntry } from './auth';
import type { TrafficZones } from './region-traffic';

/** Where `npm run build -w @tillwatch/web` writes the board; served at `/`. */
export const DEFAULT_WEB_DIST = fileURLToPath(
  new URL('../../../dashboards/web/dist', import.meta.url),
);

/**
 * The gateway's environment. Exported so deploy tests can check compose files against it:
 * every variable a compose file sets for the gateway must be a key of this schema.
 */
export const gatewayConfigSchema = z.object({
  /** GATEWAY_PORT wins over PORT; 8080 when neither is set. */
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  PORT: envs.port(8080),
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  /** "key:role,key:merchant:M-001,..." (roles: analyst, sre, admin, merchant). */
  TILLWATCH_API_KEYS: z.string().default(''),
  /** A JSON file: [{ "key": "...", "role": "merchant", "merchantId": "M-001", "name": "..." }]. */
  TILLWATCH_API_KEYS_FILE: z.string().optional(),
  /** Bearer token Prometheus uses for /metrics when it holds no sre/admin key (min 16 chars). */
  TILLWATCH_METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  /** Allowed CORS origins, comma-separated; empty = same origin only. */
  GATEWAY_CORS_ORIGINS: envs.list().default([]),
  /** API requests per window per API key (static files and /healthz are not counted). 600/min = 10/s sustained. */
  GATEWAY_RATE_LIMIT_MAX: envs.int(600, 1),
  GATEWAY_RATE_LIMIT_WINDOW_MS: envs.int(60_000, 1000),
  /**
   * Refused credentials (REST and socket handshakes together) per window, per client address
   * and per key prefix; past that, 429 until the window ends, the key not even looked at.
   */
  GATEWAY_AUTH_FAIL_MAX: envs.int(30, 1),
  GATEWAY_AUTH_FAIL_WINDOW_MS: envs.int(60_000, 1000),
  /** Open sockets per API key: a board needs one; 1,000 sockets on one key pulled 2.67 GB in 8 s. */
  GATEWAY_SOCKETS_PER_KEY: envs.int(50, 1),
  /** Built dashboard; `npm run build -w @tillwatch/web` writes it. */
  GATEWAY_WEB_DIST: z.string().default(DEFAULT_WEB_DIST),
  /** socket.io connection state recovery: a board that reconnects within this gap misses nothing. */
  GATEWAY_RECOVERY_MS: envs.int(120_000, 0),
  /** Rate rows arriving within this many ms go out as one `rates` message per room (0 = each push at once). */
  GATEWAY_RATES_BATCH_MS: envs.int(50, 0, 5000),
  /**
   * Whose X-Forwarded-For to believe for the client address (rate limits, failed logins):
   * false (the peer is the client), true (any peer: only when nothing reaches the gateway but
   * the proxy), or the proxies' addresses/CIDRs (and loopback, linklocal, uniquelocal).
   */
  GATEWAY_TRUST_PROXY: trustProxySchema(),
  LOG_LEVEL: envs.logLevel(),
  /** The rules file the processor runs (its `calendar` names regions' time zones); default rules otherwise. */
  RULES_FILE: z.string().min(1).optional(),

  // ---- production mode (`npm start -w @tillwatch/gateway`): both of these set ----------------
  /** host:port[,host:port]: live alerts from pos.alerts */
  KAFKA_BROKERS: envs.list().optional(),
  /** http://[user:password@]host:port[/database]: rates, alerts, drill-down, actions, silences */
  CLICKHOUSE_URL: z.url().optional(),
  GATEWAY_ALERTS_TOPIC: z.string().min(1).default(TOPICS.alerts),
  /**
   * One consumer group per gateway instance (every instance pushes every alert to its own
   * sockets), so the default carries the host name. Committed offsets carry over restarts.
   */
  GATEWAY_KAFKA_GROUP_ID: z.string().min(1).optional(),
  /** A new group reads pos.alerts from the start (backfill into ClickHouse) instead of its end. */
  GATEWAY_KAFKA_FROM_BEGINNING: envs.bool(false),
  /**
   * Write the alerts read from pos.alerts into ClickHouse's alerts table (idempotent: the row
   * identity is alertId + ts + status), so the feed and the list agree whoever else writes it.
   */
  GATEWAY_PERSIST_ALERTS: envs.bool(true),
  /** Look for newly written pane rows this often and push their keys' windows as `rates` (0 = no live rates). */
  GATEWAY_RATES_POLL_MS: envs.int(1000, 0, 60_000),
  /** Development only (as for the notifier): let http:// webhook URLs be saved. */
  WEBHOOK_ALLOW_HTTP: envs.bool(false),
  /** Development only: IPs/CIDRs a webhook URL may point at although not public. */
  WEBHOOK_ALLOW_ADDRESSES: envs.list().optional(),
  /** Seals webhook signing secrets at rest; the notifier's key (required with CLICKHOUSE_URL there). */
  WEBHOOK_SECRET_KEY: secretKeyEnv.optional(),
  /** Keys rotated out, comma-separated: still read, never written. */
  WEBHOOK_SECRET_KEYS_PREVIOUS: previousSecretKeysEnv.optional(),
});
export type GatewayEnv = z.infer<typeof gatewayConfigSchema>;

/**
 * GATEWAY_TRUST_PROXY: true/false (also 1/0, yes/no, as before) or a comma-separated list that
 * @fastify/proxy-addr compiles (what fastify itself uses), checked here so a typo stops the
 * start instead of silently trusting no one. A bare hop count is refused: fastify 5 trusts no
 * one for a count (a client reaching the gateway directly could forge the hops), so it would
 * look configured and do nothing.
 */
function trustProxySchema() {
  return z
    .string()
    .default('false')
    .transform((raw, ctx): boolean | string[] => {
      const v = raw.trim().toLowerCase();
      if (v === 'true' || v === '1' || v === 'yes') return true;
      if (v === 'false' || v === '0' || v === 'no' || v === '') return false;
      if (/^\d+$/.test(v)) {
        ctx.addIssue({
          code: 'custom',
          message: `hop counts are not supported (fastify 5 ignores them): list the proxies' addresses or CIDRs, e.g. 10.0.0.0/8`,
        });
        return z.NEVER;
      }
      const list = raw
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      for (const item of list) {
        try {
          proxyAddr.compile(item);
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            message: `${JSON.stringify(item)}: ${(err as Error).message}; use true, false, or addresses/CIDRs (loopback, linklocal, uniquelocal)`,
          });
        }
      }
      return list;
    });
}

export interface GatewayConfig {
  host: string;
  /**
   * Whose local hour a region's normal follows (GET /api/regions/traffic): the rules file's
   * calendar (RULES_FILE, as the processor reads it), else the default rules' Asia/Shanghai.
   */
  timeZones: TrafficZones;
  /** RULES_FILE: the rules GET /api/rules shows, followed as the processor follows it (defaults without) */
  rulesFile?: string;
  port: number;
  apiKeys: ApiKeyEntry[];
  metricsToken?: string;
  corsOrigins: string[];
  /** per API key, for the API and /metrics only */
  rateLimit: { max: number; timeWindowMs: number };
  /** refused credentials per client address and per key prefix, REST and sockets together */
  authFailures: { max: number; windowMs: number };
  socketsPerKey: number;
  webDist: string;
  recoveryMs: number;
  ratesBatchMs: number;
  /** false, true (any peer), or the proxies' addresses/CIDRs (see GATEWAY_TRUST_PROXY) */
  trustProxy: boolean | string[];
  logLevel: GatewayEnv['LOG_LEVEL'];
  /** Same rules the notifier delivers with, applied when a subscription URL is saved. */
  webhookGuard: { allowHttp: boolean; allowAddresses: string[] };
  /** WEBHOOK_SECRET_KEY (+ _PREVIOUS): the webhook store's keys, the notifier's. */
  webhookSecretKeys?: SecretKeyring;
  /** Set when KAFKA_BROKERS and CLICKHOUSE_URL both are: the production mode. */
  production?: ProductionConfig;
  /** Which of the two production variables are missing (both, one, or none). */
  productionMissing: ('KAFKA_BROKERS' | 'CLICKHOUSE_URL')[];
}

export interface ProductionConfig {
  kafkaBrokers: string[];
  clickhouseUrl: string;
  alertsTopic: string;
  groupId: string;
  fromBeginning: boolean;
  persistAlerts: boolean;
  ratesPollMs: number;
}

/** Validate the environment (fails fast naming the variable) and resolve the key list. */
export function loadGatewayConfig(env?: Env): GatewayConfig {
  const e = loadConfig(gatewayConfigSchema, env);
  const apiKeys = parseApiKeys(e.TILLWATCH_API_KEYS, 'TILLWATCH_API_KEYS');
  if (e.TILLWATCH_API_KEYS_FILE) apiKeys.push(...readKeysFile(e.TILLWATCH_API_KEYS_FILE));
  const calendar = (e.RULES_FILE ? loadRulesFile(e.RULES_FILE) : DEFAULT_RULES_CONFIG).calendar;
  return {
    host: e.GATEWAY_HOST,
    timeZones: { timeZone: calendar.timeZone, regions: calendar.regions },
    ...(e.RULES_FILE ? { rulesFile: e.RULES_FILE } : {}),
    port: e.GATEWAY_PORT ?? e.PORT,
    apiKeys,
    metricsToken: e.TILLWATCH_METRICS_TOKEN,
    corsOrigins: e.GATEWAY_CORS_ORIGINS,
    rateLimit: { max: e.GATEWAY_RATE_LIMIT_MAX, timeWindowMs: e.GATEWAY_RATE_LIMIT_WINDOW_MS },
    authFailures: { max: e.GATEWAY_AUTH_FAIL_MAX, windowMs: e.GATEWAY_AUTH_FAIL_WINDOW_MS },
    socketsPerKey: e.GATEWAY_SOCKETS_PER_KEY,
    webDist: e.GATEWAY_WEB_DIST,
    recoveryMs: e.GATEWAY_RECOVERY_MS,
    ratesBatchMs: e.GATEWAY_RATES_BATCH_MS,
    trustProxy: e.GATEWAY_TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    webhookGuard: {
      allowHttp: e.WEBHOOK_ALLOW_HTTP,
      allowAddresses: e.WEBHOOK_ALLOW_ADDRESSES ?? [],
    },
    ...(e.WEBHOOK_SECRET_KEY
      ? {
          webhookSecretKeys: new SecretKeyring(
            e.WEBHOOK_SECRET_KEY,
            e.WEBHOOK_SECRET_KEYS_PREVIOUS ?? [],
          ),
        }
      : {}),
    productionMissing: [
      ...(e.KAFKA_BROKERS?.length ? [] : (['KAFKA_BROKERS'] as const)),
      ...(e.CLICKHOUSE_URL ? [] : (['CLICKHOUSE_URL'] as const)),
    ],
    ...(e.KAFKA_BROKERS?.length && e.CLICKHOUSE_URL
      ? {
          production: {
            kafkaBrokers: e.KAFKA_BROKERS,
            clickhouseUrl: e.CLICKHOUSE_URL,
            alertsTopic: e.GATEWAY_ALERTS_TOPIC,
            groupId: e.GATEWAY_KAFKA_GROUP_ID ?? `tillwatch-gateway-${hostname()}`,
            fromBeginning: e.GATEWAY_KAFKA_FROM_BEGINNING,
            persistAlerts: e.GATEWAY_PERSIST_ALERTS,
            ratesPollMs: e.GATEWAY_RATES_POLL_MS,
          },
        }
      : {}),
  };
}

/** Defaults for tests and the embedded mode: loopback, port 0 (free), no keys yet. */
export function defaultGatewayConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return { ...loadGatewayConfig({ PORT: '0' }), ...overrides };
}

function readKeysFile(path: string): ApiKeyEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([
      {
        variable: 'TILLWATCH_API_KEYS_FILE',
        message: `cannot read ${path}: ${(err as Error).message}`,
      },
    ]);
  }
  const r = z.array(apiKeyEntrySchema).safeParse(raw);
  if (!r.success) {
    throw new ConfigError(
      r.error.issues.map((i) => ({
        variable: 'TILLWATCH_API_KEYS_FILE',
        message: `${path}: [${i.path.join('.')}] ${i.message}`,
      })),
    );
  }
  return r.data;
}
