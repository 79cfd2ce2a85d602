import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiKeyEntry } from './auth';
import { defaultGatewayConfig, type GatewayConfig } from './config';
import { syntheticAlert } from './fixtures';
import { createGateway, type Gateway } from './gateway';
import { MemoryStore } from './memory-store';
import type { AlertMessage } from './socket';

/**
 * Issue 16 "Hardening", sessions bound to who they are: one test per finding of the outside
 * review, each over real HTTP / real socket.io clients on loopback. The gateway trusts
 * X-Forwarded-For from loopback here, so one test process can speak as many client addresses.
 */

const ANALYST: ApiKeyEntry = { key: 'analyst-key-000000000001', role: 'analyst', name: 'ana' };
const SRE: ApiKeyEntry = { key: 'sre-key-0000000000000001', role: 'sre' };
const MERCHANT: ApiKeyEntry = {
  key: 'merchant-a-key-000000001',
  role: 'merchant',
  merchantId: 'M-A',
};

const running: Gateway[] = [];
const sockets: Socket[] = [];
const dirs: string[] = [];
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.close());
  for (const gw of running.splice(0)) await gw.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(over: Partial<GatewayConfig> = {}) {
  const store = new MemoryStore();
  const gw = await createGateway({
    config: defaultGatewayConfig({
      apiKeys: [ANALYST, SRE, MERCHANT],
      webDist: '/nonexistent',
      ratesBatchMs: 0,
      trustProxy: ['loopback'],
      ...over,
    }),
    store,
  });
  running.push(gw);
  const url = await gw.listen();
  return { gw, store, url };
}

function client(url: string, auth: Record<string, unknown>, from?: string): Socket {
  const s = connect(url, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    ...(from ? { extraHeaders: { 'x-forwarded-for': from } } : {}),
  });
  sockets.push(s);
  return s;
}

/** Resolves on connect; rejects with the refusal (message + data) on connect_error. */
const connected = (s: Socket) =>
  new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });

const refusal = async (s: Socket) => {
  const err = await connected(s).then(
    () => undefined,
    (e: Error & { data?: { status?: number; error?: string } }) => e,
  );
  return err && { ...err.data, message: err.message };
};

/** An alert for staff only (region scope: analysts, sre and the region's room, no merchant). */
const staffAlert = (alertId: string) =>
  syntheticAlert({
    alertId,
    rule: 'regional_outage',
    scope: 'region',
    key: 'CN-31',
    region: 'CN-31',
    merchantId: undefined,
  });

/**
 * An analyst whose transport drops after one alert, then misses three: returns the session id
 * and offset a recovering client would present.
 */
async function analystMissedThree(gw: Gateway, store: MemoryStore, url: string) {
  const ana = client(url, { token: ANALYST.key });
  await connected(ana);
  const got: AlertMessage[] = [];
  ana.on('alert', (m: AlertMessage) => got.push(m));
  store.pushAlert(staffAlert('al-seen'));
  await expect.poll(() => got.length).toBe(1);
  // what the client keeps to ask for recovery (socket.io-client's private fields)
  const { _pid: pid, _lastOffset: offset } = ana as unknown as {
    _pid: unknown;
    _lastOffset: unknown;
  };
  expect(typeof pid).toBe('string');
  expect(typeof offset).toBe('string');
  ana.io.engine.close(); // a transport drop: the server keeps the session for recovery
  await expect.poll(() => gw.io.of('/').sockets.size).toBe(0);
  for (let i = 0; i < 3; i++) store.pushAlert(staffAlert(`al-missed-${i}`));
  return { ana, got, pid: pid as string, offset: offset as string };
}

/** Raw engine.io frames of one handshake, up to the CONNECT / CONNECT_ERROR reply. */
function rawHandshake(url: string, auth: Record<string, unknown>): Promise<string[]> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const frames: string[] = [];
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (raw) => {
      const f = raw.toString();
      if (f.startsWith('0')) return ws.send(`40${JSON.stringify(auth)}`); // engine open → connect
      if (f === '2') return ws.send('3'); // ping → pong
      frames.push(f);
      if (f.startsWith('40') || f.startsWith('44')) {
        ws.close();
        resolve(frames);
      }
    });
  });
}

async function get(url: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

function expectRateLimited(r: { status: number; headers: Headers; text: string }) {
  expect(r.status).toBe(429);
  expect(JSON.parse(r.text)).toEqual({
    error: 'rate_limited',
    message: expect.any(String),
    details: null,
  });
  expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
}

describe('sessions bound to who they are', () => {
  it('session recovery restores a session only to the same principal', async () => {
    const { gw, store, url } = await start();
    const { ana, got, pid, offset } = await analystMissedThree(gw, store, url);
    const server: { id: string; recovered: boolean; rooms: string[]; role: string }[] = [];
    gw.io.on('connection', (s) =>
      server.push({
        id: s.id,
        recovered: s.recovered,
        rooms: [...s.rooms],
        role: s.data.principal.role,
      }),
    );

    // a merchant key presenting the analyst's session id and offset
    const thief = client(url, { token: MERCHANT.key, pid, offset });
    const thiefGot: string[] = [];
    thief.onAny((event: string, msg: unknown) => thiefGot.push(`${event} ${JSON.stringify(msg)}`));
    await connected(thief);
    store.pushAlert(syntheticAlert({ alertId: 'al-mine', key: 'T-A1', merchantId: 'M-A' }));
    await expect.poll(() => thiefGot.some((m) => m.includes('al-mine'))).toBe(true);
    expect(server).toHaveLength(1);
    expect(server[0]).toMatchObject({ recovered: false, role: 'merchant' });
    expect(server[0]!.rooms).not.toContain('analysts');
    expect(thiefGot.filter((m) => /al-missed|al-seen|"room":"analysts"/.test(m))).toEqual([]);

    // positive control: the analyst's own key gets its session and the three it missed
    ana.connect();
    await connected(ana);
    await expect.poll(() => got.map((m) => m.alert.alertId)).toContain('al-missed-2');
    expect(server[1]).toMatchObject({ recovered: true, role: 'analyst' });
    expect(got.map((m) => m.alert.alertId).slice(0, 4)).toEqual([
      'al-seen',
      'al-missed-0',
      'al-missed-1',
      'al-missed-2',
    ]);
  });

  it('auth runs before any packet is sent', async () => {
    const { gw, store, url } = await start();
    const { pid, offset } = await analystMissedThree(gw, store, url);
    for (const token of ['bogus-token-000000000000', undefined, MERCHANT.key.slice(0, -1)]) {
      const frames = await rawHandshake(url, { ...(token ? { token } : {}), pid, offset });
      expect(
        frames.filter((f) => f.startsWith('42')),
        String(token),
      ).toEqual([]);
      expect(frames).toHaveLength(1);
      expect(frames[0]).toMatch(/^44.*unauthorized/);
    }
  });
});

describe('failed authentication is rate-limited', () => {
  const limits = { authFailures: { max: 5, windowMs: 60_000 } } as Partial<GatewayConfig>;

  it('failed authentication is rate-limited per client, REST and socket handshakes alike', async () => {
    const { url } = await start(limits);
    const from = (ip: string, token?: string) => ({
      'x-forwarded-for': ip,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await get(url, '/api/me', from('203.0.113.7', `bogus-${i}-key-0000000000000`));
      statuses.push(r.status);
      if (r.status === 429) expectRateLimited(r);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    // while over, the client's keys are not even looked at: the right one is refused too
    expectRateLimited(await get(url, '/api/me', from('203.0.113.7', ANALYST.key)));
    expect(await refusal(client(url, { token: ANALYST.key }, '203.0.113.7'))).toMatchObject({
      message: 'rate_limited',
      status: 429,
      error: 'rate_limited',
    });
    // another client is unaffected
    expect((await get(url, '/api/me', from('198.51.100.9', ANALYST.key))).status).toBe(200);
    expect(
      (await get(url, '/api/me', from('198.51.100.9', 'bogus-x-key-0000000000000'))).status,
    ).toBe(401);

    // socket handshakes count the same, and share the count with REST
    const seen: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await refusal(client(url, { token: `sock-${i}-key-00000000000000` }, '192.0.2.5'));
      seen.push(r?.message);
    }
    expect(seen).toEqual([...Array(5).fill('unauthorized'), 'rate_limited']);
    expectRateLimited(await get(url, '/api/me', from('192.0.2.5', ANALYST.key)));
    // no credential at all is a failed authentication too
    for (let i = 0; i < 5; i++)
      expect((await get(url, '/api/rates', from('192.0.2.99'))).status).toBe(401);
    expectRateLimited(await get(url, '/api/rates', from('192.0.2.99')));
  });

  it('failed authentication is rate-limited per key prefix', async () => {
    const { url } = await start(limits);
    // one guessed prefix from many addresses (a botnet): each address fails once
    const prefix = 'tw_analyst_AbCdE';
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await get(url, '/api/me', {
        'x-forwarded-for': `203.0.113.${10 + i}`,
        authorization: `Bearer ${prefix}${'x'.repeat(20)}${i}`,
      });
      statuses.push(r.status);
      if (r.status === 429) expectRateLimited(r);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(
      await refusal(client(url, { token: `${prefix}-socket-guess-000` }, '203.0.113.99')),
    ).toMatchObject({ message: 'rate_limited', status: 429 });
    // another prefix, from a fresh address: judged as usual; real keys are not touched
    expect(
      (
        await get(url, '/api/me', {
          'x-forwarded-for': '203.0.113.100',
          authorization: 'Bearer tw_analyst_ZyXwV-other-guess-0',
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await get(url, '/api/me', {
          'x-forwarded-for': '203.0.113.101',
          authorization: `Bearer ${ANALYST.key}`,
        })
      ).status,
    ).toBe(200);
  });
});

describe('sockets and static files', () => {
  it('sockets per key are capped', async () => {
    const { gw, url } = await start({ socketsPerKey: 3 } as Partial<GatewayConfig>);
    const mine = [0, 1, 2].map(() => client(url, { token: ANALYST.key }));
    await Promise.all(mine.map(connected));
    expect(await refusal(client(url, { token: ANALYST.key }))).toMatchObject({
      message: 'rate_limited',
      status: 429,
      error: 'rate_limited',
    });
    // another key has its own allowance
    await connected(client(url, { token: SRE.key }));
    // a closed socket frees its place
    mine[0]!.close();
    await expect.poll(() => gw.io.of('/').sockets.size).toBe(3);
    await connected(client(url, { token: ANALYST.key }));
    expect(gw.io.of('/').sockets.size).toBe(4);
  });

  it('static assets are not rate-limited like the API', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'tw-web-'));
    dirs.push(dist);
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Tillwatch</title>');
    writeFileSync(join(dist, 'assets', 'app-1234.js'), 'console.log(1)');
    const { url } = await start({ webDist: dist, rateLimit: { max: 5, timeWindowMs: 60_000 } });
    const statuses = new Set<number>();
    for (let i = 0; i < 12; i++) {
      statuses.add((await get(url, '/')).status);
      statuses.add((await get(url, '/assets/app-1234.js')).status);
      statuses.add((await get(url, '/healthz')).status);
    }
    expect([...statuses]).toEqual([200]);
    // the API keeps its per-key limit, answered in the one error shape
    const api: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await get(url, '/api/me', { authorization: `Bearer ${ANALYST.key}` });
      api.push(r.status);
      if (r.status === 429) expectRateLimited(r);
    }
    expect(api).toEqual([200, 200, 200, 200, 200, 429]);
    // and the board is still served to everyone on that address
    expect((await get(url, '/')).status).toBe(200);
  });
});
