import { connect } from 'node:net';
import { errorBodySchema } from '@tillwatch/contracts';
import { MemoryWebhookStore } from '@tillwatch/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyEntry } from './auth';
import { defaultGatewayConfig } from './config';
import { syntheticAlert } from './fixtures';
import { createGateway, type Gateway } from './gateway';
import { MemoryStore } from './memory-store';

/**
 * Issue 16, "Replay and API input": findings of the outside review, each reproduced here. Time
 * parameters are refused with a 400 naming the parameter; every error the gateway answers,
 * those raised before a route runs included, has the shape `{ error, message, details }`.
 */
const keys: ApiKeyEntry[] = [
  { key: 'analyst-key-input-000001', role: 'analyst', name: 'ana' },
  { key: 'admin-key-input-00000001', role: 'admin', name: 'root' },
];
const analyst = { authorization: `Bearer ${keys[0]!.key}` };
const admin = { authorization: `Bearer ${keys[1]!.key}` };
const json = { 'content-type': 'application/json' };

let gw: Gateway;
let port: number;
beforeAll(async () => {
  const store = new MemoryStore();
  gw = await createGateway({
    config: defaultGatewayConfig({ apiKeys: keys, webDist: '/nonexistent', host: '127.0.0.1' }),
    store,
    webhooks: { store: new MemoryWebhookStore() },
  });
  store.pushAlert(syntheticAlert({ alertId: 'al-1', merchantId: 'M-A' }));
  port = Number(new URL(await gw.listen()).port);
});
afterAll(() => gw.close());

/** Raw bytes over loopback: what node's parser sees, before fastify. */
function rawHttp(text: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (data += d));
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
    s.on('close', () => {
      const at = data.indexOf('\r\n\r\n');
      resolve({
        status: Number(data.slice(9, 12)),
        headers: data.slice(0, at),
        body: data.slice(at + 4),
      });
    });
  });
}

function expectShape(body: unknown, error: string) {
  expect(Object.keys(body as object).sort()).toEqual(['details', 'error', 'message']);
  expect(errorBodySchema.parse(body).error).toBe(error);
}

describe('time parameters: a real date range, else 400 naming the parameter', () => {
  const bad: [string, RegExp][] = [
    ['8640000000000001', /out of range/],
    ['', /expected a time/],
    ['%20', /expected a time/],
    ['0x10', /expected a time/],
    ['1e12', /expected a time/],
    ['-1', /expected a time/],
    ['0', /out of range/],
    ['0001-01-01T00:00:00Z', /out of range/],
    ['2026-01-01T00:00:00', /expected a time/],
  ];
  const routes: [string, string][] = [
    ['/api/alerts', 'since'],
    ['/api/alerts/al-1/drilldown', 'since'],
    ['/api/alerts/al-1/drilldown', 'until'],
    ['/api/series?scope=terminal&key=T1', 'since'],
    ['/api/series?scope=terminal&key=T1', 'until'],
    ['/api/webhooks/deliveries', 'since'],
  ];
  it.each(routes)('%s ?%s=', async (path, param) => {
    for (const [value, why] of bad) {
      const url = `${path}${path.includes('?') ? '&' : '?'}${param}=${value}`;
      const res = await gw.app.inject({ url, headers: admin });
      expect(res.statusCode, url).toBe(400);
      const body = res.json();
      expectShape(body, 'bad_request');
      expect(body.message, url).toContain(`${param}: `);
      expect(body.details, url).toEqual([
        { in: 'querystring', path: param, message: expect.stringMatching(why), code: 'custom' },
      ]);
    }
  });

  it('takes epoch ms in decimal digits and ISO-8601 with an offset on every route', async () => {
    for (const [path, param] of routes) {
      for (const value of ['1767225600000', '2026-01-01T08:00:00%2B08:00']) {
        const url = `${path}${path.includes('?') ? '&' : '?'}${param}=${value}`;
        const res = await gw.app.inject({ url, headers: admin });
        expect(res.statusCode, `${url}: ${res.body}`).not.toBe(400);
      }
    }
  });

  it('times in bodies too: a silence ending in 9999, a webhook replay since year 1', async () => {
    const silence = await gw.app.inject({
      method: 'POST',
      url: '/api/silences',
      headers: { ...admin, ...json },
      payload: JSON.stringify({
        matchers: { rule: 'terminal_silent' },
        endsAt: '9999-12-31T00:00:00Z',
        comment: 'forever',
      }),
    });
    expect(silence.statusCode).toBe(400);
    expect(silence.json().details).toEqual([
      expect.objectContaining({
        in: 'body',
        path: 'endsAt',
        message: expect.stringMatching(/out of range/),
      }),
    ]);
    const replay = await gw.app.inject({
      method: 'POST',
      url: '/api/webhooks/replay',
      headers: { ...admin, ...json },
      payload: JSON.stringify({ since: '0001-01-01T00:00:00Z' }),
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.json().details).toEqual([
      expect.objectContaining({
        in: 'body',
        path: 'since',
        message: expect.stringMatching(/out of range/),
      }),
    ]);
  });
});

describe('errors raised before a route runs, in the one shape', () => {
  it('431: headers over the limit', async () => {
    const res = await rawHttp(
      `GET /api/alerts HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`,
    );
    expect(res.status).toBe(431);
    expect(res.headers).toMatch(/content-type: application\/json/i);
    const body = JSON.parse(res.body);
    expectShape(body, 'headers_too_large');
    expect(body.details).toEqual({ code: 'HPE_HEADER_OVERFLOW' });
  });

  it('400: a request node cannot parse', async () => {
    const res = await rawHttp('NOT HTTP AT ALL\r\n\r\n');
    expect(res.status).toBe(400);
    expectShape(JSON.parse(res.body), 'bad_request');
  });

  it('400: a URL that cannot be decoded', async () => {
    for (const url of ['/api/%', '/api/alerts/%zz', '/%E0%A4%A']) {
      const res = await gw.app.inject({ url, headers: analyst });
      expect(res.statusCode, url).toBe(400);
      const body = res.json();
      expectShape(body, 'bad_request');
      expect(body.details).toEqual({ code: 'FST_ERR_BAD_URL' });
    }
  });

  it('414: a path parameter past its length limit', async () => {
    const res = await gw.app.inject({ url: `/api/alerts/${'a'.repeat(500)}`, headers: analyst });
    expect(res.statusCode).toBe(414);
    expectShape(res.json(), 'uri_too_long');
  });

  it('404, 413 and malformed JSON (over loopback, as a client sees them)', async () => {
    const notFound = await rawHttp(
      'GET /api/nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(notFound.status).toBe(404);
    expectShape(JSON.parse(notFound.body), 'not_found');
    const big = 'x'.repeat(70_000);
    const tooLarge = await rawHttp(
      `POST /api/alerts/al-1/notes HTTP/1.1\r\nHost: x\r\nAuthorization: ${analyst.authorization}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${big.length + 10}\r\n\r\n{"note":"${big}"}`,
    );
    expect(tooLarge.status).toBe(413);
    expectShape(JSON.parse(tooLarge.body), 'payload_too_large');
    const badJson = await rawHttp(
      `POST /api/alerts/al-1/notes HTTP/1.1\r\nHost: x\r\nAuthorization: ${analyst.authorization}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 8\r\nConnection: close\r\n\r\n{"note":`,
    );
    expect(badJson.status).toBe(400);
    expectShape(JSON.parse(badJson.body), 'bad_request');
  });
});

describe('OpenAPI: who may call each route', () => {
  it('every authenticated route, the webhook routes included, names its security and roles', async () => {
    type Op = { security?: unknown[]; description?: string };
    const doc = (await gw.app.inject({ url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, Op>>;
    };
    let webhookOps = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const [method, op] of Object.entries(ops)) {
        expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
        expect(op.description, `${method} ${path}`).toMatch(/Roles: .*admin/);
        expect(op.description, `${method} ${path}`).toContain('{ error, message, details }');
        if (path.startsWith('/api/webhooks/')) {
          webhookOps++;
          expect(op.description).toMatch(/Roles: merchant \(its own/);
        }
      }
    }
    expect(webhookOps).toBe(11);
  });
});
