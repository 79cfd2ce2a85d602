import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyEntry } from './auth';
import { defaultGatewayConfig } from './config';
import { syntheticAlert } from './fixtures';
import { createGateway, type Gateway } from './gateway';
import { MemoryStore } from './memory-store';

/** /api/keys: admins make, list and revoke API keys at run time; a new key works at once. */
const keys: ApiKeyEntry[] = [
  { key: 'admin-key-keys-000000001', role: 'admin', name: 'adm' },
  { key: 'analyst-key-keys-0000001', role: 'analyst', name: 'ana' },
];
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
const admin = bearer(keys[0]!.key);

let gw: Gateway;
let store: MemoryStore;
let url: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  store = new MemoryStore();
  store.pushAlert(syntheticAlert({ alertId: 'al-M-A', merchantId: 'M-A', key: 'T-A1' }));
  store.pushAlert(syntheticAlert({ alertId: 'al-M-B', merchantId: 'M-B', key: 'T-B1' }));
  gw = await createGateway({
    config: defaultGatewayConfig({ apiKeys: keys, webDist: '/nonexistent' }),
    store,
  });
  url = await gw.listen();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await gw?.close();
});

const call = (method: 'GET' | 'POST' | 'DELETE', path: string, headers: object, body?: unknown) =>
  gw.app.inject({
    method,
    url: path,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });

describe('API keys made by admins', () => {
  it('a merchant key works at once, scoped to its merchant, and is never shown again', async () => {
    const made = await call('POST', '/api/keys', admin, {
      role: 'merchant',
      merchantId: 'M-A',
      name: 'shop A till app',
    });
    expect(made.statusCode).toBe(201);
    const { key, id, fingerprint } = made.json() as {
      key: string;
      id: string;
      fingerprint: string;
    };
    expect(key).toMatch(/^tw_[A-Za-z0-9_-]{43}$/);
    const me = await call('GET', '/api/me', bearer(key));
    expect(me.json()).toMatchObject({ role: 'merchant', merchantId: 'M-A', id: 'shop A till app' });
    const alerts = (await call('GET', '/api/alerts', bearer(key))).json().alerts as {
      alert: { alertId: string };
    }[];
    expect(alerts.map((a) => a.alert.alertId)).toEqual(['al-M-A']);
    const list = (await call('GET', '/api/keys', admin)).json();
    expect(list.configured.map((k: { name: string }) => k.name)).toEqual(['adm', 'ana']);
    const mine = list.managed.find((k: { id: string }) => k.id === id);
    expect(mine).toMatchObject({
      role: 'merchant',
      merchantId: 'M-A',
      fingerprint,
      createdBy: 'adm',
    });
    // no key material in the list, configured or made
    const text = JSON.stringify(list);
    expect(text).not.toContain(key);
    for (const k of keys) expect(text).not.toContain(k.key);
  });

  it('a revoked key is refused from the next request, and its open socket is closed', async () => {
    const made = (
      await call('POST', '/api/keys', admin, { role: 'analyst', name: 'night shift' })
    ).json() as { key: string; id: string };
    expect((await call('GET', '/api/me', bearer(made.key))).statusCode).toBe(200);
    const s = connect(url, { auth: { token: made.key }, transports: ['websocket'] });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', reject);
    });
    const closed = new Promise<string>((resolve) => s.once('disconnect', resolve));
    const revoked = await call('DELETE', `/api/keys/${made.id}`, admin);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ revokedBy: 'adm' });
    expect((await call('GET', '/api/me', bearer(made.key))).statusCode).toBe(401);
    expect(await closed).toBe('io server disconnect');
  });

  it('is for admins only; bad input is a 400 naming the field; an unknown id a 404', async () => {
    const analyst = bearer(keys[1]!.key);
    expect((await call('GET', '/api/keys', analyst)).statusCode).toBe(403);
    expect(
      (await call('POST', '/api/keys', analyst, { role: 'admin', name: 'me' })).statusCode,
    ).toBe(403);
    const noMerchant = await call('POST', '/api/keys', admin, { role: 'merchant', name: 'x' });
    expect(noMerchant.statusCode).toBe(400);
    expect(noMerchant.body).toContain('merchantId');
    const unknown = await call('DELETE', '/api/keys/00000000-0000-4000-8000-000000000000', admin);
    expect(unknown.statusCode).toBe(404);
  });
});
