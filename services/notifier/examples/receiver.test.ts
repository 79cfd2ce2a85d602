import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MemoryWebhookStore, generateSecret, signHeaders } from '@tillwatch/webhooks';
import { createNotifier } from '../src/notifier';
import { createReceiver } from './receiver';

describe('the README receiver example', () => {
  const secret = generateSecret();
  const got: { alert: Record<string, unknown>; id: string }[] = [];
  const server = createReceiver(secret, (alert, id) => got.push({ alert, id }));
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('accepts the notifier’s webhooks once each and refuses forgeries', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tillwatch`;
    const store = new MemoryWebhookStore();
    const at = new Date().toISOString();
    await store.putSubscription({
      id: 'sub_readme',
      merchantId: 'M-1',
      url,
      rules: [],
      severities: [],
      language: 'en',
      secrets: [{ secret, createdAt: at }],
      enabled: true,
      createdAt: at,
      updatedAt: at,
    });
    const n = createNotifier({
      store,
      config: { guard: { allowHttp: true, allowAddresses: ['127.0.0.1'] }, pollMs: 20 },
    });
    n.start();
    const alert = {
      alertId: 'al-readme',
      rule: 'terminal_network_errors',
      severity: 'warning',
      status: 'firing',
      scope: 'terminal',
      key: 'T-7',
      merchantId: 'M-1',
      window: '5m',
      metric: 'timeout_rate',
      value: 0.3,
      threshold: 0.1,
      baseline: 0.01,
      evidence: {},
      probableCauses: ['router or SIM problem'],
      actions: ['check the terminal network'],
      firstSeen: at,
      lastSeen: at,
      ts: at,
    };
    await n.ingest(alert);
    await vi.waitFor(() => expect(n.stats().delivered).toBe(1), { timeout: 5000 });
    await n.stop();
    expect(got).toHaveLength(1);
    expect(got[0]!.alert).toMatchObject({
      alertId: 'al-readme',
      actions: ['check the terminal network'],
    });

    // a forgery (wrong secret) and a replay of the same webhook-id
    const body = JSON.stringify(alert);
    const forged = signHeaders('msg_forged', new Date(), body, [generateSecret()]);
    const r1 = await fetch(url, { method: 'POST', headers: { ...forged }, body });
    expect(r1.status).toBe(401);
    const again = signHeaders(got[0]!.id, new Date(), body, [secret]);
    const r2 = await fetch(url, { method: 'POST', headers: { ...again }, body });
    expect(r2.status).toBe(204);
    expect(got).toHaveLength(1);
  });
});
