import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, envs, loadConfig, type Env } from '@tillwatch/config';
import { z } from 'zod';
import { apiKeyEntrySchema, parseApiKeys, type ApiKeyEntry } from './auth';

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
  /** Requests per window per API key (or per IP before auth). 600/min = 10/s sustained. */
  GATEWAY_RATE_LIMIT_MAX: envs.int(600, 1),
  GATEWAY_RATE_LIMIT_WINDOW_MS: envs.int(60_000, 1000),
  /** Built dashboard; `npm run build -w @tillwatch/web` writes it. */
  GATEWAY_WEB_DIST: z.string().default(DEFAULT_WEB_DIST),
  /** socket.io connection state recovery: a board that reconnects within this gap misses nothing. */
  GATEWAY_RECOVERY_MS: envs.int(120_000, 0),
  /** Rate rows arriving within this many ms go out as one `rates` message per room (0 = each push at once). */
  GATEWAY_RATES_BATCH_MS: envs.int(50, 0, 5000),
  /** Trust X-Forwarded-For from a reverse proxy (rate limiting by client IP). */
  GATEWAY_TRUST_PROXY: envs.bool(false),
  LOG_LEVEL: envs.logLevel(),
});
export type GatewayEnv = z.infer<typeof gatewayConfigSchema>;

export interface GatewayConfig {
  host: string;
  port: number;
  apiKeys: ApiKeyEntry[];
  metricsToken?: string;
  corsOrigins: string[];
  rateLimit: { max: number; timeWindowMs: number };
  webDist: string;
  recoveryMs: number;
  ratesBatchMs: number;
  trustProxy: boolean;
  logLevel: GatewayEnv['LOG_LEVEL'];
}

/** Validate the environment (fails fast naming the variable) and resolve the key list. */
export function loadGatewayConfig(env?: Env): GatewayConfig {
  const e = loadConfig(gatewayConfigSchema, env);
  const apiKeys = parseApiKeys(e.TILLWATCH_API_KEYS, 'TILLWATCH_API_KEYS');
  if (e.TILLWATCH_API_KEYS_FILE) apiKeys.push(...readKeysFile(e.TILLWATCH_API_KEYS_FILE));
  return {
    host: e.GATEWAY_HOST,
    port: e.GATEWAY_PORT ?? e.PORT,
    apiKeys,
    metricsToken: e.TILLWATCH_METRICS_TOKEN,
    corsOrigins: e.GATEWAY_CORS_ORIGINS,
    rateLimit: { max: e.GATEWAY_RATE_LIMIT_MAX, timeWindowMs: e.GATEWAY_RATE_LIMIT_WINDOW_MS },
    webDist: e.GATEWAY_WEB_DIST,
    recoveryMs: e.GATEWAY_RECOVERY_MS,
    ratesBatchMs: e.GATEWAY_RATES_BATCH_MS,
    trustProxy: e.GATEWAY_TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
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
