import { randomUUID } from 'node:crypto';
import {
  TABLES,
  createClickHouse,
  ensureDatabase,
  eventToRow,
  ident,
  migrate,
  rateToRow,
  sql,
  type ClickHouse,
} from '@tillwatch/clickhouse';
import { windowLabel, type RegionTrafficReport, type TerminalEvent } from '@tillwatch/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from './clickhouse-store';
import { defaultGatewayConfig } from './config';
import { syntheticAuth, syntheticRow } from './fixtures';
import { createGateway } from './gateway';
import { TrafficPlan, trafficReport } from './region-traffic';
import type { RegionWindowRow } from './region-windows';
import { alertLedgerContract } from './store-contract';
import { countedAuths, regionWindowRows, seeded } from './test-window-rows';

/**
 * The alert-ledger contract (store-contract.ts) against ClickHouseStore on a real ClickHouse
 * (18.16 here): the same cases MemoryStore passes in memory-store.test.ts. One private
 * database for the file; the contract keeps its ids unique per case.
 */
const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL not set: use test:int');

const database = `tw_gw_ledger_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
let ch: ClickHouse;

beforeAll(async () => {
  await ensureDatabase({ url }, database);
  ch = createClickHouse({ url, database });
  await migrate(ch);
});

afterAll(async () => {
  await ch?.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  await ch?.close();
});

/** The region rows the processor would write for these events, as window_stats rows. */
function regionRows(rows: readonly RegionWindowRow[]) {
  return rows.map((r) =>
    rateToRow(
      syntheticRow({
        scope: 'region',
        key: r.region,
        region: r.region,
        window: windowLabel(r.windowMs),
        ts: new Date(r.end).toISOString(),
        auths: r.auths,
      }),
      1,
    ),
  );
}

/**
 * Region traffic reads the processor's region rows in window_stats: pushEvents writes them too,
 * from every event of the regions it touches so far (regionWindowRows: the rollup stage's rows).
 */
const pushed = new Map<string, TerminalEvent[]>();

alertLedgerContract('ClickHouseStore', async ({ now, maxAuditPerAlert }) => {
  const store = await ClickHouseStore.open({
    ch,
    now,
    ratesPollMs: 0,
    silencesRefreshMs: 0,
    ...(maxAuditPerAlert ? { maxAuditPerAlert } : {}),
  });
  return {
    store,
    pushAlert: async (a) => {
      const r = await store.ingestAlerts([a]);
      if (r.accepted !== 1) throw new Error(`alert ${a.alertId} rejected`);
    },
    pushEvents: async (events) => {
      await ch.insert(
        TABLES.events,
        events.map((event, offset) =>
          eventToRow({ event, raw: JSON.stringify(event), partition: 0, offset }),
        ),
      );
      for (const e of events) pushed.set(e.region, [...(pushed.get(e.region) ?? []), e]);
      const regions = new Set(events.map((e) => e.region));
      await ch.insert(
        TABLES.rates,
        regionRows(regionWindowRows([...regions].flatMap((r) => pushed.get(r)!))),
      );
    },
    close: () => store.close(),
  };
});

describe('GET /api/regions/traffic on ClickHouse', () => {
  const DAY = 86_400_000;
  const HOUR = 3_600_000;
  const sre = { key: 'sre-key-traffic-000000001', role: 'sre' as const };
  const config = defaultGatewayConfig({ apiKeys: [sre], webDist: '/nonexistent' });
  let tch: ClickHouse;
  const tdb = `${database}_traffic`;

  beforeAll(async () => {
    await ensureDatabase({ url: url! }, tdb);
    tch = createClickHouse({ url: url!, database: tdb });
    await migrate(tch);
  });
  afterAll(async () => {
    await tch?.command(sql`DROP DATABASE IF EXISTS ${ident(tdb)}`);
    await tch?.close();
  });

  async function traffic(
    events: readonly TerminalEvent[],
  ): Promise<{ body: RegionTrafficReport; expected: RegionTrafficReport }> {
    const store = await ClickHouseStore.open({
      ch: tch,
      ratesPollMs: 0,
      silencesRefreshMs: 0,
    });
    const gw = await createGateway({ config, store });
    try {
      const res = await gw.app.inject({
        url: '/api/regions/traffic',
        headers: { authorization: `Bearer ${sre.key}` },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json<RegionTrafficReport>();
      const plan = new TrafficPlan(Date.parse(body.to), config.timeZones);
      return {
        body,
        expected: trafficReport(
          plan,
          countedAuths(events, {
            starts: plan.starts(),
            spanMs: plan.spanMs,
            bucketMs: plan.bucketMs,
          }),
        ),
      };
    } finally {
      await gw.close();
    }
  }

  it('the figures of the events behind the region rows; events_raw is not what is read', async () => {
    const now = Date.now();
    const rnd = seeded(5);
    const events: TerminalEvent[] = [];
    const auth = (region: string, ts: number) =>
      syntheticAuth({ terminalId: `T-${region}`, merchantId: 'M-traffic', region, ts });
    // the last hour and the same hour of the 7 days before, each with the hour before it:
    // a busy region, a quiet one, one in bursts, one only today
    for (let k = 7; k >= 0; k--) {
      const end = now - k * DAY - 1000;
      for (let t = end - 2 * HOUR; t < end; t += 1000) {
        if (rnd() < 0.5) events.push(auth('CN-11', t));
        if (rnd() < 0.005) events.push(auth('CN-31', t));
        if (rnd() < 0.3 && Math.floor(t / 97_000) % 3 === 0) events.push(auth('CN-42', t));
        if (k === 0 && rnd() < 0.01) events.push(auth('CN-51', t));
      }
    }
    await tch.insert(TABLES.rates, regionRows(regionWindowRows(events)));
    // events_raw holds other figures: half the events, so a read of it would not match
    await tch.insert(
      TABLES.events,
      events
        .filter((_, i) => i % 2 === 0)
        .map((event, offset) =>
          eventToRow({ event, raw: JSON.stringify(event), partition: 0, offset }),
        ),
    );
    const { body, expected } = await traffic(events);
    // the hour ends at the whole minute of the gateway's clock when it answered, read between
    // `now` and `after` (building and inserting 8 days of events may cross a minute boundary)
    const after = Date.now();
    const to = Date.parse(body.to);
    expect(to % 60_000).toBe(0);
    expect(to).toBeGreaterThanOrEqual(Math.floor(now / 60_000) * 60_000);
    expect(to).toBeLessThanOrEqual(Math.floor(after / 60_000) * 60_000);
    expect(body.regions.map((r) => r.region)).toEqual(['CN-11', 'CN-31', 'CN-42', 'CN-51']);
    expect(body.regions.find((r) => r.region === 'CN-11')!.normalDays).toBe(7);
    expect(body).toEqual(expected);
  });

  it('the hour ends at the last minute the region rows reach, when they trail the clock', async () => {
    const now = Date.now();
    // a region whose rows end 3 min ago: the newest boundary the processor closed
    const last = now - 180_000;
    const events = Array.from({ length: 40 }, (_, i) =>
      syntheticAuth({
        terminalId: 'T-lag',
        merchantId: 'M-traffic',
        region: 'CN-35',
        ts: last - i * 30_000,
      }),
    );
    await tch.command(sql`TRUNCATE TABLE ${ident(TABLES.rates)}`);
    await tch.insert(TABLES.rates, regionRows(regionWindowRows(events)));
    const { body, expected } = await traffic(events);
    const newest = Math.ceil((last + 1) / 5000) * 5000;
    expect(Date.parse(body.to)).toBe(Math.floor(newest / 60_000) * 60_000);
    expect(body).toEqual(expected);
  });
});
