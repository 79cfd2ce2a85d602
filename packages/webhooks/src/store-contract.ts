import { expect } from 'vitest';
import type { WebhookStore } from './store';
import type { NewDelivery, Subscription } from './types';

/** What every WebhookStore must do; run against memory, journal and ClickHouse stores. */
export const BASE = Date.now();

export const sub: Subscription = {
  id: 'sub_1',
  merchantId: 'M-1',
  url: 'https://hooks.example.com/',
  rules: [],
  severities: [],
  language: 'zh',
  secrets: [{ secret: 'whsec_x', createdAt: '2026-01-01T00:00:00.000Z' }],
  enabled: true,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};
export const nd = (id: string, alertId: string, createdAt = BASE): NewDelivery => ({
  id,
  webhookId: `msg_${id}`,
  subscriptionId: 'sub_1',
  merchantId: 'M-1',
  kind: 'alert',
  alertId,
  body: `{"id":"${id}"}`,
  createdAt,
});

export async function behaves(store: WebhookStore) {
  await store.putSubscription(sub);
  const added = await store.enqueue([nd('d1', 'A'), nd('d2', 'A'), nd('d3', 'B'), nd('d1', 'A')]);
  expect(added.map((d) => d.id)).toEqual(['d1', 'd2', 'd3']);
  expect(await store.enqueue([nd('d2', 'A')])).toEqual([]);
  // d2 (resolved of A) waits behind d1 (firing of A); B is independent
  expect((await store.due(BASE, 10)).map((d) => d.id)).toEqual(['d1', 'd3']);
  // one per subscription when asked (the notifier's fairness): d3 is the same subscription's
  expect((await store.due(BASE, 10, { perSubscription: 1 })).map((d) => d.id)).toEqual(['d1']);
  const d1 = (await store.getDelivery('d1'))!;
  await store.recordAttempt(
    {
      deliveryId: 'd1',
      webhookId: d1.webhookId,
      subscriptionId: 'sub_1',
      merchantId: 'M-1',
      attempt: 1,
      scheduledAt: BASE,
      startedAt: BASE + 1,
      latencyMs: 3,
      statusCode: 200,
      outcome: 'delivered',
    },
    { ...d1, status: 'delivered', attempts: 1, totalAttempts: 1, nextAttemptAt: undefined },
  );
  expect((await store.due(BASE, 10)).map((d) => d.id)).toEqual(['d2', 'd3']);
  expect(await store.listAttempts('d1')).toHaveLength(1);
  expect((await store.listDeliveries({ status: 'pending' })).map((d) => d.id)).toEqual([
    'd2',
    'd3',
  ]);
  expect(await store.nextDueAt()).toBe(BASE);
  expect((await store.listDeliveries({ since: BASE + 1 })).length).toBe(0);
  expect((await store.listDeliveries({ merchantId: 'M-2' })).length).toBe(0);
  expect((await store.listDeliveries({ limit: 1 })).map((d) => d.id)).toEqual(['d3']);
  const d3 = (await store.getDelivery('d3'))!;
  await store.updateDeliveries([{ ...d3, status: 'cancelled', nextAttemptAt: undefined }]);
  expect((await store.listDeliveries({ status: 'cancelled' })).map((d) => d.id)).toEqual(['d3']);
  expect((await store.due(BASE, 10)).map((d) => d.id)).toEqual(['d2']);

  const other = { ...sub, id: 'sub_2', merchantId: 'M-2', createdAt: '2026-01-02T00:00:00.000Z' };
  await store.putSubscription(other);
  await store.putSubscription({ ...sub, language: 'en' });
  expect((await store.listSubscriptions()).map((s) => s.id)).toEqual(['sub_1', 'sub_2']);
  expect((await store.listSubscriptions({ merchantId: 'M-2' })).map((s) => s.id)).toEqual([
    'sub_2',
  ]);
  expect((await store.getSubscription('sub_1'))?.language).toBe('en');
  expect(await store.deleteSubscription('sub_2')).toBe(true);
  expect(await store.deleteSubscription('sub_2')).toBe(false);
  expect(await store.getSubscription('sub_2')).toBeUndefined();
  await store.putSubscription({ ...sub, language: 'zh' });
}
