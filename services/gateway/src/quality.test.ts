import { qualityReportSchema, type Alert, type Verdict } from '@tillwatch/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyEntry } from './auth';
import { defaultGatewayConfig } from './config';
import { syntheticAlert } from './fixtures';
import { createGateway, type Gateway } from './gateway';
import { MemoryStore } from './memory-store';

/**
 * Verdicts on closing (POST /api/alerts/:id/resolve) and the per-rule precision report
 * (GET /api/quality) through the real routes over a MemoryStore. The period is counted back
 * from the gateway's clock, so episodes are placed days before it, far from any edge.
 */
const keys: ApiKeyEntry[] = [
  { key: 'analyst-key-quality-0001', role: 'analyst', name: 'ana' },
  { key: 'sre-key-quality-00000001', role: 'sre', name: 'sam' },
  { key: 'merchant-a-key-quality01', role: 'merchant', merchantId: 'M-A' },
  { key: 'merchant-b-key-quality01', role: 'merchant', merchantId: 'M-B' },
];
const auth = (i: number) => ({ authorization: `Bearer ${keys[i]!.key}` });
const [analyst, sre, mA, mB] = [auth(0), auth(1), auth(2), auth(3)];
const DAY = 86_400_000;

let gw: Gateway;
let store: MemoryStore;

const get = (path: string, headers: Record<string, string> = {}) =>
  gw.app.inject({ method: 'GET', url: path, headers });
const resolve = (alertId: string, body: unknown, headers: Record<string, string>) =>
  gw.app.inject({
    method: 'POST',
    url: `/api/alerts/${alertId}/resolve`,
    headers: { ...headers, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });

function raise(alertId: string, rule: Alert['rule'], daysAgo: number, p: Partial<Alert> = {}) {
  const at = new Date(Date.now() - daysAgo * DAY).toISOString();
  store.pushAlert(
    syntheticAlert({ alertId, rule, firstSeen: at, lastSeen: at, ts: at, merchantId: 'M-A', ...p }),
  );
}

async function close(alertId: string, verdict: Verdict, headers = analyst): Promise<void> {
  const res = await resolve(alertId, { verdict }, headers);
  expect(res.statusCode, res.body).toBe(200);
}

beforeAll(async () => {
  store = new MemoryStore();
  gw = await createGateway({
    config: defaultGatewayConfig({ apiKeys: keys, webDist: '/nonexistent' }),
    store,
  });
});
afterAll(async () => {
  await gw.close();
});

describe('closing asks for a verdict', () => {
  it('no verdict, or one not in the list → 400 naming `verdict`; nothing is recorded', async () => {
    raise('al-v400', 'terminal_fault_spike', 1);
    for (const body of [{}, { note: 'fixed' }, { verdict: 'maybe' }, { verdict: '' }]) {
      const res = await resolve('al-v400', body, analyst);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      const err = res.json();
      expect(err).toMatchObject({
        error: 'bad_request',
        message: expect.stringMatching(/verdict/),
      });
      expect(err.details[0]).toMatchObject({ in: 'body', path: 'verdict' });
    }
    expect(
      (await resolve('al-v400', { verdict: 'true_incident', extra: 1 }, analyst)).statusCode,
    ).toBe(400);
    const rec = (await get('/api/alerts/al-v400', analyst)).json();
    expect(rec.workflow).toEqual({ state: 'open' });
    expect(rec.audit).toHaveLength(1);
  });

  it('the verdict is stored on the resolve line and in the workflow with who and when', async () => {
    raise('al-v1', 'terminal_fault_spike', 1);
    const res = await resolve(
      'al-v1',
      { verdict: 'expected', note: 'mall closed at 22:00', author: 'Li' },
      analyst,
    );
    expect(res.statusCode).toBe(200);
    const rec = (await get('/api/alerts/al-v1', analyst)).json();
    expect(rec.workflow).toMatchObject({
      state: 'resolved',
      resolvedBy: 'ana',
      verdict: 'expected',
      verdictBy: 'ana',
      verdictAt: expect.any(String),
    });
    expect(rec.workflow.verdictAt).toBe(rec.workflow.resolvedAt);
    expect(rec.audit.at(-1)).toMatchObject({
      action: 'resolve',
      actor: 'ana',
      role: 'analyst',
      author: 'Li',
      verdict: 'expected',
      note: 'mall closed at 22:00',
    });
  });

  it('a later verdict replaces an earlier one (latest wins), in the workflow and in the report', async () => {
    raise('al-v2', 'failed_but_charged', 2);
    const before = (await get('/api/quality', analyst)).json();
    const row = (r: typeof before) =>
      r.rules.find((x: { rule: string }) => x.rule === 'failed_but_charged');
    expect(row(before).verdicts).toEqual({ true_incident: 0, false_alarm: 0, expected: 0 });
    await close('al-v2', 'false_alarm');
    expect(row((await get('/api/quality', analyst)).json()).verdicts.false_alarm).toBe(1);
    await close('al-v2', 'true_incident', sre);
    const rec = (await get('/api/alerts/al-v2', analyst)).json();
    expect(rec.workflow).toMatchObject({ verdict: 'true_incident', verdictBy: 'sam' });
    expect(
      rec.audit
        .filter((e: { action: string }) => e.action === 'resolve')
        .map((e: { verdict: string }) => e.verdict),
    ).toEqual(['false_alarm', 'true_incident']);
    const after = row((await get('/api/quality', analyst)).json());
    expect(after).toMatchObject({
      raised: 1,
      verdicts: { true_incident: 1, false_alarm: 0, expected: 0 },
      precision: 1,
    });
  });

  it('merchants may not close alerts, with or without a verdict', async () => {
    raise('al-vm', 'terminal_fault_spike', 1);
    expect((await resolve('al-vm', { verdict: 'false_alarm' }, mA)).statusCode).toBe(403);
    expect((await get('/api/alerts/al-vm', analyst)).json().workflow.state).toBe('open');
  });
});

describe('GET /api/quality', () => {
  it('401 without a key; `days` outside 1..365 or not whole, or an unknown parameter → 400', async () => {
    expect((await get('/api/quality')).statusCode).toBe(401);
    expect(
      (await get('/api/quality', { authorization: 'Bearer nope-nope-nope-nope' })).statusCode,
    ).toBe(401);
    for (const q of ['days=0', 'days=366', 'days=-1', 'days=abc', 'days=1.5', 'days=']) {
      const res = await get(`/api/quality?${q}`, analyst);
      expect(res.statusCode, q).toBe(400);
      expect(res.json()).toMatchObject({
        error: 'bad_request',
        message: expect.stringMatching(/days/),
        details: [{ in: 'querystring', path: 'days' }],
      });
    }
    expect((await get('/api/quality?merchantId=M-B', mA)).statusCode).toBe(400);
    for (const q of ['', '?days=1', '?days=365']) {
      const res = await get(`/api/quality${q}`, analyst);
      expect(res.statusCode, q).toBe(200);
      expect(res.json().days).toBe(q ? Number(q.slice(6)) : 30);
    }
  });

  it('per rule: episodes raised in the period, verdicts, precision = true / (true + false), expected apart, the share without one', async () => {
    // card_testing, 30-day period: 3 true, 1 false, 2 expected, 2 without a verdict (8 raised);
    // one more 40 days ago, only in a 60-day period
    for (let i = 0; i < 8; i++) raise(`al-ct-${i}`, 'card_testing', 1 + i);
    raise('al-ct-old', 'card_testing', 40);
    const verdicts: Verdict[] = [
      'true_incident',
      'true_incident',
      'true_incident',
      'false_alarm',
      'expected',
      'expected',
    ];
    for (const [i, v] of verdicts.entries()) await close(`al-ct-${i}`, v);
    await close('al-ct-old', 'false_alarm');

    const r30 = qualityReportSchema.parse((await get('/api/quality?days=30', analyst)).json());
    expect(Date.parse(r30.until) - Date.parse(r30.since)).toBeGreaterThanOrEqual(30 * DAY);
    expect(r30.rules.find((x) => x.rule === 'card_testing')).toEqual({
      rule: 'card_testing',
      raised: 8,
      verdicts: { true_incident: 3, false_alarm: 1, expected: 2 },
      withVerdict: 6,
      withoutVerdict: 2,
      precision: 0.75,
      withoutVerdictShare: 0.25,
    });
    const r60 = qualityReportSchema.parse((await get('/api/quality?days=60', analyst)).json());
    expect(r60.rules.find((x) => x.rule === 'card_testing')).toMatchObject({
      raised: 9,
      verdicts: { true_incident: 3, false_alarm: 2, expected: 2 },
      precision: 0.6,
    });
    // the total adds the rules up, and rules come in catalogue order
    const sum = (k: 'raised' | 'withVerdict') => r30.rules.reduce((n, x) => n + x[k], 0);
    expect(r30.total.raised).toBe(sum('raised'));
    expect(r30.total.withVerdict).toBe(sum('withVerdict'));
    const order = r30.rules.map((x) => x.rule);
    expect(order.indexOf('terminal_fault_spike')).toBeLessThan(order.indexOf('card_testing'));
  });

  it('a merchant counts only its own alerts’ episodes and verdicts', async () => {
    raise('al-ib-a1', 'issuer_degradation', 3, { scope: 'issuer', key: 'ISS-1' });
    raise('al-ib-b1', 'issuer_degradation', 3, {
      scope: 'issuer',
      key: 'ISS-2',
      merchantId: 'M-B',
    });
    raise('al-ib-b2', 'issuer_degradation', 3, {
      scope: 'issuer',
      key: 'ISS-3',
      merchantId: 'M-B',
    });
    // a merchant-scope alert written without merchantId is the merchant's by its key
    raise('al-rs-b', 'reversal_spike', 3, { scope: 'merchant', key: 'M-B', merchantId: undefined });
    await close('al-ib-a1', 'true_incident');
    await close('al-ib-b1', 'false_alarm');
    await close('al-ib-b2', 'false_alarm');
    await close('al-rs-b', 'expected');
    const rule = (body: { rules: { rule: string }[] }, r: string) =>
      body.rules.find((x) => x.rule === r);

    const staff = (await get('/api/quality', analyst)).json();
    expect(rule(staff, 'issuer_degradation')).toMatchObject({
      raised: 3,
      verdicts: { true_incident: 1, false_alarm: 2, expected: 0 },
    });
    const a = (await get('/api/quality', mA)).json();
    expect(rule(a, 'issuer_degradation')).toMatchObject({
      raised: 1,
      verdicts: { true_incident: 1, false_alarm: 0, expected: 0 },
      precision: 1,
    });
    expect(rule(a, 'reversal_spike')).toBeUndefined();
    const b = (await get('/api/quality', mB)).json();
    expect(b.rules.map((x: { rule: string }) => x.rule)).toEqual([
      'reversal_spike',
      'issuer_degradation',
    ]);
    expect(rule(b, 'issuer_degradation')).toMatchObject({
      raised: 2,
      verdicts: { true_incident: 0, false_alarm: 2, expected: 0 },
      precision: 0,
    });
    expect(b.total).toMatchObject({ raised: 3, withVerdict: 3, withoutVerdict: 0 });
  });
});
