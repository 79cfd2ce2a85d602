import { MemoryWebhookStore } from '@tillwatch/webhooks';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyEntry } from './auth';
import { defaultGatewayConfig } from './config';
import { syntheticAlert, syntheticAuth, syntheticRow } from './fixtures';
import { createGateway, type Gateway } from './gateway';
import {
  A,
  ADMIN,
  B,
  DLV_B,
  SRE,
  STAFF,
  SUB_A,
  leaky,
  runIsolation,
  seedWebhooks,
  type Attack,
} from './isolation';
import { MemoryStore } from './memory-store';

/**
 * Merchant A's key against merchant B's ids on every REST route and socket path. A leak is a
 * 2xx body that mentions anything of B's (merchant, terminal, alert, txn, B's region
 * aggregates), a socket message to A that does, or a write that changed B's alert.
 * A positive control runs the same reads with B's own key, so the markers are known to show.
 */

let gw: Gateway;
let store: MemoryStore;
let hooks: MemoryWebhookStore;
let url: string;

function seed(): void {
  const ts = new Date().toISOString();
  const rows = [];
  for (const w of ['1m', '5m']) {
    rows.push(
      syntheticRow({
        scope: 'terminal',
        key: 'T-A1',
        merchantId: 'M-A',
        region: 'CN-44',
        window: w,
        ts,
      }),
      syntheticRow({
        scope: 'terminal',
        key: 'T-B1',
        merchantId: 'M-B',
        region: 'CN-31',
        window: w,
        ts,
        faultRate: 0.6,
      }),
      syntheticRow({
        scope: 'terminal',
        key: 'T-B2',
        merchantId: 'M-B',
        region: 'CN-31',
        window: w,
        ts,
      }),
      syntheticRow({
        scope: 'merchant',
        key: 'M-A',
        merchantId: 'M-A',
        region: 'CN-44',
        window: w,
        ts,
      }),
      syntheticRow({
        scope: 'merchant',
        key: 'M-B',
        merchantId: 'M-B',
        region: 'CN-31',
        window: w,
        ts,
      }),
      syntheticRow({ scope: 'region', key: 'CN-31', window: w, ts }),
      syntheticRow({ scope: 'region', key: 'CN-44', window: w, ts }),
      syntheticRow({ scope: 'firmware', key: 'fw-1', window: w, ts }),
      syntheticRow({ scope: 'fleet', key: '*', window: w, ts }),
    );
  }
  store.pushRates(rows);
  store.pushEvents([
    syntheticAuth({ terminalId: 'T-A1', merchantId: 'M-A', region: 'CN-44', txnId: 'txA-1' }),
    syntheticAuth({
      terminalId: 'T-B1',
      merchantId: 'M-B',
      region: 'CN-31',
      txnId: 'txB-1',
      responseCode: 'TO',
    }),
    syntheticAuth({
      terminalId: 'T-B2',
      merchantId: 'M-B',
      region: 'CN-31',
      txnId: 'txB-2',
      responseCode: '91',
    }),
  ]);
  store.pushAlert(
    syntheticAlert({ alertId: 'al-A-term', key: 'T-A1', merchantId: 'M-A', region: 'CN-44' }),
  );
  store.pushAlert(
    syntheticAlert({
      alertId: 'al-B-term',
      key: 'T-B1',
      merchantId: 'M-B',
      region: 'CN-31',
      evidence: { txnIds: ['txB-1'] },
    }),
  );
  // merchant scope without a merchantId field: the store fills it from the key
  store.pushAlert(
    syntheticAlert({
      alertId: 'al-B-merch',
      rule: 'card_testing',
      scope: 'merchant',
      key: 'M-B',
      merchantId: undefined,
      region: undefined,
    }),
  );
  store.pushAlert(
    syntheticAlert({
      alertId: 'al-B-region',
      rule: 'regional_outage',
      scope: 'region',
      key: 'CN-31',
      merchantId: undefined,
      region: 'CN-31',
    }),
  );
}

beforeAll(async () => {
  store = new MemoryStore();
  hooks = new MemoryWebhookStore();
  gw = await createGateway({
    config: defaultGatewayConfig({
      apiKeys: [A, B, STAFF, ADMIN, SRE],
      webDist: '/nonexistent',
      rateLimit: { max: 100_000, timeWindowMs: 60_000 },
      // refused keys on every webhook route from one address, on purpose (hardening.test.ts
      // tests the limit on refused credentials)
      authFailures: { max: 10_000, windowMs: 60_000 },
    }),
    store,
    webhooks: { store: hooks },
  });
  url = await gw.listen();
  seed();
  await seedWebhooks(hooks);
});
afterAll(async () => {
  await gw.close();
});

describe('merchant isolation', () => {
  it('merchant A never reads or changes merchant B’s data by any REST route', async () => {
    const r = await runIsolation(gw.app, store, hooks);
    console.log(
      `security/REST: merchant A → B attempts=${r.attempts} (webhooks ${r.webhookAttempts}) leaks=${r.leaks.length} statuses=${JSON.stringify(r.statuses)} positive-controls=${r.controls}/${r.controlsTotal}`,
    );
    expect(r.leaks).toEqual([]);
    expect(r.attempts).toBeGreaterThan(300);
    expect(r.webhookAttempts).toBeGreaterThan(25);
    expect(r.controls).toBe(r.controlsTotal);
  });

  it('merchant A never receives B’s rates or alerts over socket.io, whatever it asks for', async () => {
    const sockets: Socket[] = [];
    const received: string[] = [];
    let attempts = 0;
    const tricks: { auth: Record<string, unknown>; query?: Record<string, string> }[] = [
      { auth: { token: A.key } },
      { auth: { token: A.key, merchantId: 'M-B' } },
      { auth: { token: A.key, room: 'merchant:M-B', rooms: ['analysts', 'merchant:M-B'] } },
      { auth: { token: A.key }, query: { merchantId: 'M-B', room: 'analysts' } },
      { auth: { token: A.key, role: 'analyst' } },
    ];
    for (const t of tricks) {
      attempts++;
      const s = connect(url, {
        auth: t.auth,
        ...(t.query ? { query: t.query } : {}),
        transports: ['websocket'],
        reconnection: false,
      });
      sockets.push(s);
      s.onAny((event: string, msg: unknown) => received.push(`${event} ${JSON.stringify(msg)}`));
      await new Promise<void>((resolve, reject) => {
        s.on('connect', resolve);
        s.on('connect_error', reject);
      });
      const refusals: unknown[] = [];
      for (const [ev, arg] of [
        ['subscribe', { region: 'CN-31' }],
        ['subscribe', { region: 'merchant:M-B' }],
        ['subscribe', { merchantId: 'M-B' }],
        ['join', 'merchant:M-B'],
        ['join', 'analysts'],
      ] as const) {
        attempts++;
        s.emit(ev, arg, (r: unknown) => refusals.push(r));
      }
      await expect.poll(() => refusals.length).toBe(3); // 'join' has no handler and no ack
      expect(refusals.every((r) => (r as { ok: boolean }).ok === false)).toBe(true);
    }
    const b = connect(url, {
      auth: { token: B.key },
      transports: ['websocket'],
      reconnection: false,
    });
    let bGot = 0;
    b.onAny(() => bGot++);
    await new Promise<void>((resolve) => b.on('connect', resolve));

    seed(); // push B's and A's rates and alerts again, now that everyone listens
    await gw.app.inject({
      method: 'POST',
      url: '/api/alerts/al-B-term/notes',
      headers: { authorization: `Bearer ${STAFF.key}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ note: 'staff note on B' }),
    });
    await expect.poll(() => bGot).toBeGreaterThanOrEqual(4); // rates + 2 alerts + audit reached B
    await expect
      .poll(() => received.filter((r) => r.startsWith('alert ')).length)
      .toBe(tricks.length); // al-A-term each
    const leaks = received.filter((r) => leaky(r).length > 0);
    console.log(
      `security/socket: merchant A → B attempts=${attempts} messages-to-A=${received.length} leaks=${leaks.length} B-own-messages=${bGot}`,
    );
    sockets.forEach((s) => s.close());
    b.close();
    expect(leaks).toEqual([]);
    expect(attempts).toBeGreaterThanOrEqual(30);
    expect(received.length).toBeGreaterThan(0);
  });
});

describe('webhook routes through the gateway auth', () => {
  const call = (
    method: Attack['method'],
    path: string,
    key: ApiKeyEntry | undefined,
    body?: unknown,
  ) =>
    gw.app.inject({
      method,
      url: path,
      headers: {
        ...(key ? { authorization: `Bearer ${key.key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
  const routes: [Attack['method'], string, unknown?][] = [
    ['GET', '/api/webhooks/subscriptions'],
    ['POST', '/api/webhooks/subscriptions', { url: 'https://hooks.example.com/x' }],
    ['GET', `/api/webhooks/subscriptions/${SUB_A}`],
    ['GET', `/api/webhooks/subscriptions/${SUB_A}/secret`],
    ['PATCH', `/api/webhooks/subscriptions/${SUB_A}`, { enabled: true }],
    ['DELETE', `/api/webhooks/subscriptions/${SUB_A}`],
    ['POST', `/api/webhooks/subscriptions/${SUB_A}/rotate-secret`, {}],
    ['GET', '/api/webhooks/deliveries'],
    ['GET', `/api/webhooks/deliveries/${DLV_B}`],
    ['POST', `/api/webhooks/deliveries/${DLV_B}/replay`, {}],
    ['POST', '/api/webhooks/replay', { since: '2000-01-01T00:00:00Z' }],
  ];

  it('401 without or with a wrong key, 403 for analysts and SREs, on every webhook route', async () => {
    const before = JSON.stringify(await hooks.listSubscriptions());
    for (const [method, path, body] of routes) {
      expect(gw.app.hasRoute({ method, url: path.replace(/(sub|dlv)_[AB]_0+1/, ':id') })).toBe(
        true,
      );
      for (const key of [undefined, { ...A, key: 'not-a-real-key-0000000' }]) {
        const r = await call(method, path, key, body);
        expect(r.statusCode, `${method} ${path}`).toBe(401);
        expect(r.json()).toEqual({
          error: 'unauthorized',
          message: expect.any(String),
          details: null,
        });
      }
      for (const key of [STAFF, SRE]) {
        const r = await call(method, path, key, body);
        expect(r.statusCode, `${key.role} ${method} ${path}`).toBe(403);
        expect(r.json()).toMatchObject({ error: 'forbidden', message: expect.any(String) });
      }
    }
    expect(JSON.stringify(await hooks.listSubscriptions())).toBe(before);
  });

  it('400 with details for bad input; unsafe URLs refused at save time', async () => {
    const bad = await call('POST', '/api/webhooks/subscriptions', A, {
      url: 'https://hooks.example.com/x',
      language: 'fr',
      rules: ['nope'],
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .details.map((d: { path: string }) => d.path)
        .sort(),
    ).toEqual(['language', 'rules.0']);
    for (const u of ['http://hooks.example.com/', 'https://10.0.0.1/', 'https://127.0.0.1/']) {
      const r = await call('POST', '/api/webhooks/subscriptions', A, { url: u });
      expect(r.statusCode, u).toBe(400);
      expect(r.json().message).toMatch(/url refused/);
    }
    expect((await call('GET', '/api/webhooks/deliveries?limit=0', A)).statusCode).toBe(400);
    expect((await call('GET', '/api/webhooks/subscriptions?x=1', A)).statusCode).toBe(400);
    const admin = await call('POST', '/api/webhooks/subscriptions', ADMIN, {
      url: 'https://hooks.example.com/x',
    });
    expect(admin.statusCode).toBe(400); // an admin must name the merchant
  });

  it('a merchant manages its own subscriptions; an admin sees every merchant’s', async () => {
    const created = await call('POST', '/api/webhooks/subscriptions', A, {
      url: 'https://hooks.m-a.example/second',
      language: 'zh',
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      merchantId: 'M-A',
      secret: expect.stringMatching(/^whsec_/),
    });
    const mine = (await call('GET', '/api/webhooks/subscriptions', A)).json();
    expect(mine.items.map((s: { merchantId: string }) => s.merchantId)).toEqual(['M-A', 'M-A']);
    const all = (await call('GET', '/api/webhooks/subscriptions', ADMIN)).json();
    expect(new Set(all.items.map((s: { merchantId: string }) => s.merchantId))).toEqual(
      new Set(['M-A', 'M-B']),
    );
    const log = (await call('GET', '/api/webhooks/deliveries', B)).json();
    expect(log.items.map((d: { id: string; status: string }) => [d.id, d.status])).toEqual([
      [DLV_B, 'dead'],
    ]);
    expect(log.items[0].attemptLog[0]).toMatchObject({ attempt: 1, statusCode: 500 });
    expect(
      (await call('DELETE', `/api/webhooks/subscriptions/${created.json().id}`, A)).statusCode,
    ).toBe(204);
    const doc = (await gw.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toContain('/api/webhooks/subscriptions/{id}');
  });
});
