import { randomUUID } from 'node:crypto';
import {
  MIGRATIONS,
  TABLES,
  createClickHouse,
  ensureDatabase,
  ident,
  migrate,
  sql,
  type ClickHouse,
} from '@tillwatch/clickhouse';
import { qualityReportSchema, type Alert, type Verdict } from '@tillwatch/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyEntry } from './auth';
import { ClickHouseStore } from './clickhouse-store';
import { defaultGatewayConfig } from './config';
import { syntheticAlert } from './fixtures';
import { createGateway, type Gateway } from './gateway';

/**
 * Verdicts and GET /api/quality over ClickHouseStore on a real ClickHouse (18.16 here), through
 * the gateway's routes. The database starts as a deployment from before verdicts did (migrations
 * 1-3, one resolution already stored); migration 4 then adds the column at the next start. One
 * private database for the file.
 */
const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL not set: use test:int');

const database = `tw_gw_quality_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
const DAY = 86_400_000;
const keys: ApiKeyEntry[] = [
  { key: 'analyst-key-quality-int1', role: 'analyst', name: 'ana' },
  { key: 'merchant-a-key-qual-int1', role: 'merchant', merchantId: 'M-QA' },
  { key: 'merchant-b-key-qual-int1', role: 'merchant', merchantId: 'M-QB' },
];
const auth = (i: number) => ({ authorization: `Bearer ${keys[i]!.key}` });
const [analyst, mA, mB] = [auth(0), auth(1), auth(2)];

let ch: ClickHouse;
let store: ClickHouseStore;
let gw: Gateway;

const alert = (alertId: string, rule: Alert['rule'], daysAgo: number, p: Partial<Alert> = {}) => {
  const at = new Date(Date.now() - daysAgo * DAY).toISOString();
  return syntheticAlert({ alertId, rule, firstSeen: at, lastSeen: at, ts: at, ...p });
};

async function open(): Promise<void> {
  store = await ClickHouseStore.open({ ch, ratesPollMs: 0, silencesRefreshMs: 0 });
  gw = await createGateway({
    config: defaultGatewayConfig({ apiKeys: keys, webDist: '/nonexistent' }),
    store,
  });
}

async function closeGateway(): Promise<void> {
  await gw?.close();
  await store?.close();
}

const get = (path: string, headers: Record<string, string>) =>
  gw.app.inject({ method: 'GET', url: path, headers });
const resolve = (alertId: string, body: unknown, headers = analyst) =>
  gw.app.inject({
    method: 'POST',
    url: `/api/alerts/${alertId}/resolve`,
    headers: { ...headers, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });

beforeAll(async () => {
  await ensureDatabase({ url }, database);
  ch = createClickHouse({ url, database });
  // a deployment from before verdicts: migrations 1-3, an alert already closed without one
  expect(await migrate(ch, MIGRATIONS.slice(0, 3))).toMatchObject({ applied: [1, 2, 3] });
  const old = alert('al-q-old', 'terminal_silent', 2, { merchantId: 'M-QA' });
  await ch.insert(TABLES.alerts, [
    {
      alert_id: old.alertId,
      rule: old.rule,
      severity: old.severity,
      status: old.status,
      scope: old.scope,
      key: old.key,
      merchant_id: 'M-QA',
      region: old.region,
      window: old.window,
      metric: old.metric,
      value: old.value,
      threshold: old.threshold,
      baseline: old.baseline,
      first_seen: old.firstSeen.slice(0, 19).replace('T', ' '),
      last_seen: old.lastSeen.slice(0, 19).replace('T', ' '),
      ts: old.ts.slice(0, 19).replace('T', ' '),
      ts_ms: Date.parse(old.ts),
      body: JSON.stringify(old),
    },
  ]);
  const t = Date.now() - DAY;
  await ch.insert(TABLES.alertActions, [
    {
      action_id: randomUUID(),
      alert_id: old.alertId,
      kind: 'resolve',
      actor: 'ana',
      role: 'analyst',
      assignee: '',
      note: 'closed before verdicts',
      author: '',
      ts: new Date(t).toISOString().slice(0, 19).replace('T', ' '),
      ts_ms: t,
    },
  ]);
  // the next start applies the migrations from 4 on (4: the verdict column; later ones too)
  expect(await migrate(ch)).toMatchObject({
    applied: MIGRATIONS.filter((m) => m.id >= 4).map((m) => m.id),
  });
  await open();
});

afterAll(async () => {
  await closeGateway();
  await ch?.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  await ch?.close();
});

describe('verdicts and the precision report on ClickHouse', () => {
  it('a resolution stored before migration 4 reads back with no verdict', async () => {
    const rec = (await get('/api/alerts/al-q-old', analyst)).json();
    expect(rec.workflow).toMatchObject({ state: 'resolved', resolvedBy: 'ana' });
    expect(rec.workflow.verdict).toBeUndefined();
    expect(rec.audit.at(-1)).toMatchObject({ action: 'resolve', note: 'closed before verdicts' });
    expect(rec.audit.at(-1).verdict).toBeUndefined();
  });

  it('closing without a valid verdict → 400 naming it, and nothing is written', async () => {
    await store.ingestAlerts([alert('al-q-400', 'card_testing', 1, { merchantId: 'M-QA' })]);
    for (const body of [{}, { verdict: 'unsure' }]) {
      const res = await resolve('al-q-400', body);
      expect(res.statusCode).toBe(400);
      expect(res.json().details[0]).toMatchObject({ in: 'body', path: 'verdict' });
    }
    const rows = await ch.query<{ n: number | string }>(
      sql`SELECT count() AS n FROM ${ident(TABLES.alertActions)} WHERE alert_id = 'al-q-400'`,
    );
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('verdicts are stored with who and when, the latest wins, and survive a restart; the report counts per rule and per merchant', async () => {
    await store.ingestAlerts([
      alert('al-q-a1', 'card_testing', 1, { merchantId: 'M-QA' }),
      alert('al-q-a2', 'card_testing', 2, { merchantId: 'M-QA' }),
      alert('al-q-a3', 'card_testing', 3, { merchantId: 'M-QA' }),
      alert('al-q-b1', 'card_testing', 1, { merchantId: 'M-QB' }),
      alert('al-q-b2', 'reversal_spike', 1, {
        scope: 'merchant',
        key: 'M-QB',
        merchantId: undefined,
      }),
      // raised 50 days ago: only in a longer period
      alert('al-q-a9', 'card_testing', 50, { merchantId: 'M-QA' }),
    ]);
    const close = async (id: string, verdict: Verdict) =>
      expect((await resolve(id, { verdict })).statusCode).toBe(200);
    await close('al-q-a1', 'false_alarm');
    await close('al-q-a1', 'true_incident'); // latest wins
    await close('al-q-a2', 'expected');
    await close('al-q-b1', 'false_alarm');
    await close('al-q-b2', 'true_incident');
    await close('al-q-a9', 'false_alarm');

    // a new gateway over the same tables (another instance, a restart) reads the same
    await closeGateway();
    await open();
    const rec = (await get('/api/alerts/al-q-a1', analyst)).json();
    expect(rec.workflow).toMatchObject({
      state: 'resolved',
      verdict: 'true_incident',
      verdictBy: 'ana',
      verdictAt: expect.any(String),
    });
    expect(
      rec.audit
        .filter((e: { action: string }) => e.action === 'resolve')
        .map((e: { verdict: string }) => e.verdict),
    ).toEqual(['false_alarm', 'true_incident']);

    const report = async (headers: Record<string, string>, days = 30) =>
      qualityReportSchema.parse((await get(`/api/quality?days=${days}`, headers)).json());
    const staff = await report(analyst);
    expect(staff.rules.map((r) => [r.rule, r.raised, r.verdicts, r.precision])).toEqual([
      ['terminal_silent', 1, { true_incident: 0, false_alarm: 0, expected: 0 }, null],
      ['reversal_spike', 1, { true_incident: 1, false_alarm: 0, expected: 0 }, 1],
      // 5 raised: a1 true (latest), a2 expected, a3 none, b1 false, al-q-400 none
      ['card_testing', 5, { true_incident: 1, false_alarm: 1, expected: 1 }, 0.5],
    ]);
    expect(staff.rules.at(-1)).toMatchObject({ withoutVerdict: 2, withoutVerdictShare: 0.4 });
    expect(staff.total).toMatchObject({ raised: 7, withVerdict: 4, withoutVerdict: 3 });

    const a = await report(mA);
    expect(a.rules.map((r) => [r.rule, r.raised, r.verdicts])).toEqual([
      ['terminal_silent', 1, { true_incident: 0, false_alarm: 0, expected: 0 }],
      ['card_testing', 4, { true_incident: 1, false_alarm: 0, expected: 1 }],
    ]);
    expect((await report(mA, 60)).rules.at(-1)).toMatchObject({
      rule: 'card_testing',
      raised: 5,
      verdicts: { true_incident: 1, false_alarm: 1, expected: 1 },
    });
    const b = await report(mB);
    expect(b.rules.map((r) => [r.rule, r.raised, r.precision])).toEqual([
      ['reversal_spike', 1, 1],
      ['card_testing', 1, 0],
    ]);
    expect((await get('/api/quality?days=400', mB)).statusCode).toBe(400);
  });
});
