import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
import { createClickHouse } from '@tillwatch/clickhouse';
import { gatewayConfigSchema } from '@tillwatch/gateway';
import { notifierEnvSchema } from '@tillwatch/notifier';
import { processorConfigSchema } from '@tillwatch/processor';

/**
 * deploy/compose/compose.yaml cannot rot silently: every service the product needs is there,
 * every variable it sets is one the service's zod schema knows and accepts, and every port it
 * publishes or points at is one something listens on.
 */
const file = new URL('../../../deploy/compose/compose.yaml', import.meta.url);

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  depends_on?: Record<string, unknown>;
}
const compose = parse(readFileSync(file, 'utf8')) as { services: Record<string, Service> };
const services = compose.services;
const env = (name: string) =>
  Object.fromEntries(
    Object.entries(services[name]?.environment ?? {}).map(([k, v]) => [k, String(v)]),
  );
/** container port of each "host:port" / "ip:host:container" mapping */
const containerPorts = (name: string) =>
  (services[name]?.ports ?? []).map((p) => Number(String(p).split(':').at(-1)));

const apps: Record<string, z.ZodObject> = {
  processor: processorConfigSchema,
  gateway: gatewayConfigSchema,
  notifier: notifierEnvSchema,
};

describe('deploy/compose/compose.yaml', () => {
  it('has Kafka, ClickHouse and the three services', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['clickhouse', 'gateway', 'kafka', 'notifier', 'processor'].sort(),
    );
  });

  it.each(Object.keys(apps))(
    '%s: every variable is in its schema and the schema accepts them',
    (name) => {
      const schema = apps[name]!;
      const known = new Set(Object.keys(schema.shape));
      const vars = env(name);
      expect(Object.keys(vars).filter((k) => !known.has(k))).toEqual([]);
      const r = schema.safeParse(vars);
      expect(
        r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      ).toEqual([]);
      // Production mode for all three: Kafka and ClickHouse, pointing at the compose services.
      expect(vars.KAFKA_BROKERS?.split(',').map((b) => b.split(':')[0])).toEqual(['kafka']);
      expect(new URL(vars.CLICKHOUSE_URL!).hostname).toBe('clickhouse');
      expect(Object.keys(services[name]!.depends_on ?? {}).sort()).toEqual(['clickhouse', 'kafka']);
      expect(services[name]!.build?.args?.SERVICE).toBe(name);
    },
  );

  it('publishes the ports the services listen on, on every interface inside the container', () => {
    const p = env('processor');
    expect(containerPorts('processor')).toEqual([Number(p.PROCESSOR_METRICS_PORT)]);
    expect(p.PROCESSOR_METRICS_HOST).toBe('0.0.0.0');
    const g = env('gateway');
    expect(containerPorts('gateway')).toEqual([Number(g.GATEWAY_PORT ?? g.PORT ?? 8080)]);
    expect(g.GATEWAY_HOST).toBe('0.0.0.0');
    expect(containerPorts('clickhouse')).toContain(8123);
    expect(new URL(p.CLICKHOUSE_URL!).port).toBe('8123');
    // The brokers the services use are the listener Kafka advertises.
    const k = env('kafka');
    expect(k.KAFKA_ADVERTISED_LISTENERS).toContain(`//${p.KAFKA_BROKERS}`);
    expect(k.KAFKA_LISTENERS).toContain(`:${p.KAFKA_BROKERS!.split(':')[1]}`);
    // Host ports stay on loopback: nothing is exposed beyond the machine by default.
    for (const s of Object.values(services)) {
      for (const port of s.ports ?? []) expect(String(port).startsWith('127.0.0.1:')).toBe(true);
    }
  });

  it('builds every service from the Dockerfile next to it', () => {
    const dockerfile = readFileSync(
      new URL('../../../deploy/compose/Dockerfile', import.meta.url),
      'utf8',
    );
    expect(dockerfile).toMatch(/npm start -w @tillwatch\/\$\{SERVICE\}/);
    for (const name of Object.keys(apps)) {
      expect(services[name]!.build?.dockerfile).toBe('deploy/compose/Dockerfile');
    }
  });
});

/**
 * compose.cluster.yaml over compose.yaml (as `docker compose -f a -f b` merges them: maps merged
 * key by key, lists appended, scalars replaced): the cluster layout's ZooKeeper, second
 * ClickHouse and their config files hang together, and every service still passes its schema.
 */
describe('deploy/compose/compose.cluster.yaml over compose.yaml', () => {
  const merge = (a: unknown, b: unknown): unknown => {
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
      for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v;
      return out;
    }
    return b === undefined ? a : b;
  };
  const overlay = parse(
    readFileSync(new URL('../../../deploy/compose/compose.cluster.yaml', import.meta.url), 'utf8'),
  ) as { services: Record<string, Service & { volumes?: string[] }> };
  const merged = (
    merge(compose, overlay) as { services: Record<string, Service & { volumes?: string[] }> }
  ).services;
  const vars = (name: string) =>
    Object.fromEntries(
      Object.entries(merged[name]?.environment ?? {}).map(([k, v]) => [k, String(v)]),
    );
  const xml = (f: string) =>
    readFileSync(
      new URL(`../../../deploy/compose/clickhouse-cluster/${f}`, import.meta.url),
      'utf8',
    );

  it('adds ZooKeeper and a second ClickHouse; the services name the cluster', () => {
    expect(Object.keys(merged).sort()).toEqual(
      [
        'clickhouse',
        'clickhouse-2',
        'gateway',
        'kafka',
        'notifier',
        'processor',
        'zookeeper',
      ].sort(),
    );
    const servers = new Set<string>();
    for (const name of Object.keys(apps)) {
      const v = vars(name);
      const r = apps[name]!.safeParse(v);
      expect(r.success ? [] : r.error.issues.map((i) => i.message)).toEqual([]);
      const ch = createClickHouse({ url: v.CLICKHOUSE_URL! });
      expect(ch.cluster).toBe('tillwatch');
      expect(ch.database).toBe('tillwatch');
      const host = new URL(v.CLICKHOUSE_URL!).hostname;
      expect(['clickhouse', 'clickhouse-2']).toContain(host);
      servers.add(`${name}:${host}`);
      void ch.close();
    }
    // the processor writes through one replica, the board reads through the other
    expect(servers).toContain('processor:clickhouse');
    expect(servers).toContain('gateway:clickhouse-2');
  });

  it('the config files describe the two replicas of one shard and the ZooKeeper of this file', () => {
    const cluster = xml('cluster.xml');
    const hosts = [...cluster.matchAll(/<replica><host>([^<]+)<\/host><port>(\d+)<\/port>/g)];
    expect(hosts.map((h) => h[1]).sort()).toEqual(['clickhouse', 'clickhouse-2']);
    expect(hosts.every((h) => h[2] === '9000')).toBe(true);
    expect(cluster).toMatch(/<remote_servers>\s*<tillwatch>/);
    expect(cluster).toMatch(/<internal_replication>true<\/internal_replication>/);
    expect(/<zookeeper>\s*<node><host>(\w+)<\/host>/.exec(cluster)?.[1]).toBe('zookeeper');
    const macros = ['clickhouse', 'clickhouse-2'].map((s) => {
      const mounts = merged[s]!.volumes ?? [];
      expect(mounts.some((m) => m.startsWith('./clickhouse-cluster/cluster.xml:'))).toBe(true);
      const m = mounts.filter((v) => /clickhouse-cluster\/macros-\d\.xml:/.test(v));
      expect(m.length, `${s} mounts one macros file`).toBe(1);
      const text = xml(/macros-\d\.xml/.exec(m[0]!)![0]);
      return {
        shard: /<shard>(\w+)<\/shard>/.exec(text)?.[1],
        replica: /<replica>(\w+)<\/replica>/.exec(text)?.[1],
      };
    });
    expect(macros[0]!.shard).toBe(macros[1]!.shard);
    expect(macros[0]!.replica).not.toBe(macros[1]!.replica);
  });
});
