/**
 * Merchant isolation, shared by the unit security test (MemoryStore) and the integration test
 * (ClickHouseStore): merchant A's key against merchant B's ids on every REST route. A leak is a
 * 2xx body that mentions anything of B's (merchant, terminal, alert, txn, B's region
 * aggregates, B's webhook subscription and deliveries), or a write that changed B's alert or
 * webhooks. A positive control runs reads with B's own key, so the markers are known to show.
 * Test support only: not exported from the package.
 */
import { RULE_IDS } from '@tillwatch/contracts';
import type { Subscription, WebhookStore } from '@tillwatch/webhooks';
import type { FastifyInstance } from 'fastify';
import type { ApiKeyEntry } from './auth';
import type { GatewayStore } from './store';

export const A: ApiKeyEntry = {
  key: 'merchant-a-key-sec-000001',
  role: 'merchant',
  merchantId: 'M-A',
};
export const B: ApiKeyEntry = {
  key: 'merchant-b-key-sec-000001',
  role: 'merchant',
  merchantId: 'M-B',
};
export const STAFF: ApiKeyEntry = { key: 'analyst-key-sec-00000001', role: 'analyst' };
export const ADMIN: ApiKeyEntry = { key: 'admin-key-sec-0000000001', role: 'admin' };
export const SRE: ApiKeyEntry = { key: 'sre-key-sec-000000000001', role: 'sre' };
export const B_MARKERS = [
  'M-B',
  'T-B1',
  'T-B2',
  'al-B-',
  'txB-',
  'CN-31',
  'sub_B',
  'hooks.m-b',
  'dlv_B',
];
export const B_ALERTS = ['al-B-term', 'al-B-merch', 'al-B-region'];

export const SUB_B = 'sub_B_000000000001';
export const SUB_A = 'sub_A_000000000001';
export const DLV_B = 'dlv_B_000000000001';

export function subscription(id: string, merchantId: string, host: string): Subscription {
  const at = new Date().toISOString();
  return {
    id,
    merchantId,
    url: `https://${host}/tillwatch`,
    rules: [],
    severities: [],
    language: 'en',
    secrets: [{ secret: `whsec_${Buffer.alloc(32, id).toString('base64')}`, createdAt: at }],
    enabled: true,
    createdAt: at,
    updatedAt: at,
  };
}

/** B's subscription with one dead delivery (replayable) and its attempt; A's own subscription. */
export async function seedWebhooks(hooks: WebhookStore): Promise<void> {
  await hooks.putSubscription(subscription(SUB_B, 'M-B', 'hooks.m-b.example'));
  await hooks.putSubscription(subscription(SUB_A, 'M-A', 'hooks.m-a.example'));
  const t = Date.now() - 60_000;
  const [d] = await hooks.enqueue([
    {
      id: DLV_B,
      webhookId: 'msg_B_1',
      subscriptionId: SUB_B,
      merchantId: 'M-B',
      kind: 'alert',
      alertId: 'al-B-term',
      body: '{"alertId":"al-B-term","merchantId":"M-B"}',
      createdAt: t,
    },
  ]);
  await hooks.recordAttempt(
    {
      deliveryId: DLV_B,
      webhookId: 'msg_B_1',
      subscriptionId: SUB_B,
      merchantId: 'M-B',
      attempt: 1,
      scheduledAt: t,
      startedAt: t,
      latencyMs: 20,
      statusCode: 500,
      outcome: 'dead',
    },
    { ...d!, status: 'dead', attempts: 1, totalAttempts: 1, lastStatusCode: 500, updatedAt: t },
  );
}

/** What must not change when A attacks: B's subscription and delivery as stored. */
export async function webhookStateOfB(hooks: WebhookStore): Promise<string> {
  return JSON.stringify([
    await hooks.getSubscription(SUB_B),
    await hooks.getDelivery(DLV_B),
    await hooks.listAttempts(DLV_B),
    await hooks.listSubscriptions({ merchantId: 'M-B' }),
  ]);
}

export const leaky = (body: string) => B_MARKERS.filter((m) => body.includes(m));

/** Every request merchant A can aim at B: each route × each of B's ids × each filter. */
export function attacks(): Attack[] {
  const out: Attack[] = [];
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
  for (const scope of ['terminal', 'merchant', 'region', 'firmware', 'issuer']) {
    for (const key of ['T-B1', 'T-B2', 'M-B', 'CN-31', 'fw-1', 'ISS-1']) {
      for (const extra of [{}, { since: '946684800000' }, { limit: '1000' }]) {
        out.push({ method: 'GET', url: `/api/events?${q({ scope, key, ...extra })}` });
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
    { since: '946684800000' }, // 2000-01-01, the earliest time the API takes
    ...RULE_IDS.map((rule) => ({ rule })),
  ];
  for (const f of alertFilters) out.push({ method: 'GET', url: `/api/alerts?${q(f)}` });
  for (const id of B_ALERTS) {
    out.push({ method: 'GET', url: `/api/alerts/${id}` });
    out.push({ method: 'GET', url: `/api/alerts/${id}/audit` });
    for (const dq of ['', '?evidenceOnly=true', '?since=946684800000', '?limit=1000']) {
      out.push({ method: 'GET', url: `/api/alerts/${id}/drilldown${dq}` });
    }
    out.push({ method: 'POST', url: `/api/alerts/${id}/ack`, body: { note: 'x' } });
    out.push({ method: 'POST', url: `/api/alerts/${id}/assign`, body: { assignee: 'x' } });
    out.push({ method: 'POST', url: `/api/alerts/${id}/notes`, body: { note: 'planted by A' } });
    out.push({ method: 'POST', url: `/api/alerts/${id}/resolve`, body: {} });
    out.push({
      method: 'POST',
      url: `/api/alerts/${id}/resolve`,
      body: { verdict: 'false_alarm', note: 'planted by A' },
    });
  }
  for (const q of ['', '?days=365', '?days=1', '?merchantId=M-B'])
    out.push({ method: 'GET', url: `/api/quality${q}` });
  out.push({ method: 'GET', url: '/api/silences' });
  out.push({
    method: 'POST',
    url: '/api/silences',
    body: { matchers: { merchantId: 'M-B' }, endsAt: '2099-01-01T00:00:00Z', comment: 'x' },
  });
  out.push({ method: 'GET', url: '/metrics' });
  out.push(...webhookAttacks());
  return out;
}

export type Attack = {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
};

/** Merchant A against B's webhook subscriptions, secrets, delivery log and replays. */
export function webhookAttacks(): Attack[] {
  const out: Attack[] = [];
  const w = '/api/webhooks';
  for (const q of ['', '?merchantId=M-B', '?merchantId=M-A'])
    out.push({ method: 'GET', url: `${w}/subscriptions${q}` });
  for (const id of [SUB_B, encodeURIComponent(SUB_B), `${SUB_B}%00`]) {
    out.push({ method: 'GET', url: `${w}/subscriptions/${id}` });
    out.push({ method: 'GET', url: `${w}/subscriptions/${id}/secret` });
    out.push({ method: 'PATCH', url: `${w}/subscriptions/${id}`, body: { enabled: false } });
    out.push({
      method: 'PATCH',
      url: `${w}/subscriptions/${id}`,
      body: { url: 'https://evil.example/steal' },
    });
    out.push({ method: 'POST', url: `${w}/subscriptions/${id}/rotate-secret`, body: {} });
    out.push({ method: 'DELETE', url: `${w}/subscriptions/${id}` });
  }
  out.push({
    method: 'POST',
    url: `${w}/subscriptions`,
    body: { merchantId: 'M-B', url: 'https://evil.example/hook' },
  });
  for (const q of [
    '',
    '?merchantId=M-B',
    `?subscriptionId=${SUB_B}`,
    `?subscriptionId=${SUB_B}&status=dead`,
    '?status=dead',
    '?since=2000-01-01T00:00:00Z&limit=500',
  ])
    out.push({ method: 'GET', url: `${w}/deliveries${q}` });
  out.push({ method: 'GET', url: `${w}/deliveries/${DLV_B}` });
  out.push({ method: 'POST', url: `${w}/deliveries/${DLV_B}/replay`, body: {} });
  for (const body of [
    { since: '2000-01-01T00:00:00Z' },
    { since: '2000-01-01T00:00:00Z', merchantId: 'M-B' },
    { since: '2000-01-01T00:00:00Z', subscriptionId: SUB_B },
  ])
    out.push({ method: 'POST', url: `${w}/replay`, body });
  return out;
}
export interface IsolationResult {
  attempts: number;
  webhookAttempts: number;
  leaks: string[];
  statuses: Record<number, number>;
  controls: number;
  controlsTotal: number;
}

/** Runs every attack with A's key through app.inject and counts what leaked. */
export async function runIsolation(
  app: FastifyInstance,
  store: GatewayStore,
  hooks: WebhookStore,
): Promise<IsolationResult> {
  const auditBefore = await Promise.all(
    B_ALERTS.map(async (id) => (await store.getAlert(id))!.audit.length),
  );
  const hooksBefore = await webhookStateOfB(hooks);
  let webhookAttempts = 0;
  let attempts = 0;
  const leaks: string[] = [];
  const statuses = new Map<number, number>();
  for (const a of attacks()) {
    attempts++;
    if (a.url.startsWith('/api/webhooks')) webhookAttempts++;
    const res = await app.inject({
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
  if ((await webhookStateOfB(hooks)) !== hooksBefore) leaks.push('write reached B’s webhooks');

  // positive control: B's own key does see B's data through the same kind of reads
  let controls = 0;
  for (const path of [
    '/api/rates?scope=terminal',
    '/api/alerts',
    '/api/alerts/al-B-term',
    '/api/alerts/al-B-term/drilldown',
    '/api/snapshot',
    '/api/webhooks/subscriptions',
    `/api/webhooks/subscriptions/${SUB_B}`,
    '/api/webhooks/deliveries',
    `/api/webhooks/deliveries/${DLV_B}`,
  ]) {
    const res = await app.inject({
      method: 'GET',
      url: path,
      headers: { authorization: `Bearer ${B.key}` },
    });
    if (res.statusCode === 200 && leaky(res.body).length > 0) controls++;
  }
  return {
    attempts,
    webhookAttempts,
    leaks,
    statuses: Object.fromEntries(statuses),
    controls,
    controlsTotal: 9,
  };
}
