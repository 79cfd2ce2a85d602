import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
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
