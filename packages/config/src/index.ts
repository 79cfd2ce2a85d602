import { pino, type Logger, type LoggerOptions } from 'pino';
import { z } from 'zod';

/**
 * Configuration comes only through loadConfig(): one zod schema per service, the environment
 * validated once at start. A bad value stops the service with a message naming the variable.
 */
export class ConfigError extends Error {
  readonly code = 'TW_CONFIG';
  readonly retriable = false;
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      `invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`,
    );
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export function loadConfig<S extends z.ZodObject>(schema: S, env: Env = process.env): z.infer<S> {
  const r = schema.safeParse(env);
  if (r.success) return r.data;
  throw new ConfigError(
    r.error.issues.map((i) => ({
      variable: i.path.length ? i.path.map(String).join('.') : '(environment)',
      message: i.message,
    })),
  );
}

/** Reusable env field parsers: environment values are strings. */
export const envs = {
  port: (def: number) => z.coerce.number().int().min(0).max(65535).default(def),
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(def),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  list: () =>
    z.string().transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  logLevel: () =>
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/** Run `main`, turning a ConfigError into one clear line on stderr and exit code 78 (EX_CONFIG). */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`tillwatch: ${err.message}\n`);
    process.exit(78);
  }
  throw err;
}

/** pino: pretty in a terminal, JSON otherwise (or when LOG_FORMAT=json). */
export function createLogger(
  name: string,
  opts: { level?: string; pretty?: boolean } & LoggerOptions = {},
): Logger {
  const { level = 'info', pretty = Boolean(process.stdout.isTTY), ...rest } = opts;
  return pino({
    name,
    level,
    ...rest,
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' },
          },
        }
      : {}),
  });
}

export type { Logger };

export { serveOps, healthRoute, type OpsReply, type OpsRoute } from './ops-server';
