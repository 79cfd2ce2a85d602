import { existsSync } from 'node:fs';
import { join } from 'node:path';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from '@tillwatch/config';
import { webhookRoutes, type GuardOptions, type WebhookStore } from '@tillwatch/webhooks';
import Fastify, { type FastifyInstance } from 'fastify';
import { Server } from 'socket.io';
import { z } from 'zod';
import { KeyRing, keyFingerprint, tokenFromHeaders } from './auth';
import { FailedAuthLimiter, trustProxyFn } from './auth-limit';
import type { GatewayConfig } from './config';
import { installErrorHandlers, rateLimited } from './errors';
import { MemoryKeyStore, type ManagedKeyStore } from './managed-keys';
import { clientErrorHandler, frameworkErrors } from './framework-errors';
import { authPlugin } from './plugins/auth';
import { createMetrics, metricsPlugin, type GatewayMetrics } from './plugins/metrics';
import { alertRoutes } from './routes/alerts';
import { keyRoutes } from './routes/keys';
import { defineRoute } from './routes/define';
import { qualityRoutes } from './routes/quality';
import { ratesRoutes } from './routes/rates';
import { rulesRoutes } from './routes/rules';
import { READERS } from './routes/scope';
import { silenceRoutes } from './routes/silences';
import { trafficRoutes } from './routes/traffic';
import { Broadcaster, type GatewayIo } from './socket';
import { RulesInForce } from './rules-in-force';
import { dropRefusedSockets, guardSockets } from './socket-auth';
import type { GatewayStore } from './store';

export interface Gateway {
  app: FastifyInstance;
  io: GatewayIo;
  metrics: GatewayMetrics;
  /** Starts listening on config.host:config.port; resolves to the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface CreateGatewayOptions {
  config: GatewayConfig;
  store: GatewayStore;
  logger?: Logger;
  /**
   * Webhook subscriptions and the delivery log under /api/webhooks/* (merchants their own,
   * admins all): the notifier's store, shared (JournalWebhookStore embedded,
   * ClickHouseWebhookStore in production). `guard` refuses unsafe URLs at save time with the
   * same rules the notifier delivers with.
   */
  webhooks?: { store: WebhookStore; guard?: GuardOptions };
  /** API keys admins make at run time (/api/keys); in memory when not given */
  keys?: ManagedKeyStore;
}

export async function createGateway({
  config,
  store,
  logger,
  webhooks,
  keys = new MemoryKeyStore(),
}: CreateGatewayOptions): Promise<Gateway> {
  // one trust function for req.ip and the socket handshakes' address
  const trust = trustProxyFn(config.trustProxy);
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    trustProxy: trust ?? false,
    bodyLimit: 64 * 1024, // notes and silences are small; 64 KiB caps abuse
    routerOptions: { ignoreTrailingSlash: true },
    // a bad URL and what node's parser refuses (431...) answer in the one error shape too
    frameworkErrors,
    clientErrorHandler,
  }) as unknown as FastifyInstance;
  const keyRing = new KeyRing(config.apiKeys, config.metricsToken, () => keys.slots());
  const failures = new FailedAuthLimiter(config.authFailures);
  if (keyRing.size === 0) {
    app.log.warn(
      'no API keys configured (TILLWATCH_API_KEYS / TILLWATCH_API_KEYS_FILE): every API call will get 401',
    );
  }
  installErrorHandlers(app);

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        // uPlot positions its cursor and legend with inline style attributes
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        // the gateway usually runs on plain http on loopback; upgrading would break the board
        'upgrade-insecure-requests': null,
      },
    },
  });
  await app.register(cors, { origin: config.corsOrigins.length > 0 ? config.corsOrigins : false });
  await app.register(rateLimit, {
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.timeWindowMs,
    // The API and /metrics only: their hook runs after the auth hook (app hooks before route
    // hooks), so every request counted here carried a valid credential and is counted per key
    // (many analysts behind one NAT); refused credentials are the auth hook's to count.
    // Public routes (the board's files, /healthz, /docs) are not counted: one noisy client
    // must not lock the board out for everyone behind its address.
    keyGenerator: (req) => {
      const t = tokenFromHeaders(req.headers);
      return t ? `k:${keyFingerprint(t)}` : `ip:${req.ip}`;
    },
    allowList: (req) => !req.routeOptions.config.access,
    errorResponseBuilder: (_req, ctx) =>
      rateLimited(
        `more than ${ctx.max} API requests for this key in ${config.rateLimit.timeWindowMs / 1000} s; retry in ${ctx.after}`,
      ),
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Tillwatch gateway',
        version: '0.1.0',
        // Markdown: the code span keeps `<api key>` from being read as an HTML tag (it was eaten)
        description:
          'Rates, alerts, drill-down, silences, the rules in force and webhook subscriptions. Send `Authorization: Bearer <api key>`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // same reason as above: plain http on loopback must not be upgraded to https
    transformStaticCSP: (header) => header.replace(/;?\s*upgrade-insecure-requests;?/, ';'),
  });

  const metrics = createMetrics(store);
  await app.register(authPlugin, { keyRing, failures });
  await app.register(metricsPlugin, { metrics });

  const io: GatewayIo = new Server(app.server, {
    serveClient: false,
    cors: { origin: config.corsOrigins.length > 0 ? config.corsOrigins : false },
    // a board that drops off for up to recoveryMs gets every missed message on reconnect
    connectionStateRecovery: {
      maxDisconnectionDuration: config.recoveryMs,
      skipMiddlewares: false,
    },
  });
  guardSockets(io, { keyRing, failures, trust, socketsPerKey: config.socketsPerKey });
  const offKeys = keys.onChanged(() => {
    const n = dropRefusedSockets(io, keyRing);
    if (n > 0) app.log.info({ sockets: n }, 'closed the sockets of revoked keys');
  });
  app.addHook('onClose', async () => offKeys());
  const broadcaster = new Broadcaster(io, store, config.recoveryMs, config.ratesBatchMs, {
    onMessage: (event) => metrics.socketMessages.inc({ event }),
    onClients: (n) => metrics.socketClients.set(n),
  });

  await app.register(ratesRoutes, { store, broadcaster });
  await app.register(alertRoutes, { store });
  await app.register(qualityRoutes, { store });
  await app.register(silenceRoutes, { store });
  await app.register(trafficRoutes, { store, zones: config.timeZones });
  await app.register(rulesRoutes, { rules: new RulesInForce(config.rulesFile) });
  await app.register(keyRoutes, { keys, configured: config.apiKeys });
  if (webhooks) {
    // The plugin declares config.access ['merchant', 'admin'] on every route, so the auth hook
    // above authenticates them and sets request.principal; it scopes merchants to their own.
    await app.register(webhookRoutes, {
      prefix: '/api',
      store: webhooks.store,
      ...(webhooks.guard ? { guard: webhooks.guard } : {}),
    });
  }
  defineRoute(app, {
    method: 'GET',
    url: '/api/me',
    summary: 'Who the presented key is',
    tags: ['auth'],
    access: READERS,
    query: z.strictObject({}),
    handler: async ({ principal }) => principal,
  });

  if (existsSync(join(config.webDist, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: config.webDist,
      prefix: '/',
      // hashed file names under assets/ never change; index.html must always be revalidated
      setHeaders: (res, path) => {
        res.setHeader(
          'cache-control',
          path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  } else {
    app.log.warn(
      { webDist: config.webDist },
      'dashboard not built: run `npm run build -w @tillwatch/web`',
    );
    app.get('/', async (_req, reply) =>
      reply
        .type('text/html')
        .send(
          '<!doctype html><title>Tillwatch</title><p>The dashboard is not built. Run <code>npm run build -w @tillwatch/web</code>.</p>',
        ),
    );
  }

  app.addHook('preClose', async () => {
    broadcaster.close();
    io.local.disconnectSockets(true);
  });
  app.addHook('onClose', async () => {
    await io.close();
  });

  await app.ready();
  return {
    app,
    io,
    metrics,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      return address;
    },
    async close() {
      await app.close();
    },
  };
}
