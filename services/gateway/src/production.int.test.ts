import { randomBytes, randomUUID } from 'node:crypto';
import {
  TABLES,
  alertToRow,
  createClickHouse,
  eventToRow,
  ident,
  paneToRow,
  sql,
  tableWriter,
  type ClickHouse,
  type EventInput,
  type PaneInput,
} from '@tillwatch/clickhouse';
import type { Alert, RateRow } from '@tillwatch/contracts';
import { createJsonProducer, createKafka, type JsonProducer } from '@tillwatch/kafka';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatApiKeys, type ApiKeyEntry } from './auth';
import { loadGatewayConfig, type GatewayConfig } from './config';
import { syntheticAlert, syntheticAuth } from './fixtures';
import { A, ADMIN, B, SRE, STAFF, leaky, runIsolation, seedWebhooks } from './isolation';
import { startProductionGateway, type ProductionGateway } from './production';
import type { AlertRecord } from './store';

/**
 * The production mode against a real ClickHouse (18.16 here) and a real Kafka broker: rows
 * written with @tillwatch/clickhouse's writers, alerts produced to a pos.alerts topic, read back
 * through the gateway's REST API and socket.io as an analyst and as merchants.
 */
const brokers = process.env.KAFKA_BROKERS;
const chBase = process.env.CLICKHOUSE_URL;
if (!brokers || !chBase) throw new Error('KAFKA_BROKERS / CLICKHOUSE_URL not set: use test:int');

const run = randomUUID().replaceAll('-', '').slice(0, 10);
const database = `tw_gw_it_${run}`;
const chUrl = (() => {
  const u = new URL(chBase);
  u.pathname = `/${database}`;
  return u.toString();
})();
const topic = `pos.alerts.gw-it-${run}`;
const keys: ApiKeyEntry[] = [A, B, STAFF, ADMIN, SRE];
const NOW = Date.now();
/** the notifier's key for signing secrets at rest: the production gateway needs it */
const SECRET_KEY = randomBytes(32).toString('base64');

function config(): GatewayConfig {
  return loadGatewayConfig({
    PORT: '0',
    GATEWAY_WEB_DIST: '/nonexistent',
    TILLWATCH_API_KEYS: formatApiKeys(keys),
    GATEWAY_RATE_LIMIT_MAX: '100000',
    KAFKA_BROKERS: brokers,
    CLICKHOUSE_URL: chUrl,
    WEBHOOK_SECRET_KEY: SECRET_KEY,
    GATEWAY_ALERTS_TOPIC: topic,
    GATEWAY_KAFKA_GROUP_ID: `gw-it-${run}`,
    GATEWAY_RATES_POLL_MS: '200',
    LOG_LEVEL: 'silent',
  });
}

let gw: ProductionGateway;
let ch: ClickHouse;
let producer: JsonProducer<Alert>;
const sockets: Socket[] = [];
const got: Record<'analyst' | 'a' | 'b', { event: string; msg: Record<string, unknown> }[]> = {
  analyst: [],
  a: [],
  b: [],
};

const start = () =>
  startProductionGateway({ config: config(), storeOptions: { silencesRefreshMs: 500 } });

async function api(
  key: ApiKeyEntry,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: () => Record<string, unknown>; text: string }> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key.key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

/**
 * One pane of every key, as the processor writes it: 100 auths of which `faultRate` failed on
 * the issuer's side and 3 on the cardholder's; written_ms the writer's clock at the write.
 */
function panes(paneMs: number, faultRate: number): PaneInput[] {
  const faults = Math.round(100 * faultRate);
  const counts = { auths: 100, approved: 97 - faults, cat_cardholder: 3, cat_issuer: faults };
  const writtenMs = Date.now();
  const at = { paneMs, writtenMs };
  return [
    {
      ...at,
      scope: 'terminal',
      key: 'T-A1',
      merchantId: 'M-A',
      region: 'CN-44',
      counts: { ...counts, cat_issuer: 2, approved: 95 },
    },
    { ...at, scope: 'terminal', key: 'T-B1', merchantId: 'M-B', region: 'CN-31', counts },
    {
      ...at,
      scope: 'terminal',
      key: 'T-B2',
      merchantId: 'M-B',
      region: 'CN-31',
      counts: { ...counts, cat_issuer: 2, approved: 95 },
    },
    { ...at, scope: 'merchant', key: 'M-A', merchantId: 'M-A', region: 'CN-44', counts },
    { ...at, scope: 'merchant', key: 'M-B', merchantId: 'M-B', region: 'CN-31', counts },
    { ...at, scope: 'region', key: 'CN-31', region: 'CN-31', counts },
    { ...at, scope: 'region', key: 'CN-44', region: 'CN-44', counts },
    { ...at, scope: 'firmware', key: 'fw-1', counts },
    { ...at, scope: 'fleet', key: '*', counts },
  ];
}
/** the live pane's start: the pane before NOW's; the first panes are 2 min older */
const LIVE_PANE = Math.floor(NOW / 5000) * 5000 - 5000;

/** B's terminal: 3 declines '91', 2 approvals, 1 '05'; A's: 2 approvals. */
function events(): EventInput[] {
  const spec: [string, string, string, string, string][] = [
    ['T-B1', 'M-B', 'CN-31', 'txB-1', '91'],
    ['T-B1', 'M-B', 'CN-31', 'txB-2', '91'],
    ['T-B1', 'M-B', 'CN-31', 'txB-3', '91'],
    ['T-B1', 'M-B', 'CN-31', 'txB-4', '00'],
    ['T-B1', 'M-B', 'CN-31', 'txB-5', '00'],
    ['T-B1', 'M-B', 'CN-31', 'txB-6', '05'],
    ['T-A1', 'M-A', 'CN-44', 'txA-1', '00'],
    ['T-A1', 'M-A', 'CN-44', 'txA-2', '00'],
  ];
  return spec.map(([terminalId, merchantId, region, txnId, responseCode], i) => {
    const event = syntheticAuth({
      terminalId,
      merchantId,
      region,
      txnId,
      responseCode,
      ts: NOW - 30_000 + i * 1000,
    });
    return { event, raw: JSON.stringify(event), partition: 0, offset: i };
  });
}

function alerts(): Alert[] {
  const firstSeen = new Date(NOW - 60_000).toISOString();
  const at = { firstSeen, lastSeen: new Date(NOW).toISOString(), ts: new Date(NOW).toISOString() };
  return [
    syntheticAlert({
      ...at,
      alertId: 'al-A-term',
      key: 'T-A1',
      merchantId: 'M-A',
      region: 'CN-44',
    }),
    syntheticAlert({
      ...at,
      alertId: 'al-B-term',
      key: 'T-B1',
      merchantId: 'M-B',
      region: 'CN-31',
      evidence: { txnIds: ['txB-1', 'txB-2'] },
    }),
    // written without merchantId, as a merchant-scope alert may be: it is B's by its key
    syntheticAlert({
      ...at,
      alertId: 'al-B-merch',
      rule: 'card_testing',
      scope: 'merchant',
      key: 'M-B',
      merchantId: undefined,
      region: undefined,
    }),
    syntheticAlert({
      ...at,
      alertId: 'al-B-region',
      rule: 'regional_outage',
      scope: 'region',
      key: 'CN-31',
      merchantId: undefined,
      region: 'CN-31',
    }),
  ];
}

async function socket(who: keyof typeof got, key: ApiKeyEntry): Promise<Socket> {
  const s = connect(gw.url, { auth: { token: key.key }, transports: ['websocket'] });
  sockets.push(s);
  s.onAny((event: string, msg: Record<string, unknown>) => got[who].push({ event, msg }));
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
  return s;
}

const alertIds = (who: keyof typeof got) =>
  got[who]
    .filter((m) => m.event === 'alert')
    .map((m) => (m.msg.alert as Alert).alertId)
    .sort();

beforeAll(async () => {
  const t0 = performance.now();
  gw = await start();
  console.log(
    `production gateway up in ${Math.round(performance.now() - t0)} ms (migrations applied ${JSON.stringify(gw.migrations.applied)})`,
  );
  ch = createClickHouse({ url: chUrl });
  const opts = { maxDelayMs: 10 };
  await Promise.all([
    tableWriter(ch, TABLES.events, (e: EventInput) => eventToRow(e), opts).add(events()),
    tableWriter(ch, TABLES.panes, paneToRow, opts).add(panes(LIVE_PANE - 120_000, 0.5)),
    tableWriter(ch, TABLES.alerts, alertToRow, opts).add(alerts()),
  ]);
  await seedWebhooks(gw.webhooks);
  producer = createJsonProducer<Alert>(createKafka({ brokers, clientId: 'gw-it-producer' }), {
    topic,
    key: (a) => a.merchantId ?? a.key,
  });
  await producer.connect();
  await Promise.all([socket('analyst', STAFF), socket('a', A), socket('b', B)]);
  await gw.feed.ready;
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await producer?.disconnect();
  await gw?.stop();
  await ch?.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  await ch?.close();
});

describe('production mode: ClickHouse + Kafka', () => {
  it('an alert produced to pos.alerts reaches the analyst and only its own merchant, and is listed', async () => {
    const t0 = performance.now();
    const live = (id: string, merchantId: string, key: string) =>
      syntheticAlert({
        alertId: id,
        merchantId,
        key,
        region: merchantId === 'M-A' ? 'CN-44' : 'CN-31',
      });
    await producer.send([live('al-A-live', 'M-A', 'T-A1'), live('al-B-live', 'M-B', 'T-B1')]);
    await expect
      .poll(() => alertIds('analyst'), { timeout: 20_000 })
      .toEqual(['al-A-live', 'al-B-live']);
    const ms = Math.round(performance.now() - t0);
    await expect.poll(() => alertIds('b')).toEqual(['al-B-live']);
    expect(alertIds('a')).toEqual(['al-A-live']);
    console.log(`pos.alerts → analyst socket: ${ms} ms (produce, consume, persist, emit)`);

    const all = (await api(STAFF, 'GET', '/api/alerts')).json().alerts as AlertRecord[];
    expect(all.map((r) => r.alert.alertId).sort()).toEqual([
      'al-A-live',
      'al-A-term',
      'al-B-live',
      'al-B-merch',
      'al-B-region',
      'al-B-term',
    ]);
    const mine = (await api(A, 'GET', '/api/alerts')).json().alerts as AlertRecord[];
    expect(mine.map((r) => r.alert.alertId).sort()).toEqual(['al-A-live', 'al-A-term']);
    const bs = (await api(B, 'GET', '/api/alerts')).json().alerts as AlertRecord[];
    // al-B-merch was written without merchantId: B's by its merchant-scope key
    expect(bs.map((r) => r.alert.alertId).sort()).toEqual(['al-B-live', 'al-B-merch', 'al-B-term']);
    const firing = (await api(STAFF, 'GET', '/api/alerts?rule=card_testing')).json()
      .alerts as AlertRecord[];
    expect(firing.map((r) => r.alert.alertId)).toEqual(['al-B-merch']);
  });

  it('live rates: panes written as the processor writes them are pushed as windows, each merchant gets only its own', async () => {
    const before = got.analyst.length;
    await tableWriter(ch, TABLES.panes, paneToRow, { maxDelayMs: 5 }).add(panes(LIVE_PANE, 0.33));
    const ratesTo = (who: keyof typeof got) =>
      got[who].filter((m) => m.event === 'rates').flatMap((m) => m.msg.rows as RateRow[]);
    await expect
      .poll(() => ratesTo('analyst').some((r) => r.key === 'T-B1' && r.faultRate === 0.33), {
        timeout: 10_000,
      })
      .toBe(true);
    expect(got.analyst.length).toBeGreaterThan(before);
    await expect.poll(() => ratesTo('a').some((r) => r.key === 'T-A1')).toBe(true);
    expect(new Set(ratesTo('a').map((r) => r.merchantId))).toEqual(new Set(['M-A']));
    expect(ratesTo('a').every((r) => r.scope === 'terminal' || r.scope === 'merchant')).toBe(true);
    // the 5m window holds both of T-B1's panes, each once: 50 + 33 faults of 200 auths
    const liveEnd = new Date(LIVE_PANE + 5000).toISOString();
    expect(
      ratesTo('analyst').find((r) => r.key === 'T-B1' && r.window === '5m' && r.ts === liveEnd),
    ).toMatchObject({ auths: 200, faults: 83, faultRate: 0.415, merchantId: 'M-B' });

    const t = (await api(STAFF, 'GET', '/api/rates?scope=terminal&window=1m')).json()
      .rows as RateRow[];
    expect(t.map((r) => [r.key, r.faultRate])).toEqual([
      ['T-A1', 0.02],
      ['T-B1', 0.33],
      ['T-B2', 0.02],
    ]);
    const a = (await api(A, 'GET', '/api/rates?window=1m')).json().rows as RateRow[];
    expect(a.map((r) => `${r.scope}:${r.key}`).sort()).toEqual(['merchant:M-A', 'terminal:T-A1']);
    const region = (
      await api(STAFF, 'GET', '/api/rates?scope=region&region=CN-31&window=5m')
    ).json().rows as RateRow[];
    expect(region.map((r) => r.key)).toEqual(['CN-31']);
    const top = (
      await api(STAFF, 'GET', '/api/top?scope=terminal&window=5m&n=1&minAuths=10')
    ).json().rows as RateRow[];
    expect(top.map((r) => r.key)).toEqual(['T-B1']);
    const series = await api(A, 'GET', '/api/series?scope=terminal&key=T-A1&window=1m');
    expect(series.status).toBe(200);
    const points = series.json().points as { ts: string; auths: number }[];
    expect(points.length).toBeGreaterThan(0);
    // each 1m window holds one of T-A1's two panes (2 min apart), never both; none ends after
    // the newest pane
    expect(points.every((p) => p.auths === 100)).toBe(true);
    expect(Date.parse(points.at(-1)!.ts)).toBeLessThanOrEqual(LIVE_PANE + 5000);
    expect((await api(A, 'GET', '/api/series?scope=terminal&key=T-B1&window=1m')).status).toBe(404);
  });

  it('drill-down returns the raw transactions and the response codes behind an alert', async () => {
    const d = (await api(STAFF, 'GET', '/api/alerts/al-B-term/drilldown')).json() as {
      events: { txnId: string; terminalId: string }[];
      responseCodes: { code: string; category: string; count: number }[];
      matched: number;
    };
    expect(d.matched).toBe(6);
    expect(d.events.map((e) => e.txnId)).toEqual([
      'txB-6',
      'txB-5',
      'txB-4',
      'txB-3',
      'txB-2',
      'txB-1',
    ]); // newest first
    expect(d.responseCodes.map((c) => [c.code, c.count])).toEqual([
      ['91', 3],
      ['00', 2],
      ['05', 1],
    ]);
    expect(d.responseCodes[0]?.category).toBe('issuer');
    const ev = (await api(STAFF, 'GET', '/api/alerts/al-B-term/drilldown?evidenceOnly=true')).json()
      .events as { txnId: string }[];
    expect(ev.map((e) => e.txnId).sort()).toEqual(['txB-1', 'txB-2']);
    expect((await api(A, 'GET', '/api/alerts/al-B-term/drilldown')).status).toBe(404);
    expect((await api(B, 'GET', '/api/alerts/al-B-term/drilldown')).status).toBe(200);
  });

  it('an ack with a note is written to alert_actions and pushed to the rooms that see the alert', async () => {
    const r = await api(STAFF, 'POST', '/api/alerts/al-A-term/ack', {
      note: 'restarted the terminal; card reader replaced',
      author: 'Li Wei',
    });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({
      workflow: { state: 'acknowledged', acknowledgedBy: expect.stringMatching(/^analyst#/) },
    });
    const note = await api(A, 'POST', '/api/alerts/al-A-term/notes', { note: 'terminal back up' });
    expect(note.status).toBe(200);
    const audits = (who: keyof typeof got) =>
      got[who].filter((m) => m.event === 'audit').map((m) => m.msg.alertId);
    await expect.poll(() => audits('a')).toEqual(['al-A-term', 'al-A-term']);
    await expect.poll(() => audits('analyst')).toEqual(['al-A-term', 'al-A-term']);
    expect(audits('b')).toEqual([]);
    const [row] = await ch.query<{ n: number }>(
      sql`SELECT count() AS n FROM ${ident(TABLES.alertActions)} FINAL WHERE alert_id = 'al-A-term'`,
    );
    expect(row?.n).toBe(2);
  });

  it('silences persist in ClickHouse and mark matching alerts', async () => {
    const s = await api(STAFF, 'POST', '/api/silences', {
      matchers: { merchantId: 'M-A', rule: 'terminal_fault_spike' },
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      comment: 'planned maintenance at M-A',
    });
    expect(s.status).toBe(201);
    const id = s.json().id as string;
    await producer.send([
      syntheticAlert({
        alertId: 'al-A-live',
        merchantId: 'M-A',
        key: 'T-A1',
        region: 'CN-44',
        severity: 'warning',
      }),
    ]);
    await expect
      .poll(
        () =>
          got.analyst.filter(
            (m) =>
              m.event === 'alert' &&
              (m.msg.alert as Alert).alertId === 'al-A-live' &&
              m.msg.silencedBy === id,
          ).length,
        { timeout: 20_000 },
      )
      .toBe(1);
    const list = (await api(STAFF, 'GET', '/api/silences?active=true')).json().silences as {
      id: string;
    }[];
    expect(list.map((x) => x.id)).toEqual([id]);
  });

  it('a daily window is kept in ClickHouse and decides whether a silence is in force now', async () => {
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const now = Date.now();
    const make = async (start: number, end: number) => {
      const res = await api(STAFF, 'POST', '/api/silences', {
        matchers: { region: 'CN-99' },
        endsAt: new Date(now + 86_400_000).toISOString(),
        recurring: { days: [0, 1, 2, 3, 4, 5, 6], start: hhmm(start), end: hhmm(end) },
        comment: 'nightly batch window',
      });
      expect(res.status).toBe(201);
      return res.json().id as string;
    };
    const open = await make(now - 3_600_000, now + 3_600_000);
    const later = await make(now + 2 * 3_600_000, now + 3 * 3_600_000);
    const stored = (await api(STAFF, 'GET', `/api/silences/${later}`)).json();
    expect(stored.recurring).toEqual({
      days: [0, 1, 2, 3, 4, 5, 6],
      start: hhmm(now + 2 * 3_600_000),
      end: hhmm(now + 3 * 3_600_000),
      utcOffset: '+00:00',
    });
    const active = (await api(STAFF, 'GET', '/api/silences?active=true')).json().silences as {
      id: string;
    }[];
    expect(active.map((x) => x.id)).toContain(open);
    expect(active.map((x) => x.id)).not.toContain(later);
  });

  it('API keys made by an admin live in ClickHouse: known to another gateway, revoked for both', async () => {
    const made = await api(ADMIN, 'POST', '/api/keys', {
      role: 'merchant',
      merchantId: 'M-A',
      name: 'M-A reconciliation script',
    });
    expect(made.status).toBe(201);
    const { key, id } = made.json() as { key: string; id: string };
    const asKey = (path: string, base = gw.url) =>
      fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
    expect((await asKey('/api/me')).status).toBe(200);
    // the table holds the digest, never the key
    const rows = await ch.query<{ digest: string; doc: string }>(
      sql`SELECT digest, doc FROM ${ident(TABLES.apiKeys)} WHERE id = ${id}`,
    );
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(key);
    // a second gateway of the same ClickHouse knows it from its start
    const other = await startProductionGateway({
      config: loadGatewayConfig({
        PORT: '0',
        GATEWAY_WEB_DIST: '/nonexistent',
        TILLWATCH_API_KEYS: formatApiKeys(keys),
        KAFKA_BROKERS: brokers,
        CLICKHOUSE_URL: chUrl,
        WEBHOOK_SECRET_KEY: SECRET_KEY,
        GATEWAY_ALERTS_TOPIC: topic,
        GATEWAY_KAFKA_GROUP_ID: `gw-it-other-${run}`,
        LOG_LEVEL: 'silent',
      }),
    });
    try {
      expect((await asKey('/api/me', other.url)).status).toBe(200);
      expect((await api(ADMIN, 'DELETE', `/api/keys/${id}`)).status).toBe(200);
      expect((await asKey('/api/me')).status).toBe(401);
      // the other one refuses it at its next refresh (5 s)
      await expect
        .poll(async () => (await asKey('/api/me', other.url)).status, { timeout: 15_000 })
        .toBe(401);
    } finally {
      await other.stop();
    }
  });

  it('merchant A against B through every route, ClickHouse store: no leaks', async () => {
    const r = await runIsolation(gw.gateway.app, gw.store, gw.webhooks);
    const socketLeaks = got.a.filter((m) => leaky(JSON.stringify(m.msg)).length > 0);
    console.log(
      `security/REST on ClickHouse: merchant A → B attempts=${r.attempts} (webhooks ${r.webhookAttempts}) leaks=${r.leaks.length} statuses=${JSON.stringify(r.statuses)} positive-controls=${r.controls}/${r.controlsTotal}; socket messages to A=${got.a.length} leaks=${socketLeaks.length}`,
    );
    expect(r.leaks).toEqual([]);
    expect(socketLeaks).toEqual([]);
    expect(r.attempts).toBeGreaterThan(300);
    expect(r.controls).toBe(r.controlsTotal);
    expect(got.a.length).toBeGreaterThan(3);
  });

  it('after a restart: the audit trail, the silences and alerts produced while down are there', async () => {
    const silencesBefore = (await api(STAFF, 'GET', '/api/silences')).json().silences;
    for (const s of sockets.splice(0)) s.close();
    await gw.stop();
    // produced while no gateway runs, one on every partition (some never carried a message
    // before, so the group has no offset of its own there): all are read after the restart
    const down = [0, 1, 2, 3].map((p) =>
      syntheticAlert({
        alertId: `al-B-down-${p}`,
        merchantId: 'M-B',
        key: 'T-B2',
        region: 'CN-31',
      }),
    );
    await producer.producer.send({
      topic,
      messages: down.map((a, partition) => ({ partition, value: JSON.stringify(a) })),
    });
    gw = await start();
    expect(gw.migrations.applied).toEqual([]);
    const rec = (await api(STAFF, 'GET', '/api/alerts/al-A-term')).json() as unknown as AlertRecord;
    expect(rec.workflow.state).toBe('acknowledged');
    expect(rec.audit.map((e) => [e.action, e.note ?? '', e.author ?? ''])).toEqual([
      ['fired', '', ''],
      ['acknowledge', 'restarted the terminal; card reader replaced', 'Li Wei'],
      ['note', 'terminal back up', ''],
    ]);
    expect(rec.audit[2]).toMatchObject({ role: 'merchant', actor: expect.any(String) });
    expect((await api(STAFF, 'GET', '/api/silences')).json().silences).toEqual(silencesBefore);
    await expect
      .poll(
        async () =>
          ((await api(B, 'GET', '/api/alerts')).json().alerts as AlertRecord[]).map(
            (r) => r.alert.alertId,
          ),
        { timeout: 30_000, interval: 500 },
      )
      .toEqual(expect.arrayContaining(down.map((d) => d.alertId)));
    expect((await api(A, 'GET', '/api/alerts/al-B-down-0')).status).toBe(404);
  });
});
