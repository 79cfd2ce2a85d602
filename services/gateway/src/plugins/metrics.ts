import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayStore } from '../store';

export interface GatewayMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'route'>;
  socketClients: Gauge;
  socketMessages: Counter<'event'>;
  alertsReceived: Counter<'rule' | 'status'>;
  rateRows: Counter;
}

/** One registry per gateway, so two gateways in one process (tests) never collide. */
export function createMetrics(store: GatewayStore): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tw_gateway_' });
  const m: GatewayMetrics = {
    registry,
    httpRequests: new Counter({
      name: 'tw_gateway_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'tw_gateway_http_request_seconds',
      help: 'HTTP request duration',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    socketClients: new Gauge({
      name: 'tw_gateway_socket_clients',
      help: 'connected socket.io clients',
      registers: [registry],
    }),
    socketMessages: new Counter({
      name: 'tw_gateway_socket_messages_total',
      help: 'room broadcasts sent, by event',
      labelNames: ['event'],
      registers: [registry],
    }),
    alertsReceived: new Counter({
      name: 'tw_gateway_alert_transitions_total',
      help: 'alert transitions received from the engine',
      labelNames: ['rule', 'status'],
      registers: [registry],
    }),
    rateRows: new Counter({
      name: 'tw_gateway_rate_rows_total',
      help: 'rate rows received',
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'tw_gateway_store_items',
    help: 'items held by the store, by kind',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const s = store.stats();
      for (const [k, v] of Object.entries(s)) this.set({ kind: k }, v);
    },
  });
  store.subscribe((e) => {
    if (e.type === 'rates') m.rateRows.inc(e.rows.length);
    else if (e.type === 'alert')
      m.alertsReceived.inc({ rule: e.record.alert.rule, status: e.record.alert.status });
  });
  return m;
}

export const metricsPlugin = fp<{ metrics: GatewayMetrics }>(
  async (app, { metrics }) => {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
      metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    });
    app.route({
      method: 'GET',
      url: '/metrics',
      schema: {
        summary: 'Prometheus metrics (sre/admin key or TILLWATCH_METRICS_TOKEN)',
        tags: ['ops'],
        security: [{ bearer: [] }],
      },
      config: { access: 'metrics' },
      handler: async (_req, reply) => {
        reply.type(metrics.registry.contentType);
        return metrics.registry.metrics();
      },
    });
    app.route({
      method: 'GET',
      url: '/healthz',
      schema: { summary: 'Liveness (no auth, no data)', tags: ['ops'] },
      handler: async () => ({ status: 'ok' }),
    });
  },
  { name: 'tw-metrics', dependencies: ['tw-auth'] },
);
