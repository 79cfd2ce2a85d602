import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { webhookRoutes } from './routes';
import { MemoryWebhookStore } from './store';
import type { Principal } from './types';

let app: FastifyInstance;
let store: MemoryWebhookStore;
const T0 = Date.parse('2026-03-01T00:00:00Z');

beforeEach(async () => {
  store = new MemoryWebhookStore();
  app = Fastify();
  // Stands in for the gateway's auth plugin: it decorates request.principal.
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const h = req.headers['x-principal'];
    (req as unknown as { principal: Principal | null }).principal =
      typeof h === 'string' ? (JSON.parse(h) as Principal) : null;
  });
  await app.register(webhookRoutes, { store, now: () => T0 });
  await app.ready();
});
afterEach(() => app.close());

const as = (p: Principal) => ({ 'x-principal': JSON.stringify(p) });
const m1 = as({ role: 'merchant', merchantId: 'M-1' });
const m2 = as({ role: 'merchant', merchantId: 'M-2' });
const admin = as({ role: 'admin' });

async function create(headers: Record<string, string>, body: object) {
  return app.inject({ method: 'POST', url: '/webhooks/subscriptions', headers, payload: body });
}

describe('auth and scoping', () => {
  it('401 without a principal, 403 for analysts and SREs, error shape { error, message, details }', async () => {
    const r = await app.inject({ method: 'GET', url: '/webhooks/subscriptions' });
    expect(r.statusCode).toBe(401);
    expect(r.json()).toEqual({ error: 'unauthorized', message: expect.any(String), details: null });
    for (const role of ['analyst', 'sre'] as const) {
      const f = await app.inject({
        method: 'GET',
        url: '/webhooks/subscriptions',
        headers: as({ role }),
      });
      expect(f.statusCode).toBe(403);
      expect(f.json().error).toBe('forbidden');
    }
    const noId = await app.inject({
      method: 'GET',
      url: '/webhooks/deliveries',
      headers: as({ role: 'merchant' }),
    });
    expect(noId.statusCode).toBe(403);
  });

  it('merchants create, see and touch only their own; admins see all', async () => {
    const a = await create(m1, { url: 'https://hooks.m1.example/tw', language: 'zh' });
    expect(a.statusCode).toBe(201);
    const sa = a.json();
    expect(sa).toMatchObject({ merchantId: 'M-1', language: 'zh', enabled: true, rules: [] });
    expect(sa.secret).toMatch(/^whsec_/);
    expect((await create(m1, { merchantId: 'M-2', url: 'https://x.example/' })).statusCode).toBe(
      403,
    );
    const b = (
      await create(m2, { url: 'https://hooks.m2.example/', rules: ['card_testing'] })
    ).json();

    const list1 = await app.inject({ method: 'GET', url: '/webhooks/subscriptions', headers: m1 });
    expect(list1.json().items.map((s: { id: string }) => s.id)).toEqual([sa.id]);
    expect(JSON.stringify(list1.json())).not.toContain('whsec_');
    const spy = await app.inject({
      method: 'GET',
      url: '/webhooks/subscriptions?merchantId=M-2',
      headers: m1,
    });
    expect(spy.statusCode).toBe(403);
    for (const [method, url] of [
      ['GET', `/webhooks/subscriptions/${b.id}`],
      ['GET', `/webhooks/subscriptions/${b.id}/secret`],
      ['PATCH', `/webhooks/subscriptions/${b.id}`],
      ['DELETE', `/webhooks/subscriptions/${b.id}`],
      ['POST', `/webhooks/subscriptions/${b.id}/rotate-secret`],
    ] as const) {
      const r = await app.inject({ method, url, headers: m1, payload: {} });
      expect(r.statusCode, `${method} ${url}`).toBe(404);
    }
    const all = await app.inject({ method: 'GET', url: '/webhooks/subscriptions', headers: admin });
    expect(all.json().items).toHaveLength(2);
    const only2 = await app.inject({
      method: 'GET',
      url: '/webhooks/subscriptions?merchantId=M-2',
      headers: admin,
    });
    expect(only2.json().items.map((s: { id: string }) => s.id)).toEqual([b.id]);
    const noMerchant = await create(admin, { url: 'https://x.example/' });
    expect(noMerchant.statusCode).toBe(400);
    expect((await create(admin, { merchantId: 'M-3', url: 'https://x.example/' })).statusCode).toBe(
      201,
    );
  });
});

describe('validation', () => {
  it('rejects bad input with details, and unsafe URLs', async () => {
    const bad = await create(m1, { url: 'https://x.example/', language: 'fr', rules: ['nope'] });
    expect(bad.statusCode).toBe(400);
    const body = bad.json();
    expect(Object.keys(body).sort()).toEqual(['details', 'error', 'message']);
    expect(body.error).toBe('bad_request');
    expect(body.message).toMatch(/^invalid body: .*language/);
    expect(body.details.map((d: { in: string; path: string }) => `${d.in}:${d.path}`)).toEqual([
      'body:rules.0',
      'body:language',
    ]);
    // who may call is settled first: a stranger's bad body is a 401, not a lesson in the schema
    const stranger = await app.inject({
      method: 'POST',
      url: '/webhooks/subscriptions',
      payload: { language: 'fr' },
    });
    expect(stranger.statusCode).toBe(401);
    expect(stranger.json()).toEqual({
      error: 'unauthorized',
      message: expect.any(String),
      details: null,
    });
    expect((await create(m1, { url: 'https://x.example/', extra: 1 })).statusCode).toBe(400);
    for (const url of [
      'http://hooks.example.com/',
      'https://10.0.0.1/',
      'https://[::1]/',
      'https://localhost/',
    ]) {
      const r = await create(m1, { url });
      expect(r.statusCode, url).toBe(400);
      expect(r.json()).toMatchObject({
        error: 'bad_request',
        message: expect.stringMatching(/url refused/),
        details: [{ in: 'body', path: 'url' }],
      });
    }
    const junk = await app.inject({
      method: 'POST',
      url: '/webhooks/subscriptions',
      headers: { ...m1, 'content-type': 'application/json' },
      payload: '{"url":',
    });
    expect(junk.statusCode).toBe(400);
    expect(junk.json()).toEqual({
      error: 'bad_request',
      message: expect.stringMatching(/JSON/),
      details: { code: 'FST_ERR_CTP_INVALID_JSON_BODY' },
    });
    const q = await app.inject({ method: 'GET', url: '/webhooks/deliveries?limit=0', headers: m1 });
    expect(q.statusCode).toBe(400);
    expect(q.json().details[0]).toMatchObject({ in: 'querystring', path: 'limit' });
  });

  it('refuses to register without the principal request decorator', async () => {
    const bare = Fastify();
    await expect(bare.register(webhookRoutes, { store }).ready()).rejects.toThrow(/principal/);
    await bare.close();
  });
});

describe('fairness (issue 16): one merchant can delay every merchant’s webhooks', () => {
  it('caps the subscriptions one merchant may hold: the 11th is a 409 in the one error shape, other merchants unaffected', async () => {
    // all at once: the count is not raced past the cap
    const made = await Promise.all(
      Array.from({ length: 20 }, (_, i) => create(m1, { url: `https://hooks.m1.example/${i}` })),
    );
    expect(made.filter((r) => r.statusCode === 201)).toHaveLength(10);
    const refused = made.filter((r) => r.statusCode !== 201);
    expect(refused).toHaveLength(10);
    for (const r of refused) {
      expect(r.statusCode).toBe(409);
      expect(r.json()).toEqual({
        error: 'conflict',
        message: expect.stringMatching(/M-1 already has 10 webhook subscriptions/),
        details: null,
      });
    }
    const list = await app.inject({ method: 'GET', url: '/webhooks/subscriptions', headers: m1 });
    expect(list.json().items).toHaveLength(10);
    // an admin creating for M-1 is held to the same cap; M-2 still subscribes
    expect((await create(admin, { merchantId: 'M-1', url: 'https://x.example/' })).statusCode).toBe(
      409,
    );
    expect((await create(m2, { url: 'https://hooks.m2.example/' })).statusCode).toBe(201);
    // a deletion frees a place
    const first = list.json().items[0].id as string;
    await app.inject({ method: 'DELETE', url: `/webhooks/subscriptions/${first}`, headers: m1 });
    expect((await create(m1, { url: 'https://hooks.m1.example/again' })).statusCode).toBe(201);
  });

  it('the cap is an option of the routes', async () => {
    const small = Fastify();
    small.decorateRequest('principal', null);
    small.addHook('onRequest', async (req) => {
      (req as unknown as { principal: Principal }).principal = {
        role: 'merchant',
        merchantId: 'M-9',
      };
    });
    await small.register(webhookRoutes, {
      store: new MemoryWebhookStore(),
      maxSubscriptionsPerMerchant: 1,
    });
    const post = () =>
      small.inject({
        method: 'POST',
        url: '/webhooks/subscriptions',
        payload: { url: 'https://a.example/' },
      });
    expect((await post()).statusCode).toBe(201);
    expect((await post()).statusCode).toBe(409);
    await small.close();
  });
});

describe('secret rotation', () => {
  it('keeps the old secret signing during the overlap, then drops it', async () => {
    const s = (await create(m1, { url: 'https://x.example/' })).json();
    const r = await app.inject({
      method: 'POST',
      url: `/webhooks/subscriptions/${s.id}/rotate-secret`,
      headers: m1,
      payload: { overlapSeconds: 3600 },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().secret).not.toBe(s.secret);
    expect(r.json().previousSecretsExpireAt).toBe(new Date(T0 + 3_600_000).toISOString());
    const secrets = (
      await app.inject({
        method: 'GET',
        url: `/webhooks/subscriptions/${s.id}/secret`,
        headers: m1,
      })
    ).json().secrets;
    expect(secrets.map((x: { secret: string }) => x.secret)).toEqual([r.json().secret, s.secret]);
    const stored = await store.getSubscription(s.id);
    expect(stored?.secrets[1]?.expiresAt).toBe(new Date(T0 + 3_600_000).toISOString());
  });
});

describe('deliveries and replay', () => {
  it('lists the attempt log of own deliveries and replays one or all since a time', async () => {
    const s1 = (await create(m1, { url: 'https://a.example/' })).json();
    const s2 = (await create(m2, { url: 'https://b.example/' })).json();
    const mk = (id: string, sub: { id: string; merchantId: string }, createdAt: number) => ({
      id,
      webhookId: `msg_${id}`,
      subscriptionId: sub.id,
      merchantId: sub.merchantId,
      kind: 'alert' as const,
      alertId: id,
      body: '{}',
      createdAt,
    });
    const [d1, d2, d3] = await store.enqueue([
      mk('d1', s1, T0 - 60_000),
      mk('d2', s1, T0 - 10_000),
      mk('d3', s2, T0 - 10_000),
    ]);
    for (const d of [d1!, d2!, d3!]) {
      await store.recordAttempt(
        {
          deliveryId: d.id,
          webhookId: d.webhookId,
          subscriptionId: d.subscriptionId,
          merchantId: d.merchantId,
          attempt: 1,
          scheduledAt: d.createdAt,
          startedAt: d.createdAt,
          latencyMs: 12.5,
          statusCode: 500,
          error: 'HTTP 500',
          outcome: 'dead',
        },
        { ...d, status: 'dead', attempts: 1, totalAttempts: 1, nextAttemptAt: undefined },
      );
    }
    const r = await app.inject({ method: 'GET', url: '/webhooks/deliveries', headers: m1 });
    const items = r.json().items;
    expect(items.map((d: { id: string }) => d.id)).toEqual(['d1', 'd2']);
    expect(items[0].attemptLog[0]).toMatchObject({
      statusCode: 500,
      latencyMs: 12.5,
      error: 'HTTP 500',
    });

    expect(
      (await app.inject({ method: 'POST', url: '/webhooks/deliveries/d3/replay', headers: m1 }))
        .statusCode,
    ).toBe(404);
    const one = await app.inject({
      method: 'POST',
      url: '/webhooks/deliveries/d1/replay',
      headers: m1,
    });
    expect(one.statusCode).toBe(202);
    expect(await store.getDelivery('d1')).toMatchObject({
      status: 'pending',
      attempts: 0,
      nextAttemptAt: T0,
    });

    const since = new Date(T0 - 30_000).toISOString();
    const all = await app.inject({
      method: 'POST',
      url: '/webhooks/replay',
      headers: m1,
      payload: { since },
    });
    expect(all.json()).toMatchObject({ replayed: 1, ids: ['d2'] });
    expect((await store.getDelivery('d3'))?.status).toBe('dead');
    const adminAll = await app.inject({
      method: 'POST',
      url: '/webhooks/replay',
      headers: admin,
      payload: { since },
    });
    expect(adminAll.json()).toMatchObject({ replayed: 1, ids: ['d3'] });

    await app.inject({
      method: 'PATCH',
      url: `/webhooks/subscriptions/${s1.id}`,
      headers: m1,
      payload: { enabled: false },
    });
    await store.updateDeliveries([{ ...(await store.getDelivery('d2'))!, status: 'dead' }]);
    const conflict = await app.inject({
      method: 'POST',
      url: '/webhooks/deliveries/d2/replay',
      headers: m1,
    });
    expect(conflict.statusCode).toBe(409);
  });
});

describe('inside a gateway like ours', () => {
  it('declares access per route (auth runs only where declared) and documents every route', async () => {
    const swagger = (await import('@fastify/swagger')).default;
    const gw = Fastify();
    await gw.register(swagger, {
      openapi: {
        info: { title: 't', version: '0' },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      },
    });
    // Like the gateway's tw-auth: authenticates only routes whose config declares access.
    gw.decorateRequest('principal', null);
    gw.addHook('onRequest', async (req) => {
      const access = (req.routeOptions.config as { access?: string[] }).access;
      if (!access) return;
      const h = req.headers['x-principal'];
      (req as unknown as { principal: Principal | null }).principal =
        typeof h === 'string' ? (JSON.parse(h) as Principal) : null;
    });
    // mounted under a prefix, as the gateway mounts it under /api
    await gw.register(webhookRoutes, { prefix: '/api', store: new MemoryWebhookStore() });
    gw.get('/public', async (req) => ({
      principal: (req as unknown as { principal: unknown }).principal,
    }));
    await gw.ready();
    const r = await gw.inject({ method: 'GET', url: '/api/webhooks/subscriptions', headers: m1 });
    expect(r.statusCode).toBe(200);
    // the plugin's access config did not leak onto the gateway's own routes
    expect((await gw.inject({ method: 'GET', url: '/public', headers: m1 })).json()).toEqual({
      principal: null,
    });
    type Op = { tags?: string[]; summary?: string; requestBody?: unknown; parameters?: unknown[] };
    const spec = gw.swagger() as { paths: Record<string, Record<string, Op>> };
    const paths = Object.keys(spec.paths).filter((p) => p.startsWith('/api/webhooks'));
    expect(paths.sort()).toEqual([
      '/api/webhooks/deliveries',
      '/api/webhooks/deliveries/{id}',
      '/api/webhooks/deliveries/{id}/replay',
      '/api/webhooks/replay',
      '/api/webhooks/subscriptions',
      '/api/webhooks/subscriptions/{id}',
      '/api/webhooks/subscriptions/{id}/rotate-secret',
      '/api/webhooks/subscriptions/{id}/secret',
    ]);
    // documented, not merely listed: the prefix must not hide a route from its summary/schemas
    for (const path of paths) {
      for (const op of Object.values(spec.paths[path]!)) {
        expect(op.tags, path).toEqual(['webhooks']);
        expect(op.summary, path).toEqual(expect.any(String));
      }
    }
    expect(spec.paths['/api/webhooks/subscriptions']?.post?.requestBody).toBeDefined();
    await gw.close();
  });
});
