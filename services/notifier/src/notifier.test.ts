import type { ServerResponse } from 'node:http';
import type { LookupFunction } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import type { Alert } from '@tillwatch/contracts';
import {
  MemoryWebhookStore,
  generateSecret,
  type AlertWithI18n,
  type Subscription,
} from '@tillwatch/webhooks';
import { createNotifier, type Notifier, type NotifierConfig } from './notifier';
import { startReceiver, type Receiver } from './test-receiver';

/** Tests reach 127.0.0.1 only through the guard's explicit development setting. */
const DEV: NotifierConfig = {
  guard: { allowHttp: true, allowAddresses: ['127.0.0.1'] },
  retrySchedule: [0, 20, 40, 80, 160, 200, 200, 200, 200, 200],
  jitter: 0,
  pollMs: 20,
  // These tests count retries: an open breaker's trial comes at once (its own tests below).
  breakerCooldownMs: 0,
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
async function receiver(...a: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...a);
  cleanup.push(r.close);
  return r;
}
function notifier(store: MemoryWebhookStore, config: NotifierConfig = DEV): Notifier {
  const n = createNotifier({ store, config });
  n.start();
  cleanup.push(() => n.stop());
  return n;
}

let subSeq = 0;
function subscription(over: Partial<Subscription> & { url: string }): Subscription {
  const at = new Date().toISOString();
  return {
    id: `sub_${++subSeq}`,
    merchantId: 'M-1',
    rules: [],
    severities: [],
    language: 'en',
    secrets: [{ secret: generateSecret(), createdAt: at }],
    enabled: true,
    createdAt: at,
    updatedAt: at,
    ...over,
  };
}

let alertSeq = 0;
function alert(over: Partial<AlertWithI18n> = {}): AlertWithI18n {
  const ts = new Date(Date.UTC(2026, 0, 1, 0, 0, ++alertSeq)).toISOString();
  return {
    alertId: `al-${alertSeq}`,
    rule: 'terminal_fault_spike',
    severity: 'critical',
    status: 'firing',
    scope: 'terminal',
    key: 'T-1',
    merchantId: 'M-1',
    region: 'CN-31',
    window: '5m',
    metric: 'fault_rate',
    value: 0.4,
    threshold: 0.1,
    baseline: 0.02,
    evidence: { timeout: 12 },
    probableCauses: ['terminal hardware fault'],
    actions: ['restart the terminal'],
    firstSeen: ts,
    lastSeen: ts,
    ts,
    ...over,
  };
}

const waitFor = (fn: () => unknown, timeout = 10_000) => vi.waitFor(fn, { timeout, interval: 10 });

describe('delivery', () => {
  it('signs, localizes and scopes: each merchant gets only its own alerts, in its language', async () => {
    const rx = await receiver();
    const store = new MemoryWebhookStore();
    const zh = subscription({ url: rx.url('/m1'), language: 'zh' });
    const en = subscription({ url: rx.url('/m2'), merchantId: 'M-2' });
    const picky = subscription({ url: rx.url('/m1-picky'), rules: ['card_testing'] });
    for (const s of [zh, en, picky]) await store.putSubscription(s);
    const n = notifier(store);
    const a1 = alert({
      i18n: {
        en: { probableCauses: ['hardware fault'], actions: ['restart'] },
        zh: { probableCauses: ['终端硬件故障'], actions: ['重启终端'] },
      },
    });
    const a2 = alert({ merchantId: 'M-2' });
    const regional = alert({ scope: 'region', key: 'CN-31', merchantId: undefined });
    expect((await n.ingest(a1)).deliveries).toBe(1); // the picky one wants card_testing only
    expect((await n.ingest(a1)).duplicates).toBe(1); // a redelivered transition
    await n.ingest(a2);
    await n.ingest(regional);
    expect((await n.ingest({ alertId: 'junk' })).accepted).toBe(false);
    await waitFor(() => expect(n.stats().delivered).toBe(2));
    expect(rx.seen).toHaveLength(2);

    const byPath = new Map(rx.seen.map((r) => [r.path, r]));
    const m1 = byPath.get('/m1')!;
    const body1 = new Webhook(zh.secrets[0]!.secret).verify(m1.body, m1.headers as never) as Alert;
    expect(body1).toMatchObject({ alertId: a1.alertId, merchantId: 'M-1' });
    expect(body1.probableCauses).toEqual(['终端硬件故障']);
    expect(body1.actions).toEqual(['重启终端']);
    expect(body1).not.toHaveProperty('i18n');
    const m2 = byPath.get('/m2')!;
    const body2 = new Webhook(en.secrets[0]!.secret).verify(m2.body, m2.headers as never) as Alert;
    expect(body2.merchantId).toBe('M-2');
    // M-1's secret does not verify M-2's webhook
    expect(() => new Webhook(zh.secrets[0]!.secret).verify(m2.body, m2.headers as never)).toThrow();
    expect(n.stats()).toMatchObject({
      delivered: 2,
      alertsUnscoped: 1,
      alertsInvalid: 1,
      duplicatesSkipped: 1,
    });
  });

  it('an endpoint down for a while then back gets every alert exactly once by webhook-id', async () => {
    let failuresLeft = 45;
    const rx = await receiver((_r, res) => {
      if (failuresLeft-- > 0) res.writeHead(503).end('down for maintenance');
      else res.writeHead(200).end();
    });
    const store = new MemoryWebhookStore();
    const sub = subscription({ url: rx.url() });
    await store.putSubscription(sub);
    const n = notifier(store);
    const alerts = Array.from({ length: 20 }, () => alert());
    for (const a of alerts) await n.ingest(a);
    await waitFor(() => expect(n.stats().delivered).toBe(20), 20_000);

    const accepted = rx.accepted();
    expect(accepted.size).toBe(20);
    expect([...accepted.values()].every((c) => c === 1)).toBe(true);
    const failed = rx.seen.filter((r) => r.status === 503);
    expect(failed).toHaveLength(45);
    // retries carried the same webhook-id as the attempt that finally succeeded
    expect(failed.every((r) => accepted.has(String(r.headers['webhook-id'])))).toBe(true);
    const log = await store.listDeliveries({ subscriptionId: sub.id });
    expect(log.every((d) => d.status === 'delivered')).toBe(true);
    const attempts = (await Promise.all(log.map((d) => store.listAttempts(d.id)))).flat();
    expect(attempts).toHaveLength(65);
    expect(
      attempts.filter((a) => a.statusCode === 503).every((a) => a.error?.includes('maintenance')),
    ).toBe(true);
    console.log(
      `down-then-back: ${alerts.length} alerts, ${rx.seen.length} requests (${failed.length} refused by the endpoint), ${accepted.size} accepted once each`,
    );
  });

  it('410 Gone disables the endpoint, cancels its queue and tells the merchant’s other channel', async () => {
    const gone = await receiver((_r, res) => res.writeHead(410).end());
    const other = await receiver();
    const store = new MemoryWebhookStore();
    const a = subscription({ url: gone.url() });
    const b = subscription({ url: other.url(), language: 'zh', rules: ['card_testing'] });
    await store.putSubscription(a);
    await store.putSubscription(b);
    const n = notifier(store);
    for (let i = 0; i < 3; i++) await n.ingest(alert());
    await waitFor(() => expect(other.seen).toHaveLength(1));
    await waitFor(async () =>
      expect((await store.listDeliveries({ subscriptionId: a.id, status: 'pending' })).length).toBe(
        0,
      ),
    );
    expect(gone.seen).toHaveLength(1);
    expect((await store.getSubscription(a.id))?.enabled).toBe(false);
    const statuses = (await store.listDeliveries({ subscriptionId: a.id })).map((d) => d.status);
    expect(statuses.sort()).toEqual(['cancelled', 'cancelled', 'dead']);
    const notice = new Webhook(b.secrets[0]!.secret).verify(
      other.seen[0]!.body,
      other.seen[0]!.headers as never,
    ) as Record<string, unknown>;
    expect(notice).toMatchObject({
      type: 'endpoint.failing',
      subscriptionId: a.id,
      reason: 'gone',
      disabled: true,
    });
    expect(String(notice.message)).toMatch(/端点/);
    await n.ingest(alert());
    expect((await store.listDeliveries({ subscriptionId: a.id })).length).toBe(3);
  });

  it('after the last try: dead letter, endpoint.failing notice, visible attempt log', async () => {
    const down = await receiver((_r, res) => res.writeHead(500).end('boom'));
    const other = await receiver();
    const store = new MemoryWebhookStore();
    const a = subscription({ url: down.url() });
    const b = subscription({ url: other.url() });
    await store.putSubscription(a);
    await store.putSubscription(b);
    // b gets the alert too; a fails 3 times and dies
    const n = notifier(store, { ...DEV, retrySchedule: [0, 10, 10] });
    await n.ingest(alert({ severity: 'warning' }));
    await waitFor(() => expect(other.seen).toHaveLength(2));
    await waitFor(async () =>
      expect(await store.listDeliveries({ subscriptionId: a.id, status: 'dead' })).toHaveLength(1),
    );
    const [dead] = await store.listDeliveries({ subscriptionId: a.id, status: 'dead' });
    expect(dead).toBeDefined();
    expect(dead!.totalAttempts).toBe(3);
    const log = await store.listAttempts(dead!.id);
    expect(log.map((x) => x.outcome)).toEqual(['retry', 'retry', 'dead']);
    expect(log.every((x) => x.statusCode === 500 && x.latencyMs >= 0)).toBe(true);
    const notice = other.seen
      .map((r) => JSON.parse(r.body))
      .find((x) => x.type === 'endpoint.failing');
    expect(notice).toMatchObject({
      reason: 'retries_exhausted',
      attempts: 3,
      lastStatusCode: 500,
      deliveryId: dead!.id,
    });
    expect(n.stats()).toMatchObject({ deadLettered: 1, noticesEnqueued: 1 });
  });

  it('honours Retry-After on 429/502/503/504 (recorded schedule), not on 500', async () => {
    const calls = new Map<string, number>();
    const rx = await receiver((r, res) => {
      const k = r.path;
      const c = (calls.get(k) ?? 0) + 1;
      calls.set(k, c);
      if (c > 1) return res.writeHead(200).end();
      const status = Number(k.slice(1));
      res.writeHead(status, { 'retry-after': '1' }).end();
    });
    const store = new MemoryWebhookStore();
    const subs = [429, 502, 503, 504, 500].map((s) => subscription({ url: rx.url(`/${s}`) }));
    for (const s of subs) await store.putSubscription(s);
    const n = notifier(store, { ...DEV, retrySchedule: [0, 10, 10] });
    await n.ingest(alert());
    await waitFor(() => expect(n.stats().delivered).toBe(5));
    for (const [i, s] of subs.entries()) {
      const [d] = await store.listDeliveries({ subscriptionId: s.id });
      const [first, second] = await store.listAttempts(d!.id);
      expect(first?.outcome).toBe('retry');
      expect(second?.outcome).toBe('delivered');
      // the second attempt was due when the first said, and started no earlier
      expect(second!.scheduledAt).toBe(first!.nextAttemptAt);
      expect(second!.startedAt).toBeGreaterThanOrEqual(second!.scheduledAt);
      const gap = first!.nextAttemptAt! - first!.startedAt;
      if (i < 4) {
        expect(first!.retryAfterMs).toBe(1000);
        expect(gap).toBeGreaterThanOrEqual(1000);
      } else {
        expect(first!.retryAfterMs).toBeUndefined();
        expect(gap).toBeLessThan(1000);
      }
    }
  });

  it('keeps firing before resolved for one alert, and signs with both secrets during rotation', async () => {
    let slow = true;
    const rx = await receiver((_r, res) => {
      if (slow) {
        slow = false;
        return res.writeHead(503).end();
      }
      res.writeHead(200).end();
    });
    const store = new MemoryWebhookStore();
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const sub = subscription({
      url: rx.url(),
      secrets: [
        { secret: newSecret, createdAt: new Date().toISOString() },
        { secret: oldSecret, createdAt: new Date().toISOString(), expiresAt: later },
      ],
    });
    await store.putSubscription(sub);
    const n = notifier(store);
    const firing = alert();
    await n.ingest(firing);
    await n.ingest({
      ...firing,
      status: 'resolved',
      ts: new Date(Date.parse(firing.ts) + 60_000).toISOString(),
    });
    await waitFor(() => expect(n.stats().delivered).toBe(2));
    const ok = rx.seen.filter((r) => r.status === 200).map((r) => JSON.parse(r.body).status);
    expect(ok).toEqual(['firing', 'resolved']);
    for (const r of rx.seen) {
      expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
      for (const s of [oldSecret, newSecret])
        expect(() => new Webhook(s).verify(r.body, r.headers as never)).not.toThrow();
    }
  });
});

describe('SSRF guard end to end (loopback receivers only)', () => {
  it('in its default setting the guard lets nothing reach a loopback receiver', async () => {
    const rx = await receiver();
    const cases: [string, NotifierConfig['guard'], string][] = [
      ['default (https only)', {}, rx.url()],
      ['http allowed, no address allowed', { allowHttp: true }, rx.url()],
      ['http allowed, by name', { allowHttp: true }, `http://localhost:${rx.port}/hook`],
      [
        'http allowed, only 127.0.0.2 allowed',
        { allowHttp: true, allowAddresses: ['127.0.0.2'] },
        rx.url(),
      ],
    ];
    const rows = [];
    for (const [name, guard, url] of cases) {
      const store = new MemoryWebhookStore();
      const sub = subscription({ url }); // saved straight into the store: no REST check
      await store.putSubscription(sub);
      const n = notifier(store, { ...DEV, guard, retrySchedule: [0] });
      await n.ingest(alert());
      await waitFor(async () =>
        expect((await store.listDeliveries({ status: 'dead' })).length).toBe(1),
      );
      const [d] = await store.listDeliveries({});
      rows.push({ guard: name, status: d!.status, error: d!.lastError });
      await n.stop();
    }
    console.table(rows);
    console.log(
      `loopback receiver requests with the guard in its default settings: ${rx.seen.length}`,
    );
    expect(rx.seen).toHaveLength(0);
    expect(
      rows.every((r) => r.status === 'dead' && /refused|not allowed/.test(r.error ?? '')),
    ).toBe(true);
  });

  it('a public-looking name that resolves to loopback is refused at connect time', async () => {
    const rx = await receiver();
    // what a hostile DNS answer looks like; nothing else resolves here
    const toLoopback: LookupFunction = (_host, opts, cb) => {
      if ((opts as { all?: boolean }).all)
        (cb as (e: null, a: object[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
      else (cb as (e: null, a: string, f: number) => void)(null, '127.0.0.1', 4);
    };
    const url = `http://hooks.merchant.example:${rx.port}/hook`;
    const run = async (guard: NotifierConfig['guard']) => {
      const store = new MemoryWebhookStore();
      await store.putSubscription(subscription({ url }));
      const n = notifier(store, { ...DEV, guard, retrySchedule: [0], lookup: toLoopback });
      await n.ingest(alert());
      await waitFor(async () =>
        expect((await store.listDeliveries({ status: 'pending' })).length).toBe(0),
      );
      await n.stop();
      return (await store.listDeliveries({}))[0]!;
    };
    const refused = await run({ allowHttp: true });
    expect(refused.status).toBe('dead');
    expect(refused.lastError).toMatch(/is not allowed/);
    expect(rx.seen).toHaveLength(0);
    // control: the same lookup with loopback explicitly allowed reaches the receiver
    const allowed = await run({ allowHttp: true, allowAddresses: ['127.0.0.1'] });
    expect(allowed.status).toBe('delivered');
    expect(rx.seen).toHaveLength(1);
  });

  it('a redirect to an internal address is not followed', async () => {
    const internal = await receiver();
    const redirector = await receiver((_r, res) =>
      res.writeHead(302, { location: internal.url('/admin') }).end(),
    );
    const store = new MemoryWebhookStore();
    await store.putSubscription(subscription({ url: redirector.url() }));
    const n = notifier(store, { ...DEV, retrySchedule: [0, 10] });
    await n.ingest(alert());
    await waitFor(async () =>
      expect((await store.listDeliveries({ status: 'dead' })).length).toBe(1),
    );
    expect(redirector.seen).toHaveLength(2);
    expect(internal.seen).toHaveLength(0);
    const [d] = await store.listDeliveries({});
    expect(d!.lastError).toMatch(/redirect .* not followed/);
  });
});

describe('fairness (issue 16): one merchant can delay every merchant’s webhooks', () => {
  it('20 subscriptions to a receiver that never answers do not delay another merchant’s delivery', async () => {
    // The finding: one merchant's 20 subscriptions to a receiver that never answers took all
    // 16 attempt slots for 15 s timeouts, and another merchant's delivery went from 12 ms to
    // 14.8 s. Asserted on order, not time: the other merchant's webhook arrives while the dead
    // receiver still holds open every request it was sent, i.e. before any of them finished.
    const held: ServerResponse[] = [];
    const dead = await startReceiver((_r, res) => void held.push(res)); // never answers
    const healthy = await receiver();
    const store = new MemoryWebhookStore();
    for (let i = 0; i < 20; i++) {
      await store.putSubscription(subscription({ url: dead.url(`/s${i}`), merchantId: 'M-1' }));
    }
    await store.putSubscription(subscription({ url: healthy.url(), merchantId: 'M-2' }));
    const n = notifier(store, { ...DEV, timeoutMs: 15_000, retrySchedule: [0, 60_000] });
    try {
      expect((await n.ingest(alert({ merchantId: 'M-1' }))).deliveries).toBe(20);
      // M-1 holds every slot it may (4 by default; 16, all of them, before)
      await waitFor(() => expect(held.length).toBeGreaterThanOrEqual(4));
      await n.ingest(alert({ merchantId: 'M-2' }));
      await waitFor(() => expect(healthy.seen).toHaveLength(1), 30_000);

      const m1 = await store.listDeliveries({ merchantId: 'M-1' });
      const m1Attempts = (await Promise.all(m1.map((d) => store.listAttempts(d.id)))).flat();
      const rows = {
        deadReceiverHeld: held.length,
        deadReceiverAnswered: held.filter((r) => r.writableEnded).length,
        m1AttemptsFinished: m1Attempts.length,
        m2Delivered: healthy.seen.length,
      };
      console.log('fairness, dead receiver vs another merchant:', JSON.stringify(rows));
      expect(rows).toEqual({
        deadReceiverHeld: 4,
        deadReceiverAnswered: 0,
        m1AttemptsFinished: 0,
        m2Delivered: 1,
      });
      expect(m1.every((d) => d.status === 'pending')).toBe(true);
    } finally {
      await dead.close(); // frees the held attempts, so stop() does not wait for their timeouts
    }
  });

  it('a dead endpoint’s breaker opens after N failures in a row: its deliveries are deferred, not lost, and all arrive once after it recovers', async () => {
    let up = false;
    const rx = await receiver((_r, res) => res.writeHead(up ? 200 : 503).end());
    const store = new MemoryWebhookStore();
    const sub = subscription({ url: rx.url() });
    await store.putSubscription(sub);
    let skew = 0; // the cool-down passes by moving the clock, not by waiting
    const n = createNotifier({
      store,
      now: () => Date.now() + skew,
      // 3 tries each: without the breaker all 5 would be dead after 15 requests
      config: {
        ...DEV,
        retrySchedule: [0, 0, 0],
        breakerFailures: 3,
        breakerCooldownMs: 3_600_000,
      },
    });
    n.start();
    cleanup.push(() => n.stop());
    for (let i = 0; i < 5; i++) await n.ingest(alert());
    await waitFor(() => expect(n.stats().breakersOpened).toBe(1));
    // the dispatcher keeps looking while it is open, and sends nothing
    await waitFor(() => expect(n.stats().deferredByBreaker).toBeGreaterThanOrEqual(10));
    expect(rx.seen).toHaveLength(3);
    const waiting = await store.listDeliveries({ subscriptionId: sub.id });
    expect(waiting.map((d) => d.status)).toEqual(Array(5).fill('pending'));
    expect(waiting.reduce((s, d) => s + d.totalAttempts, 0)).toBe(3);

    up = true;
    skew = 3_600_000; // the cool-down is over: one trial, it succeeds, the breaker closes
    await waitFor(() => expect(n.stats().delivered).toBe(5));
    const accepted = rx.accepted();
    expect(accepted.size).toBe(5);
    expect([...accepted.values()].every((c) => c === 1)).toBe(true);
    expect(rx.seen).toHaveLength(8);
    const done = await store.listDeliveries({ subscriptionId: sub.id });
    expect(done.every((d) => d.status === 'delivered')).toBe(true);
    expect(n.stats()).toMatchObject({ breakersOpened: 1, deadLettered: 0 });
  });
});
