import { serverMessageSchemas, type ServerEvent } from '@tillwatch/contracts';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyEntry } from './auth';
import { defaultGatewayConfig } from './config';
import { syntheticAlert, syntheticAuth, syntheticRow } from './fixtures';
import { createGateway, type Gateway } from './gateway';
import { MemoryStore } from './memory-store';
import type { AlertMessage, AuditMessage, RatesMessage } from './socket';

const keys: ApiKeyEntry[] = [
  { key: 'analyst-key-000000000001', role: 'analyst', name: 'ana' },
  { key: 'sre-key-0000000000000001', role: 'sre' },
  { key: 'admin-key-00000000000001', role: 'admin' },
  { key: 'merchant-a-key-000000001', role: 'merchant', merchantId: 'M-A' },
  { key: 'merchant-b-key-000000001', role: 'merchant', merchantId: 'M-B' },
];
const [analyst, sre, admin, mA] = keys.map((k) => ({ authorization: `Bearer ${k.key}` }));

let gw: Gateway;
let store: MemoryStore;
let url: string;

beforeAll(async () => {
  store = new MemoryStore();
  gw = await createGateway({
    config: defaultGatewayConfig({
      apiKeys: keys,
      metricsToken: 'metrics-token-00000001',
      ratesBatchMs: 0, // one message per push, so seq steps are exact
      webDist: '/nonexistent',
      // ~60 refused keys from one address on purpose (every route × 3); the limit on refused
      // credentials has its own tests (hardening.test.ts)
      authFailures: { max: 10_000, windowMs: 60_000 },
    }),
    store,
  });
  url = await gw.listen();
  store.pushRates([
    syntheticRow({ scope: 'terminal', key: 'T-A1', merchantId: 'M-A', region: 'CN-31' }),
    syntheticRow({
      scope: 'terminal',
      key: 'T-B1',
      merchantId: 'M-B',
      region: 'CN-31',
      faultRate: 0.5,
    }),
    syntheticRow({ scope: 'region', key: 'CN-31' }),
  ]);
  store.pushAlert(syntheticAlert({ alertId: 'al-A', key: 'T-A1', merchantId: 'M-A' }));
  store.pushEvents([
    syntheticAuth({ terminalId: 'T-A1', merchantId: 'M-A', region: 'CN-31', responseCode: '58' }),
    syntheticAuth({ terminalId: 'T-A1', merchantId: 'M-A', region: 'CN-31', responseCode: '00' }),
  ]);
});
afterAll(async () => {
  await gw.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  gw.app.inject({ method: 'GET', url: path, headers });
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  gw.app.inject({
    method: 'POST',
    url: path,
    headers: { ...headers, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });

/** Every protected route with sample params; each is checked to exist in fastify's table. */
function allApiRoutes(): { method: string; url: string }[] {
  const out: { method: string; url: string }[] = [];
  for (const [method, u] of [
    ['GET', '/api/rates'],
    ['GET', '/api/series?scope=terminal&key=T-A1'],
    ['GET', '/api/events?scope=terminal&key=T-A1'],
    ['GET', '/api/top'],
    ['GET', '/api/snapshot'],
    ['GET', '/api/me'],
    ['GET', '/api/alerts'],
    ['GET', '/api/alerts/al-A'],
    ['GET', '/api/alerts/al-A/audit'],
    ['GET', '/api/alerts/al-A/drilldown'],
    ['POST', '/api/alerts/al-A/ack'],
    ['POST', '/api/alerts/al-A/assign'],
    ['POST', '/api/alerts/al-A/notes'],
    ['POST', '/api/alerts/al-A/resolve'],
    ['GET', '/api/quality'],
    ['GET', '/api/regions/traffic'],
    ['GET', '/api/rules'],
    ['GET', '/api/silences'],
    ['POST', '/api/silences'],
    ['GET', '/api/silences/00000000-0000-4000-8000-000000000000'],
    ['PUT', '/api/silences/00000000-0000-4000-8000-000000000000'],
    ['DELETE', '/api/silences/00000000-0000-4000-8000-000000000000'],
    ['GET', '/metrics'],
  ] as const) {
    out.push({ method, url: u });
    expect(
      gw.app.hasRoute({
        method,
        url: u
          .split('?')[0]!
          .replace(/al-A/, ':alertId')
          .replace(/0000.*$/, ':id'),
      }),
    ).toBe(true);
  }
  return out;
}

describe('authentication and roles', () => {
  it('401 on every route without or with a wrong key, body { error, message, details }', async () => {
    const routes = allApiRoutes();
    for (const r of routes) {
      for (const headers of [
        {},
        { authorization: 'Bearer not-a-real-key-000000' },
        { 'x-api-key': 'nope' },
      ]) {
        const res = await gw.app.inject({ method: r.method as 'GET', url: r.url, headers });
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
        expect(res.json()).toMatchObject({
          error: 'unauthorized',
          message: expect.any(String),
          details: null,
        });
      }
    }
  });

  it('403 for the wrong role', async () => {
    expect((await get('/metrics', analyst)).statusCode).toBe(403);
    expect((await get('/metrics', mA)).statusCode).toBe(403);
    expect((await get('/metrics', sre)).statusCode).toBe(200);
    expect((await get('/metrics', admin)).statusCode).toBe(200);
    expect(
      (await get('/metrics', { authorization: 'Bearer metrics-token-00000001' })).statusCode,
    ).toBe(200);
    expect((await post('/api/alerts/al-A/ack', {}, mA)).statusCode).toBe(403);
    expect((await post('/api/alerts/al-A/resolve', {}, mA)).statusCode).toBe(403);
    expect((await get('/api/silences', mA)).statusCode).toBe(403);
    const res = await get('/api/rates?scope=region', mA);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'forbidden' });
  });

  it('/healthz is open and says nothing else', async () => {
    const res = await get('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });
});

describe('input validation', () => {
  it.each([
    ['/api/rates?scope=galaxy', 'scope'],
    ['/api/rates?window=5 minutes', 'window'],
    ['/api/rates?limit=-3', 'limit'],
    ['/api/rates?unknown=1', ''],
    ['/api/series?scope=terminal', 'key'],
    ['/api/top?n=100000', 'n'],
    ['/api/alerts?status=burning', 'status'],
    ['/api/alerts?since=yesterday', 'since'],
    ['/api/alerts/bad%20id', 'alertId'],
  ])('GET %s → 400 naming %s', async (path, field) => {
    const res = await get(path, analyst);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error).toBe('bad_request');
    expect(Array.isArray(body.details)).toBe(true);
    expect(body.details[0].path).toBe(field);
  });

  it('bad bodies → 400 with details', async () => {
    let res = await post('/api/alerts/al-A/notes', { note: '' }, analyst);
    expect(res.statusCode).toBe(400);
    expect(res.json().details[0]).toMatchObject({ in: 'body', path: 'note' });
    res = await post('/api/alerts/al-A/assign', { who: 'x' }, analyst);
    expect(res.statusCode).toBe(400);
    res = await post('/api/silences', { matchers: {}, endsAt: 'soon', comment: '' }, analyst);
    expect(res.statusCode).toBe(400);
    expect(
      res
        .json()
        .details.map((d: { path: string }) => d.path)
        .sort(),
    ).toEqual(['comment', 'endsAt', 'matchers']);
    res = await gw.app.inject({
      method: 'POST',
      url: '/api/alerts/al-A/notes',
      headers: { ...analyst, 'content-type': 'application/json' },
      payload: '{"note":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad_request' });
  });

  it('unknown alert → 404', async () => {
    const res = await get('/api/alerts/no-such-alert', analyst);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'not_found', details: null });
  });
});

describe('REST flows', () => {
  it('rates, top, series, snapshot', async () => {
    const rates = (await get('/api/rates?scope=terminal&window=1m', analyst)).json();
    expect(rates.rows.map((r: { key: string }) => r.key).sort()).toEqual(['T-A1', 'T-B1']);
    const top = (await get('/api/top?scope=terminal&window=1m&n=1', analyst)).json();
    expect(top.rows[0].key).toBe('T-B1');
    const series = (await get('/api/series?scope=region&key=CN-31&window=1m', analyst)).json();
    expect(series.points).toHaveLength(1);
    const snap = (await get('/api/snapshot', mA)).json();
    expect(snap.rows.map((r: { key: string }) => r.key)).toEqual(['T-A1']);
    expect(snap.alerts.map((a: { alert: { alertId: string } }) => a.alert.alertId)).toEqual([
      'al-A',
    ]);
  });

  it('ack with a note, assign, note, resolve: the audit trail says who, when, what', async () => {
    expect(
      (await post('/api/alerts/al-A/ack', { note: 'looking', author: 'Li' }, analyst)).statusCode,
    ).toBe(200);
    expect(
      (await post('/api/alerts/al-A/assign', { assignee: 'field-team' }, analyst)).statusCode,
    ).toBe(200);
    expect(
      (await post('/api/alerts/al-A/notes', { note: 'router restarted' }, mA)).statusCode,
    ).toBe(200);
    const rec = (
      await post('/api/alerts/al-A/resolve', { verdict: 'true_incident', note: 'fixed' }, sre)
    ).json();
    expect(rec.workflow).toMatchObject({
      state: 'resolved',
      assignee: 'field-team',
      acknowledgedBy: 'ana',
    });
    const audit = (await get('/api/alerts/al-A/audit', analyst)).json().audit;
    expect(audit.map((e: { action: string }) => e.action)).toEqual([
      'fired',
      'acknowledge',
      'assign',
      'note',
      'resolve',
    ]);
    expect(audit[1]).toMatchObject({
      actor: 'ana',
      role: 'analyst',
      author: 'Li',
      note: 'looking',
      at: expect.any(String),
    });
    expect(audit[3]).toMatchObject({ role: 'merchant', note: 'router restarted' });
  });

  it('events of one terminal, merchant or region: staff see any, a merchant its own only', async () => {
    store.pushEvents([
      syntheticAuth({ terminalId: 'T-B1', merchantId: 'M-B', region: 'CN-31', responseCode: '05' }),
    ]);
    const events = async (q: string, who?: Record<string, string>) => {
      const r = await get(`/api/events?${q}`, who);
      return { status: r.statusCode, n: r.statusCode === 200 ? r.json().events.length : -1 };
    };
    expect(await events('scope=terminal&key=T-A1', analyst)).toEqual({ status: 200, n: 2 });
    expect(await events('scope=terminal&key=T-B1', sre)).toEqual({ status: 200, n: 1 });
    expect(await events('scope=region&key=CN-31', analyst)).toEqual({ status: 200, n: 3 });
    expect(await events('scope=terminal&key=T-A1', mA)).toEqual({ status: 200, n: 2 });
    // another merchant's terminal: nothing (its existence not revealed); its merchant or an
    // aggregate over merchants: refused
    expect(await events('scope=terminal&key=T-B1', mA)).toEqual({ status: 200, n: 0 });
    expect((await events('scope=merchant&key=M-B', mA)).status).toBe(403);
    expect((await events('scope=region&key=CN-31', mA)).status).toBe(403);
    expect((await events('scope=planet&key=x', analyst)).status).toBe(400);
  });

  it('drill-down returns the raw transactions and response codes', async () => {
    const d = (await get('/api/alerts/al-A/drilldown', analyst)).json();
    expect(d.matched).toBe(2);
    expect(d.responseCodes).toEqual(
      expect.arrayContaining([
        { code: '58', category: 'terminal', count: 1 },
        { code: '00', category: 'approved', count: 1 },
      ]),
    );
  });

  it('silences CRUD notifies onSilencesChanged', async () => {
    const seen: number[] = [];
    const off = store.onSilencesChanged((s) => seen.push(s.length));
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await post(
      '/api/silences',
      { matchers: { region: 'CN-31' }, endsAt, comment: 'maintenance' },
      sre,
    );
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    expect((await get(`/api/silences?active=true`, analyst)).json().silences).toHaveLength(1);
    const put = await gw.app.inject({
      method: 'PUT',
      url: `/api/silences/${id}`,
      headers: { ...analyst, 'content-type': 'application/json' },
      payload: JSON.stringify({ matchers: { region: 'CN-44' }, endsAt, comment: 'moved' }),
    });
    expect(put.json().matchers).toEqual({ region: 'CN-44' });
    expect(
      (await gw.app.inject({ method: 'DELETE', url: `/api/silences/${id}`, headers: admin }))
        .statusCode,
    ).toBe(204);
    expect((await get(`/api/silences/${id}`, analyst)).statusCode).toBe(404);
    off();
    expect(seen).toEqual([1, 1, 0]);
  });

  it('a silence with a daily window: kept, in force only inside it, dropped by a PUT without it', async () => {
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const now = Date.now();
    const endsAt = new Date(now + 86_400_000).toISOString();
    const make = async (start: number, end: number) => {
      const res = await post(
        '/api/silences',
        {
          matchers: { region: 'CN-99' },
          endsAt,
          recurring: { start: hhmm(start), end: hhmm(end), utcOffset: '+00:00' },
          comment: 'nightly batch',
        },
        sre,
      );
      expect(res.statusCode).toBe(201);
      return res.json() as { id: string; recurring: unknown };
    };
    // (either may wrap past midnight: the window still holds, or misses, now)
    const open = await make(now - 3_600_000, now + 3_600_000);
    const later = await make(now + 2 * 3_600_000, now + 3 * 3_600_000);
    expect(later.recurring).toEqual({
      start: hhmm(now + 2 * 3_600_000),
      end: hhmm(now + 3 * 3_600_000),
      utcOffset: '+00:00',
    });
    const active = (await get('/api/silences?active=true', analyst)).json().silences as {
      id: string;
    }[];
    expect(active.map((s) => s.id)).toContain(open.id);
    expect(active.map((s) => s.id)).not.toContain(later.id);
    // a PUT replaces it whole: without its window it is in force all day
    const put = await gw.app.inject({
      method: 'PUT',
      url: `/api/silences/${later.id}`,
      headers: { ...analyst, 'content-type': 'application/json' },
      payload: JSON.stringify({ matchers: { region: 'CN-99' }, endsAt, comment: 'all day now' }),
    });
    expect(put.json().recurring).toBeUndefined();
    expect(
      ((await get('/api/silences?active=true', analyst)).json().silences as { id: string }[]).map(
        (s) => s.id,
      ),
    ).toContain(later.id);
    // a malformed window is a 400 that names the field
    const bad = await post(
      '/api/silences',
      {
        matchers: { region: 'CN-99' },
        endsAt,
        recurring: { start: '25:00', end: '02:00' },
        comment: 'x',
      },
      sre,
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('recurring');
    for (const id of [open.id, later.id]) {
      await gw.app.inject({ method: 'DELETE', url: `/api/silences/${id}`, headers: admin });
    }
  });

  it('serves OpenAPI at /docs', async () => {
    const doc = (await get('/docs/json')).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/rates', '/api/alerts/{alertId}/drilldown']),
    );
    expect(doc.paths['/api/alerts'].get.parameters.map((p: { name: string }) => p.name)).toContain(
      'severity',
    );
  });
});

describe('socket.io', () => {
  const open: Socket[] = [];
  afterAll(() => open.forEach((s) => s.close()));
  function client(key: string | undefined): Socket {
    const s = connect(url, {
      auth: key ? { token: key } : {},
      transports: ['websocket'],
      reconnection: false,
    });
    open.push(s);
    return s;
  }
  const connected = (s: Socket) =>
    new Promise<void>((resolve, reject) => {
      s.on('connect', () => resolve());
      s.on('connect_error', reject);
    });

  it('refuses a handshake without a valid key', async () => {
    await expect(connected(client(undefined))).rejects.toThrow(/unauthorized/);
    await expect(connected(client('wrong-key-0000000000000'))).rejects.toThrow(/unauthorized/);
  });

  it('broadcasts rates and alerts per room with growing seq', async () => {
    const a = client(keys[0]!.key);
    const m = client(keys[3]!.key);
    await Promise.all([connected(a), connected(m)]);
    const aRates: RatesMessage[] = [];
    const mRates: RatesMessage[] = [];
    const mAlerts: AlertMessage[] = [];
    const aAudit: AuditMessage[] = [];
    const wire: [string, unknown][] = [];
    for (const s of [a, m]) s.onAny((event: string, msg: unknown) => wire.push([event, msg]));
    a.on('rates', (x: RatesMessage) => aRates.push(x));
    a.on('audit', (x: AuditMessage) => aAudit.push(x));
    m.on('rates', (x: RatesMessage) => mRates.push(x));
    m.on('alert', (x: AlertMessage) => mAlerts.push(x));
    for (let i = 0; i < 3; i++) {
      store.pushRates([
        syntheticRow({
          scope: 'terminal',
          key: 'T-A1',
          merchantId: 'M-A',
          region: 'CN-31',
          auths: 10 + i,
        }),
        syntheticRow({ scope: 'terminal', key: 'T-B1', merchantId: 'M-B', region: 'CN-31' }),
      ]);
    }
    store.pushAlert(syntheticAlert({ alertId: 'al-A2', key: 'T-A1', merchantId: 'M-A' }));
    store.pushAlert(syntheticAlert({ alertId: 'al-B2', key: 'T-B1', merchantId: 'M-B' }));
    await post('/api/alerts/al-A2/ack', { note: 'on it' }, analyst);
    await expect
      .poll(() => aRates.length + aAudit.length + mRates.length + mAlerts.length)
      .toBe(3 + 1 + 3 + 1);
    expect(aRates.map((x) => x.rows.length)).toEqual([2, 2, 2]);
    expect(mRates.flatMap((x) => x.rows.map((r) => r.key))).toEqual(['T-A1', 'T-A1', 'T-A1']);
    expect(mRates.map((x) => x.room)).toEqual(['merchant:M-A', 'merchant:M-A', 'merchant:M-A']);
    const seqs = mRates.map((x) => x.seq);
    expect(seqs[1]! - seqs[0]!).toBe(1);
    expect(mAlerts.map((x) => x.alert.alertId)).toEqual(['al-A2']);
    expect(mAlerts[0]!.seq).toBe(seqs[2]! + 1);
    expect(aAudit[0]).toMatchObject({
      alertId: 'al-A2',
      entry: { action: 'acknowledge', note: 'on it' },
    });
    // what the dashboard reads is the contract (packages/contracts/src/socket.ts), exactly:
    // zod drops keys it does not know, so a field outside the contract would show as a diff
    expect(new Set(wire.map(([event]) => event))).toEqual(new Set(['rates', 'alert', 'audit']));
    for (const [event, msg] of wire) {
      const schema = serverMessageSchemas[event as ServerEvent];
      expect(schema, event).toBeDefined();
      expect(schema.parse(msg), event).toEqual(msg);
    }
  });

  it('region rooms: staff may subscribe, merchants may not', async () => {
    const s = client(keys[1]!.key);
    const m = client(keys[3]!.key);
    await Promise.all([connected(s), connected(m)]);
    expect(await s.emitWithAck('subscribe', { region: 'CN-44' })).toEqual({
      ok: true,
      room: 'region:CN-44',
    });
    expect(await m.emitWithAck('subscribe', { region: 'CN-31' })).toMatchObject({ ok: false });
    expect(await s.emitWithAck('subscribe', { region: '../x y' })).toMatchObject({ ok: false });
    const got: RatesMessage[] = [];
    s.on('rates', (x: RatesMessage) => got.push(x));
    store.pushRates([syntheticRow({ scope: 'region', key: 'CN-44' })]);
    await expect.poll(() => got.map((x) => x.room).sort()).toEqual(['region:CN-44', 'sre']);
  });
});
