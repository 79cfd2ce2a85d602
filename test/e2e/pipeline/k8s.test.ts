import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import type { z } from 'zod';
import { gatewayConfigSchema, loadGatewayConfig } from '@tillwatch/gateway';
import { loadNotifierEnv, notifierEnvSchema, productionSecretKeys } from '@tillwatch/notifier';
import { loadProcessorConfig, processorConfigSchema } from '@tillwatch/processor';

/**
 * deploy/k8s cannot rot silently (no cluster is started for it): every resource the
 * kustomization lists parses; every variable a pod gets — from its ConfigMaps, the Secret's keys
 * (secrets.env.example, placeholders filled with values of their shape) and its own env — is one
 * the service's zod schema knows and accepts, in production mode; probes ask /healthz on the
 * port the service's settings make it listen on, on every interface; requests, limits, the heap
 * cap under the memory limit, budgets and services select the pods they are for.
 */
const dir = new URL('../../../deploy/k8s/', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, dir), 'utf8');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    strategy?: { type: string };
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: {
      metadata: { labels: Record<string, string> };
      spec: {
        securityContext?: { runAsNonRoot?: boolean };
        containers: Container[];
        volumes?: { name: string; emptyDir?: object }[];
      };
    };
    ports?: { name: string; port: number; targetPort: string | number }[];
    minAvailable?: number;
    maxUnavailable?: number;
  };
}

const kustomization = parse(read('kustomization.yaml')) as {
  resources: string[];
  secretGenerator: { name: string; envs: string[] }[];
  images: { name: string }[];
};
const resources: Resource[] = kustomization.resources.flatMap((f) =>
  parseAllDocuments(read(f)).map((d) => {
    if (d.errors.length) throw new Error(`${f}: ${d.errors[0]!.message}`);
    return d.toJS() as Resource;
  }),
);
const find = (kind: string, name: string) =>
  resources.find((r) => r.kind === kind && r.metadata.name === name);
const configMaps = new Map(
  resources.filter((r) => r.kind === 'ConfigMap').map((r) => [r.metadata.name, r.data ?? {}]),
);

/** secrets.env.example with every `<...>` placeholder replaced by a value of its shape */
const secretName = kustomization.secretGenerator[0]!.name;
const exampleSecrets = Object.fromEntries(
  read('secrets.env.example')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const k = l.slice(0, l.indexOf('='));
      const v = l
        .slice(l.indexOf('=') + 1)
        .replace(/<([^>]+)>/g, (_, what: string) =>
          what.includes('base64 32')
            ? randomBytes(32).toString('base64')
            : randomBytes(24).toString('hex'),
        );
      return [k, v];
    }),
);

/** what node and npm read, not the service: allowed beside the schema's variables */
const RUNTIME = new Set(['NODE_OPTIONS', 'NPM_CONFIG_CACHE']);

const apps: Record<
  string,
  {
    kind: string;
    schema: z.ZodObject;
    /** the service's own loader: throws what would stop it at start */
    load: (env: Record<string, string>) => unknown;
    port: (env: Record<string, string>) => number;
  }
> = {
  processor: {
    kind: 'StatefulSet',
    schema: processorConfigSchema,
    load: (e) => loadProcessorConfig(e),
    port: (e) => Number(e.PROCESSOR_METRICS_PORT),
  },
  gateway: {
    kind: 'Deployment',
    schema: gatewayConfigSchema,
    load: (e) => {
      const cfg = loadGatewayConfig(e);
      expect(cfg.apiKeys.length).toBeGreaterThan(0);
      return cfg;
    },
    port: (e) => Number(e.GATEWAY_PORT),
  },
  notifier: {
    kind: 'Deployment',
    schema: notifierEnvSchema,
    load: (e) => productionSecretKeys(loadNotifierEnv(e)),
    port: (e) => Number(e.NOTIFIER_HEALTH_PORT),
  },
};

function podEnv(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) {
      const data = configMaps.get(from.configMapRef.name);
      expect(data, `ConfigMap ${from.configMapRef.name}`).toBeDefined();
      Object.assign(env, data);
    }
    expect(
      from.secretRef,
      'whole-Secret envFrom: each pod gets only the keys it needs',
    ).toBeUndefined();
  }
  for (const v of c.env ?? []) {
    const ref = v.valueFrom?.secretKeyRef;
    if (ref) {
      expect(ref.name).toBe(secretName);
      expect(Object.keys(exampleSecrets), `secrets.env.example has ${ref.key}`).toContain(ref.key);
      env[v.name] = exampleSecrets[ref.key]!;
    } else env[v.name] = String(v.value);
  }
  return env;
}

const bytes = (q: string) => {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`memory quantity ${q}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1) * 1024 * 1024;
};

describe('deploy/k8s', () => {
  it('lists resources that parse, and the three services', () => {
    expect(resources.length).toBeGreaterThanOrEqual(10);
    for (const r of resources) expect(r.apiVersion && r.kind && r.metadata?.name).toBeTruthy();
    for (const [name, { kind }] of Object.entries(apps)) expect(find(kind, name)).toBeDefined();
  });

  it.each(Object.keys(apps))(
    '%s: every variable is in its schema, the schema accepts them, probes ask /healthz on its port',
    (name) => {
      const app = apps[name]!;
      const w = find(app.kind, name)!;
      const pod = w.spec!.template!;
      const [c] = pod.spec.containers;
      const env = podEnv(c!);
      const known = new Set(Object.keys(app.schema.shape));
      expect(Object.keys(env).filter((k) => !known.has(k) && !RUNTIME.has(k))).toEqual([]);
      const service = Object.fromEntries(Object.entries(env).filter(([k]) => !RUNTIME.has(k)));
      const r = app.schema.safeParse(service);
      expect(
        r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      ).toEqual([]);
      // ...and so does the service's own loader (API keys parsed, the sealing key required)
      app.load(service);
      // production mode: Kafka and ClickHouse
      expect(env.KAFKA_BROKERS).toBeTruthy();
      expect(new URL(env.CLICKHOUSE_URL!).port).toBe('8123');
      // the image is one the kustomization pins
      expect(kustomization.images.map((i) => i.name)).toContain(c!.image);
      // probes: /healthz on the port it listens on, every interface
      const port = app.port(env);
      expect(Object.values(env)).toContain('0.0.0.0');
      for (const p of [c!.livenessProbe, c!.readinessProbe]) {
        expect(p?.httpGet.path).toBe('/healthz');
        const named = c!.ports?.find((x) => x.name === p!.httpGet.port);
        expect(named?.containerPort ?? p!.httpGet.port).toBe(port);
      }
      if (c!.startupProbe) expect(c!.startupProbe.httpGet.path).toBe('/healthz');
      // sized: requests and limits, and node's heap below the memory limit
      const res = c!.resources!;
      for (const k of ['cpu', 'memory']) {
        expect(res.requests?.[k], `requests.${k}`).toBeTruthy();
        expect(res.limits?.[k], `limits.${k}`).toBeTruthy();
      }
      const heapMb = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1]);
      expect(heapMb * 1024 * 1024).toBeLessThan(bytes(res.limits!.memory!));
      expect(bytes(res.requests!.memory!)).toBeLessThanOrEqual(bytes(res.limits!.memory!));
      // locked down: non-root, read-only root with a writable /tmp
      expect(pod.spec.securityContext?.runAsNonRoot).toBe(true);
      expect(c!.securityContext?.readOnlyRootFilesystem).toBe(true);
      expect(c!.securityContext?.allowPrivilegeEscalation).toBe(false);
      const tmp = c!.volumeMounts?.find((m) => m.mountPath === '/tmp');
      expect(pod.spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
      // the workload's selector is its pods' labels
      for (const [k, v] of Object.entries(w.spec!.selector!.matchLabels!))
        expect(pod.metadata.labels[k]).toBe(v);
    },
  );

  it('budgets and services select the pods they are for', () => {
    const labels = (name: string) => find(apps[name]!.kind, name)!.spec!.template!.metadata.labels;
    const selects = (sel: Record<string, string>, name: string) =>
      Object.entries(sel).every(([k, v]) => labels(name)[k] === v);
    for (const name of ['processor', 'gateway']) {
      const pdb = find('PodDisruptionBudget', name);
      expect(pdb, `PodDisruptionBudget ${name}`).toBeDefined();
      expect(selects(pdb!.spec!.selector!.matchLabels!, name)).toBe(true);
      const replicas = find(apps[name]!.kind, name)!.spec!.replicas!;
      // a budget that lets a drain proceed: never all replicas required
      if (pdb!.spec!.minAvailable !== undefined)
        expect(pdb!.spec!.minAvailable).toBeLessThan(replicas);
      else expect(pdb!.spec!.maxUnavailable).toBeGreaterThanOrEqual(1);
      const svc = find('Service', name)!;
      expect(selects(svc.spec!.selector as Record<string, string>, name)).toBe(true);
      const container = find(apps[name]!.kind, name)!.spec!.template!.spec.containers[0]!;
      for (const p of svc.spec!.ports!)
        expect(container.ports?.map((x) => x.name)).toContain(p.targetPort);
    }
    // the processor: stable names (its transactional ids), no more instances than partitions
    const processor = find('StatefulSet', 'processor')!;
    expect(processor.spec!.replicas).toBeLessThanOrEqual(
      Number(configMaps.get('tillwatch-processor')!.TOPIC_PARTITIONS),
    );
    // the notifier: exactly one dispatcher per store, the old one gone before the new one starts
    const notifier = find('Deployment', 'notifier')!;
    expect(notifier.spec!.replicas).toBe(1);
    expect(notifier.spec!.strategy?.type).toBe('Recreate');
  });
});
