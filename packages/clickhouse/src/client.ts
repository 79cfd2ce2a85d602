import {
  ClickHouseLogLevel,
  createClient,
  type ClickHouseClient,
  type Logger as ClientLogger,
} from '@clickhouse/client';
import type { Logger } from '@tillwatch/config';
import { SqlFragment, ident } from './sql';
import { TwClickHouseError, isRetriableClickHouseError } from './errors';

export interface ClickHouseOptions {
  /** CLICKHOUSE_URL: http://[user:password@]host:port[/database] */
  url: string;
  /** overrides the database in the URL; default "default" */
  database?: string;
  /** the client's own log lines go here; without one they are dropped (errors still throw) */
  logger?: Logger;
  /** per request; inserts of a 5000-row batch take ~50 ms, 30 s means "the server is stuck" */
  requestTimeoutMs?: number;
}

/**
 * `?cluster=<name>` in CLICKHOUSE_URL: the servers form that cluster (their remote_servers,
 * macros and ZooKeeper), and the tables are laid out for it (layout.ts). Every service that
 * takes CLICKHOUSE_URL takes it so, with no other setting.
 */
export const CLUSTER_PARAM = 'cluster';

/**
 * Settings sent with every request. Only settings that exist on 18.16 and still exist now:
 * an unknown setting is a hard error (code 115) on every version.
 */
export const CLICKHOUSE_SETTINGS = {
  // Counts as JSON numbers, not strings (18.16 quotes UInt64 by default). Our counts stay far
  // below 2^53.
  output_format_json_quote_64bit_integers: 0,
} as const;

export interface ClickHouse {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly url: string;
  /** the cluster the tables are laid out for (CLUSTER_PARAM), or undefined: one server */
  readonly cluster?: string;
  /** rows of a SELECT, as JSON objects */
  query<T = Record<string, unknown>>(q: SqlFragment): Promise<T[]>;
  /** DDL and other statements without a result */
  command(q: SqlFragment): Promise<void>;
  /** JSONEachRow insert: values travel as JSON data, never as SQL text */
  insert(table: string, rows: readonly object[]): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

function parseUrl(url: string): {
  origin: string;
  username: string;
  password: string;
  database?: string;
  cluster?: string;
} {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TwClickHouseError('TW_CH_CONFIG', `CLICKHOUSE_URL is not a URL: ${url}`, false);
  }
  const db = decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, ''));
  const cluster = u.searchParams.get(CLUSTER_PARAM) ?? undefined;
  if (cluster !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster)) {
    throw new TwClickHouseError(
      'TW_CH_CONFIG',
      `CLICKHOUSE_URL: ${CLUSTER_PARAM}=${cluster} is not a cluster name (letters, digits, _)`,
      false,
    );
  }
  return {
    ...(cluster ? { cluster } : {}),
    origin: `${u.protocol}//${u.host}`,
    username: decodeURIComponent(u.username) || 'default',
    password: decodeURIComponent(u.password),
    ...(db ? { database: db } : {}),
  };
}

function wrap(what: string, e: unknown): TwClickHouseError {
  if (e instanceof TwClickHouseError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const code = what === 'insert' ? 'TW_CH_INSERT' : 'TW_CH_QUERY';
  return new TwClickHouseError(
    code,
    `ClickHouse ${what} failed: ${msg}`,
    isRetriableClickHouseError(e),
    {
      cause: e,
    },
  );
}

/**
 * The client logs every failed request at ERROR with its settings; we throw the same failure
 * with context (and the writer logs its retries), so its errors go to debug, its warnings stay.
 */
function clientLog(logger: Logger | undefined) {
  if (!logger) return { level: ClickHouseLogLevel.OFF };
  class PinoClientLogger implements ClientLogger {
    trace(p: { module: string; message: string; args?: Record<string, unknown> }) {
      logger!.trace({ module: p.module, ...p.args }, p.message);
    }
    debug(p: { module: string; message: string; args?: Record<string, unknown> }) {
      logger!.debug({ module: p.module, ...p.args }, p.message);
    }
    info(p: { module: string; message: string; args?: Record<string, unknown> }) {
      logger!.info({ module: p.module, ...p.args }, p.message);
    }
    warn(p: { module: string; message: string; args?: Record<string, unknown>; err?: Error }) {
      logger!.warn({ module: p.module, err: p.err, ...p.args }, p.message);
    }
    error(p: { module: string; message: string; args?: Record<string, unknown>; err: Error }) {
      logger!.debug({ module: p.module, err: p.err, ...p.args }, p.message);
    }
  }
  return { LoggerClass: PinoClientLogger, level: ClickHouseLogLevel.WARN };
}

export function createClickHouse(opts: ClickHouseOptions): ClickHouse {
  const parsed = parseUrl(opts.url);
  const database = opts.database ?? parsed.database ?? 'default';
  ident(database); // fails fast on a name that could not be quoted safely
  const client = createClient({
    url: parsed.origin,
    username: parsed.username,
    password: parsed.password,
    database,
    request_timeout: opts.requestTimeoutMs ?? 30_000,
    // In a cluster, an insert into a Distributed table returns once every shard has its rows
    // (not when they are queued locally): a written batch is durable where readers look.
    clickhouse_settings: parsed.cluster
      ? { ...CLICKHOUSE_SETTINGS, insert_distributed_sync: 1 }
      : CLICKHOUSE_SETTINGS,
    // Server keep_alive_timeout is 3 s by default (18.16 and now): drop idle sockets before it does.
    keep_alive: { enabled: true, idle_socket_ttl: 2000 },
    log: clientLog(opts.logger),
  });
  return {
    client,
    database,
    url: parsed.origin,
    ...(parsed.cluster ? { cluster: parsed.cluster } : {}),
    async query<T>(q: SqlFragment) {
      try {
        const rs = await client.query({ query: q.text, format: 'JSONEachRow' });
        return (await rs.json()) as T[];
      } catch (e) {
        throw wrap('query', e);
      }
    },
    async command(q: SqlFragment) {
      try {
        await client.command({ query: q.text });
      } catch (e) {
        throw wrap('command', e);
      }
    },
    async insert(table: string, rows: readonly object[]) {
      if (!rows.length) return;
      ident(table);
      try {
        await client.insert({ table, values: rows as object[], format: 'JSONEachRow' });
      } catch (e) {
        throw wrap('insert', e);
      }
    },
    async ping() {
      const r = await client.ping();
      return r.success;
    },
    close: () => client.close(),
  };
}

/**
 * CREATE DATABASE IF NOT EXISTS through a client bound to "default" (a client bound to a
 * database that does not exist yet fails every request).
 */
export async function ensureDatabase(opts: ClickHouseOptions, database: string): Promise<void> {
  const admin = createClickHouse({ ...opts, database: 'default' });
  try {
    const onCluster = admin.cluster ? ` ON CLUSTER ${ident(admin.cluster).text}` : '';
    await admin.command(
      new SqlFragment(`CREATE DATABASE IF NOT EXISTS ${ident(database).text}${onCluster}`),
    );
  } finally {
    await admin.close();
  }
}
