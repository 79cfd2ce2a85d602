import { ApiError, errorBodySchema, errorResponse } from '@tillwatch/contracts';
import { MemoryWebhookStore } from '@tillwatch/webhooks';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyEntry } from './auth';
import { defaultGatewayConfig } from './config';
import { syntheticAlert } from './fixtures';
import { createGateway, type Gateway } from './gateway';
import { MemoryStore } from './memory-store';

/**
 * One REST error shape for every route the gateway serves, its own and the webhook routes it
 * mounts (@tillwatch/webhooks), and the webhook routes in its OpenAPI document.
 */
const keys: ApiKeyEntry[] = [
  { key: 'analyst-key-err-00000001', role: 'analyst', name: 'ana' },
  { key: 'merchant-a-key-err-00001', role: 'merchant', merchantId: 'M-A' },
];
const auth = (k: ApiKeyEntry) => ({ authorization: `Bearer ${k.key}` });
const analyst = auth(keys[0]!);
const merchant = auth(keys[1]!);

let gw: Gateway;
beforeAll(async () => {
  const store = new MemoryStore();
  gw = await createGateway({
    config: defaultGatewayConfig({ apiKeys: keys, webDist: '/nonexistent' }),
    store,
    webhooks: { store: new MemoryWebhookStore() },
  });
  store.pushAlert(syntheticAlert({ alertId: 'al-1', merchantId: 'M-A' }));
});
afterAll(() => gw.close());

const json = { 'content-type': 'application/json' };
type Case = [name: string, status: number, error: string, req: InjectOptions];

describe('one error shape', () => {
  const cases: Case[] = [
    [
      'gateway: bad query',
      400,
      'bad_request',
      { url: '/api/alerts?status=burning', headers: analyst },
    ],
    [
      'gateway: bad body',
      400,
      'bad_request',
      {
        method: 'POST',
        url: '/api/alerts/al-1/notes',
        headers: { ...analyst, ...json },
        payload: '{"note":""}',
      },
    ],
    [
      'webhooks: bad body',
      400,
      'bad_request',
      {
        method: 'POST',
        url: '/api/webhooks/subscriptions',
        headers: { ...merchant, ...json },
        payload: JSON.stringify({ url: 'https://hooks.example.com/x', language: 'fr' }),
      },
    ],
    [
      'webhooks: bad query',
      400,
      'bad_request',
      { url: '/api/webhooks/deliveries?limit=0', headers: merchant },
    ],
    [
      'webhooks: refused url',
      400,
      'bad_request',
      {
        method: 'POST',
        url: '/api/webhooks/subscriptions',
        headers: { ...merchant, ...json },
        payload: JSON.stringify({ url: 'https://10.0.0.1/' }),
      },
    ],
    [
      'gateway: unparsable JSON',
      400,
      'bad_request',
      {
        method: 'POST',
        url: '/api/alerts/al-1/notes',
        headers: { ...analyst, ...json },
        payload: '{"note":',
      },
    ],
    [
      'webhooks: unparsable JSON',
      400,
      'bad_request',
      {
        method: 'POST',
        url: '/api/webhooks/subscriptions',
        headers: { ...merchant, ...json },
        payload: '{"url":',
      },
    ],
    [
      'webhooks: unsupported content type',
      415,
      'unsupported_media_type',
      {
        method: 'POST',
        url: '/api/webhooks/subscriptions',
        headers: { ...merchant, 'content-type': 'text/csv' },
        payload: 'url',
      },
    ],
    ['gateway: no key', 401, 'unauthorized', { url: '/api/alerts' }],
    ['webhooks: no key', 401, 'unauthorized', { url: '/api/webhooks/subscriptions' }],
    [
      'webhooks: analyst',
      403,
      'forbidden',
      { url: '/api/webhooks/subscriptions', headers: analyst },
    ],
    ['gateway: unknown alert', 404, 'not_found', { url: '/api/alerts/nope', headers: analyst }],
    [
      'webhooks: unknown subscription',
      404,
      'not_found',
      { url: '/api/webhooks/subscriptions/nope', headers: merchant },
    ],
    ['no such route', 404, 'not_found', { url: '/api/nothing-here', headers: analyst }],
  ];

  it.each(cases)('%s → %i %s as { error, message, details }', async (_name, status, error, req) => {
    const res = await gw.app.inject(req);
    expect(res.statusCode).toBe(status);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['details', 'error', 'message']);
    expect(errorBodySchema.parse(body).error).toBe(error);
    expect(body.message.length).toBeGreaterThan(5);
    if (status === 400 && Array.isArray(body.details)) {
      // per problem: which part, where, what; and the message names the first of them
      for (const d of body.details) {
        expect(d).toEqual({
          in: expect.any(String),
          path: expect.any(String),
          message: expect.any(String),
          code: expect.any(String),
        });
      }
      expect(body.message).toContain(body.details[0].path);
    }
  });

  it('a bad webhook body names each problem with its place, as a bad gateway body does', async () => {
    const res = await gw.app.inject(cases[2]![3]);
    expect(res.json()).toEqual({
      error: 'bad_request',
      message: expect.stringMatching(/^invalid body: language: /),
      details: [
        { in: 'body', path: 'language', message: expect.any(String), code: 'invalid_value' },
      ],
    });
  });

  it('errorResponse: a retriable store error is a 503 to retry; anything unknown a 500 that leaks nothing', () => {
    const gone = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:8123'), {
      retriable: true,
    });
    expect(errorResponse(gone)).toMatchObject({
      status: 503,
      headers: { 'retry-after': '5' },
      body: { error: 'unavailable', details: null },
    });
    const bug = errorResponse(new TypeError('secret internals at /srv/x.ts'));
    expect(bug.status).toBe(500);
    expect(JSON.stringify(bug.body)).not.toContain('secret');
    expect(errorResponse(new ApiError(409, 'conflict', 'disabled')).body).toEqual({
      error: 'conflict',
      message: 'disabled',
      details: null,
    });
  });
});

describe('OpenAPI at /docs', () => {
  it('documents the webhook routes the gateway mounts: summary, tag, security, schemas', async () => {
    type Op = {
      summary?: string;
      tags?: string[];
      security?: unknown[];
      requestBody?: { content: Record<string, { schema: { properties?: object } }> };
      parameters?: { name: string; in: string }[];
    };
    const doc = (await gw.app.inject({ url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, Op>>;
    };
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith('/api/webhooks/'));
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
    for (const p of paths) {
      for (const [method, op] of Object.entries(doc.paths[p]!)) {
        expect(op.summary, `${method} ${p}`).toEqual(expect.any(String));
        expect(op.tags, `${method} ${p}`).toEqual(['webhooks']);
        expect(op.security, `${method} ${p}`).toEqual([{ bearer: [] }]);
      }
    }
    const create = doc.paths['/api/webhooks/subscriptions']!.post!;
    expect(
      Object.keys(create.requestBody!.content['application/json']!.schema.properties!),
    ).toEqual(expect.arrayContaining(['url', 'merchantId', 'rules', 'severities', 'language']));
    expect(doc.paths['/api/webhooks/deliveries']!.get!.parameters!.map((x) => x.name)).toEqual(
      expect.arrayContaining(['merchantId', 'status', 'since', 'limit']),
    );
  });
});
