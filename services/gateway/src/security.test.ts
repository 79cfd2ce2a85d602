import { RULE_IDS } from '@tillwatch/contracts';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyEntry } from './auth';
import { defaultGatewayConfig } from './config';
import { syntheticAlert, syntheticAuth, syntheticRow } from './fixtures';
import { createGateway, type Gateway } from './gateway';
import { MemoryStore } from './memory-store';

/**
 * Merchant A's key against merchant B's ids on every REST route and socket path. A leak is a
 * 2xx body that mentions anything of B's (merchant, terminal, alert, txn, B's region
 * aggregates), a socket message to A that does, or a write that changed B's alert.
 * A positive control runs the same reads with B's own key, so the markers are known to show.
 */
const A: ApiKeyEntry = { key: 'merchant-a-key-sec-000001', role: 'merchant', merchantId: 'M-A' };
const B: ApiKeyEntry = { key: 'merchant-b-key-sec-000001', role: 'merchant', merchantId: 'M-B' };
const STAFF: ApiKeyEntry = { key: 'analyst-key-sec-00000001', role: 'analyst' };
const B_MARKERS = ['M-B', 'T-B1', 'T-B2', 'al-B-', 'txB-', 'CN-31'];
const B_ALERTS = ['al-B-term', 'al-B-merch', 'al-B-region'];

let gw: Gateway;
let store: MemoryStore;
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
  gw = await createGateway({
    config: defaultGatewayConfig({
      apiKeys: [A, B, STAFF],
      webDist: '/nonexistent',
      rateLimit: { max: 100_000, timeWindowMs: 60_000 },
    }),
    store,
  });
  url = await gw.listen();
  seed();
});
afterAll(async () => {
  await gw.close();
});

const leaky = (body: string) => B_MARKERS.filter((m) => body.includes(m));

/** Every request merchant A can aim at B: each route × each of B's ids × each filter. */
function attacks(): { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; body?: unknown }[] {
  const out: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; body?: unknown }[] = [];
  const scopes = ['', 'terminal', 'merchant', 'region', 'firmware', 'issuer', 'fleet'];
  const q = (o: Record<string, string | undefined>) =>
    new URLSearchParams(Object.entries(o).filter((e): e is [string, string] => !!e[1])).toString();
  for (const scope of scopes) {
    for (const window of ['', '1m', '5m']) {
      for (const extra of [
        {},
        { merchantId: 'M-B' },
        { key: 'T-B1' },
        { key: 'M-B' },
        { region: 'CN-31' },
        { key: 'CN-31' },
      ]) {
        out.push({ method: 'GET', url: `/api/rates?${q({ scope, window, ...extra })}` });
      }
      for (const extra of [{}, { merchantId: 'M-B' }, { region: 'CN-31' }, { minAuths: '0' }]) {
        out.push({ method: 'GET', url: `/api/top?${q({ scope, window, ...extra })}` });
      }
      for (const key of ['T-B1', 'T-B2', 'M-B', 'CN-31', 'fw-1', '*']) {
        if (scope) out.push({ method: 'GET', url: `/api/series?${q({ scope, key, window })}` });
      }
    }
  }
  for (const w of ['1m', '5m', '15m'])
    out.push({ method: 'GET', url: `/api/snapshot?window=${w}` });
  out.push({ method: 'GET', url: '/api/me' });
  const alertFilters = [
    {},
    { merchantId: 'M-B' },
    { key: 'T-B1' },
    { key: 'M-B' },
    { region: 'CN-31' },
    { scope: 'region' },
    { scope: 'merchant' },
    { status: 'firing' },
    { since: '0' },
    ...RULE_IDS.map((rule) => ({ rule })),
  ];
  for (const f of alertFilters) out.push({ method: 'GET', url: `/api/alerts?${q(f)}` });
  for (const id of B_ALERTS) {
    out.push({ method: 'GET', url: `/api/alerts/${id}` });
    out.push({ method: 'GET', url: `/api/alerts/${id}/audit` });
    for (const dq of ['', '?evidenceOnly=true', '?since=0', '?limit=1000']) {
      out.push({ method: 'GET', url: `/api/alerts/${id}/drilldown${dq}` });
    }
    out.push({ method: 'POST', url: `/api/alerts/${id}/ack`, body: { note: 'x' } });
    out.push({ method: 'POST', url: `/api/alerts/${id}/assign`, body: { assignee: 'x' } });
    out.push({ method: 'POST', url: `/api/alerts/${id}/notes`, body: { note: 'planted by A' } });
    out.push({ method: 'POST', url: `/api/alerts/${id}/resolve`, body: {} });
  }
  out.push({ method: 'GET', url: '/api/silences' });
  out.push({
    method: 'POST',
    url: '/api/silences',
    body: { matchers: { merchantId: 'M-B' }, endsAt: '2099-01-01T00:00:00Z', comment: 'x' },
  });
  out.push({ method: 'GET', url: '/metrics' });
  return out;
}

describe('merchant isolation', () => {
  it('merchant A never reads or changes merchant B’s data by any REST route', async () => {
    const auditBefore = await Promise.all(
      B_ALERTS.map(async (id) => (await store.getAlert(id))!.audit.length),
    );
    let attempts = 0;
    const leaks: string[] = [];
    const statuses = new Map<number, number>();
    for (const a of attacks()) {
      attempts++;
      const res = await gw.app.inject({
        method: a.method,
        url: a.url,
        headers: {
          authorization: `Bearer ${A.key}`,
          ...(a.body ? { 'content-type': 'application/json' } : {}),
        },
        ...(a.body ? { payload: JSON.stringify(a.body) } : {}),
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const found = res.statusCode < 300 ? leaky(res.body) : [];
      if (found.length)
        leaks.push(`${a.method} ${a.url} → ${res.statusCode} shows ${found.join(',')}`);
    }
    const auditAfter = await Promise.all(
      B_ALERTS.map(async (id) => (await store.getAlert(id))!.audit.length),
    );
    B_ALERTS.forEach((id, i) => {
      if (auditAfter[i] !== auditBefore[i]) leaks.push(`write reached ${id}`);
    });

    // positive control: B's own key does see B's data through the same kind of reads
    let controls = 0;
    for (const path of [
      '/api/rates?scope=terminal',
      '/api/alerts',
      '/api/alerts/al-B-term',
      '/api/alerts/al-B-term/drilldown',
      '/api/snapshot',
    ]) {
      const res = await gw.app.inject({
        method: 'GET',
        url: path,
        headers: { authorization: `Bearer ${B.key}` },
      });
      if (res.statusCode === 200 && leaky(res.body).length > 0) controls++;
    }
    console.log(
      `security/REST: merchant A → B attempts=${attempts} leaks=${leaks.length} statuses=${JSON.stringify(Object.fromEntries(statuses))} positive-controls=${controls}/5`,
    );
    expect(leaks).toEqual([]);
    expect(attempts).toBeGreaterThan(300);
    expect(controls).toBe(5);
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
