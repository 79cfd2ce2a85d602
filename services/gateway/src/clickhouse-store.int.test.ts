import { randomUUID } from 'node:crypto';
import {
  TABLES,
  createClickHouse,
  ensureDatabase,
  eventToRow,
  ident,
  migrate,
  paneToRow,
  sql,
  type ClickHouse,
  type PaneInput,
} from '@tillwatch/clickhouse';
import type { RateRow, RegionTrafficReport, TerminalEvent } from '@tillwatch/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriesStep } from './clickhouse-reads';
import { ClickHouseStore } from './clickhouse-store';
import { defaultGatewayConfig } from './config';
import { syntheticAuth } from './fixtures';
import { createGateway } from './gateway';
import { TrafficPlan, trafficReport } from './region-traffic';
import { alertLedgerContract } from './store-contract';
import { countedAuths, regionPanes, seeded } from './test-window-rows';

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

/** The region pane rows the processor would write for these events. */
const regionRows = (events: readonly TerminalEvent[]) => regionPanes(events).map(paneToRow);

/**
 * Region traffic reads the processor's region panes in pane_counts: pushEvents writes them too,
 * each pane once (a pane of a region touched again is written again, as a replay would).
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
      await ch.insert(TABLES.panes, regionRows([...regions].flatMap((r) => pushed.get(r)!)));
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

  it('the figures of the events behind the region panes; events_raw is not what is read', async () => {
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
    await tch.insert(TABLES.panes, regionRows(events));
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

  it('the hour ends at the last minute the region panes reach, when they trail the clock', async () => {
    const now = Date.now();
    // a region whose panes end 3 min ago: the newest pane the processor closed
    const last = now - 180_000;
    const events = Array.from({ length: 40 }, (_, i) =>
      syntheticAuth({
        terminalId: 'T-lag',
        merchantId: 'M-traffic',
        region: 'CN-35',
        ts: last - i * 30_000,
      }),
    );
    await tch.command(sql`TRUNCATE TABLE ${ident(TABLES.panes)}`);
    await tch.insert(TABLES.panes, regionRows(events));
    const { body, expected } = await traffic(events);
    const newest = Math.ceil((last + 1) / 5000) * 5000;
    expect(Date.parse(body.to)).toBe(Math.floor(newest / 60_000) * 60_000);
    expect(body).toEqual(expected);
  });
});

describe('rates from pane counts on ClickHouse', () => {
  let pch: ClickHouse;
  const pdb = `${database}_panes`;
  /** the terminals' newest pane ends here: every current window ends at E */
  const E = Date.UTC(2026, 4, 5, 10, 0, 0);
  const WRITTEN = E + 12_000;

  const pane = (p: Omit<PaneInput, 'writtenMs'> & { writtenMs?: number }) =>
    paneToRow({ writtenMs: WRITTEN, ...p });
  const term = (key: string, merchantId: string, region: string) => ({
    scope: 'terminal' as const,
    key,
    merchantId,
    region,
  });
  const T1 = term('T-1', 'M-A', 'CN-31');
  const T2 = term('T-2', 'M-B', 'CN-44');
  const T3 = term('T-3', 'M-A', 'CN-31');
  /** T-2's one pane: written twice below, counted once */
  const t2Pane = pane({
    ...T2,
    paneMs: E - 10_000,
    counts: {
      auths: 20,
      approved: 10,
      cat_terminal: 10,
      reversals: 2,
      settlement_due: 4,
      unsettled: 1,
    },
  });

  /** T-S: a pane every 5 s for the 2 h before E, each 4th written twice */
  const seriesPanes = Array.from({ length: 1440 }, (_, i) => {
    const auths = (i % 7) + 1;
    return pane({
      scope: 'terminal',
      key: 'T-S',
      merchantId: 'M-A',
      region: 'CN-31',
      paneMs: E - 7_200_000 + i * 5000,
      counts: { auths, approved: auths - (i % 3 === 0 ? 1 : 0), cat_issuer: i % 3 === 0 ? 1 : 0 },
    });
  });

  beforeAll(async () => {
    await ensureDatabase({ url: url! }, pdb);
    pch = createClickHouse({ url: url!, database: pdb });
    await migrate(pch);
    // duplicates must stay duplicates while the tests look
    await pch.command(sql`SYSTEM STOP MERGES ${ident(TABLES.panes)}`);
    await pch.insert(TABLES.panes, [
      pane({
        ...T1,
        paneMs: E - 5000,
        counts: { auths: 10, approved: 7, cat_issuer: 2, cat_cardholder: 1 },
      }),
      // the first pane of the 1m window ending at E, and the last one before it
      pane({ ...T1, paneMs: E - 60_000, counts: { auths: 4, approved: 4 } }),
      pane({ ...T1, paneMs: E - 65_000, counts: { auths: 6, cat_timeout: 6 } }),
      // the first pane of the 1h window, and one older
      pane({ ...T1, paneMs: E - 3_600_000, counts: { auths: 1, approved: 1 } }),
      pane({ ...T1, paneMs: E - 3_605_000, counts: { auths: 100, approved: 100 } }),
      t2Pane,
      pane({ ...T3, paneMs: E - 400_000, counts: { auths: 3, approved: 3 } }),
      pane({
        scope: 'merchant',
        key: 'M-A',
        merchantId: 'M-A',
        region: 'CN-31',
        paneMs: E - 5000,
        counts: { auths: 10, approved: 7 },
      }),
      pane({
        scope: 'region',
        key: 'CN-31',
        region: 'CN-31',
        paneMs: E - 5000,
        counts: { auths: 10, approved: 7 },
      }),
      pane({ scope: 'fleet', key: '*', paneMs: E - 5000, counts: { auths: 30, approved: 17 } }),
      ...seriesPanes,
    ]);
    // a replay after a crash: the same rows again, in another block
    await pch.insert(TABLES.panes, [t2Pane, ...seriesPanes.filter((_, i) => i % 4 === 0)]);
  });
  afterAll(async () => {
    await pch?.command(sql`SYSTEM START MERGES ${ident(TABLES.panes)}`);
    await pch?.command(sql`DROP DATABASE IF EXISTS ${ident(pdb)}`);
    await pch?.close();
  });

  const open = (now = E + 20_000) =>
    ClickHouseStore.open({ ch: pch, now: () => now, ratesPollMs: 0, silencesRefreshMs: 0 });

  it('current rates: each key’s panes in [end - window, end) summed once, the window ending at the scope’s newest pane end', async () => {
    const [stored] = await pch.query<{ n: string }>(
      sql`SELECT count() AS n FROM ${ident(TABLES.panes)} WHERE key = 'T-2'`,
    );
    expect(Number(stored!.n)).toBe(2); // not vacuous: T-2's pane is there twice
    const store = await open();
    try {
      const at = new Date(E).toISOString();
      const rows = await store.currentRates({ scope: 'terminal', window: '1m' });
      expect(rows).toEqual([
        {
          scope: 'terminal',
          key: 'T-1',
          window: '1m',
          ts: at,
          auths: 14,
          approved: 11,
          failures: 3,
          faults: 2,
          byCategory: {
            approved: 11,
            cardholder: 1,
            issuer: 2,
            terminal: 0,
            security: 0,
            timeout: 0,
            other: 0,
          },
          inputErrors: 0,
          reversals: 0,
          unreversedTimeouts: 0,
          settlementDue: 0,
          unsettled: 0,
          heartbeats: 0,
          failureRate: 3 / 14,
          faultRate: 2 / 14,
          reversalRate: 0,
          noSettlementRate: 0,
          merchantId: 'M-A',
          region: 'CN-31',
        },
        {
          scope: 'terminal',
          key: 'T-2',
          window: '1m',
          ts: at,
          auths: 20,
          approved: 10,
          failures: 10,
          faults: 10,
          byCategory: {
            approved: 10,
            cardholder: 0,
            issuer: 0,
            terminal: 10,
            security: 0,
            timeout: 0,
            other: 0,
          },
          inputErrors: 0,
          reversals: 2,
          unreversedTimeouts: 0,
          settlementDue: 4,
          unsettled: 1,
          heartbeats: 0,
          failureRate: 0.5,
          faultRate: 0.5,
          reversalRate: 0.1,
          noSettlementRate: 0.25,
          merchantId: 'M-B',
          region: 'CN-44',
        },
        // T-3 has no pane in the last minute; T-S's newest pane ended at E too
        expect.objectContaining({
          key: 'T-S',
          ts: at,
          // its last 12 panes, each once
          auths: seriesPanes.slice(-12).reduce((n, p) => n + p.auths, 0),
        }),
      ]);
      // the field order window_stats rows had
      expect(Object.keys(rows[0]!)).toEqual([
        'scope',
        'key',
        'window',
        'ts',
        'auths',
        'approved',
        'failures',
        'faults',
        'byCategory',
        'inputErrors',
        'reversals',
        'unreversedTimeouts',
        'settlementDue',
        'unsettled',
        'heartbeats',
        'failureRate',
        'faultRate',
        'reversalRate',
        'noSettlementRate',
        'merchantId',
        'region',
      ]);
      const auths = async (window: string) =>
        (await store.currentRates({ scope: 'terminal', window }))
          .filter((r) => r.key !== 'T-S')
          .map((r) => [r.key, r.auths, r.ts]);
      expect(await auths('5m')).toEqual([
        ['T-1', 20, at],
        ['T-2', 20, at],
      ]);
      expect(await auths('15m')).toEqual([
        ['T-1', 20, at],
        ['T-2', 20, at],
        ['T-3', 3, at],
      ]);
      expect(await auths('1h')).toEqual([
        ['T-1', 21, at],
        ['T-2', 20, at],
        ['T-3', 3, at],
      ]);
      // a merchant sees its own terminals and itself only, whatever it asks
      const mine = await store.currentRates({ window: '1m', merchantId: 'M-A' });
      expect(mine.map((r) => `${r.scope}:${r.key}:${r.merchantId}`)).toEqual([
        'merchant:M-A:M-A',
        'terminal:T-1:M-A',
        'terminal:T-S:M-A',
      ]);
      expect(
        await store.currentRates({ scope: 'terminal', key: 'T-2', merchantId: 'M-A' }),
      ).toEqual([]);
      expect(await store.currentRates({ scope: 'fleet', merchantId: 'M-A' })).toEqual([]);
      // no window asked: every served window of every scope
      const all = await store.currentRates({ scope: 'region' });
      expect(all.map((r) => [r.window, r.key, r.auths])).toEqual([
        ['1m', 'CN-31', 10],
        ['5m', 'CN-31', 10],
        ['15m', 'CN-31', 10],
        ['1h', 'CN-31', 10],
      ]);
      expect(await store.currentRates({ scope: 'region', region: 'CN-44' })).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('top: the worst current windows by a metric, over enough auths', async () => {
    const store = await open();
    try {
      const top = await store.top({
        scope: 'terminal',
        window: '5m',
        metric: 'faultRate',
        n: 5,
        minAuths: 20,
      });
      // T-2 0.5; T-1 (20 auths, 11 approved, 1 cardholder's) 8/20; T-S 299 auths, fewer faults
      expect(top.map((r) => [r.key, r.faultRate])).toEqual([
        ['T-2', 0.5],
        ['T-1', 0.4],
        ['T-S', top[2]!.faultRate],
      ]);
      expect(top[2]!.faultRate).toBeLessThan(0.4);
      expect(
        (
          await store.top({
            scope: 'terminal',
            window: '5m',
            metric: 'faultRate',
            n: 5,
            minAuths: 20,
            merchantId: 'M-B',
          })
        ).map((r) => r.key),
      ).toEqual(['T-2']);
      expect(
        await store.top({
          scope: 'region',
          window: '5m',
          metric: 'faultRate',
          n: 5,
          minAuths: 0,
          merchantId: 'M-B',
        }),
      ).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('series: the window at every step boundary, summed from each pane once', async () => {
    const store = await open();
    try {
      // what the panes say, summed the plain way (each pane once)
      const expected = (window: number, step: number, from: number, to: number) => {
        const out = [];
        for (let end = Math.ceil(from / step) * step; end <= to; end += step) {
          const ps = seriesPanes.filter((p) => p.pane_ms >= end - window && p.pane_ms < end);
          if (ps.length === 0) continue;
          const auths = ps.reduce((n, p) => n + p.auths, 0);
          const faults = ps.reduce((n, p) => n + p.auths - p.approved, 0);
          out.push({ ts: new Date(end).toISOString(), auths, faultRate: faults / auths });
        }
        return out;
      };
      const cases: [window: string, ms: number, from: number, to: number][] = [
        ['1m', 60_000, E - 3_600_000, E], // step 10 s < window
        ['1h', 3_600_000, E - 3_600_000, E], // step 10 s, 360 buckets a window
        ['1m', 60_000, E - 86_400_000, E], // step 90 s > window: only each step's last minute
        ['5m', 300_000, E - 86_400_000, E + 86_400_000], // past the newest pane: ends at E
      ];
      for (const [window, ms, since, until] of cases) {
        const step = seriesStep(since, Math.min(until, E), 10_000, ms);
        const points = await store.series({ scope: 'terminal', key: 'T-S', window, since, until });
        expect(points, `${window} ${since}`).toBeDefined();
        expect(
          points!.map((p) => ({ ts: p.ts, auths: p.auths, faultRate: p.faultRate })),
          `${window} from ${since}`,
        ).toEqual(expected(ms, step, since, Math.min(until, E)));
        expect(points!.every((p) => p.volumeRatio === null)).toBe(true);
      }
      // another merchant's terminal: nothing (the route answers 404)
      expect(
        await store.series({ scope: 'terminal', key: 'T-S', window: '1m', merchantId: 'M-B' }),
      ).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('live rates: panes written as the processor writes them (written_ms its clock) are pushed, once', async () => {
    // an own database: "now" is the real clock here, and the other panes are not recent
    const ldb = `${database}_live`;
    await ensureDatabase({ url: url! }, ldb);
    const lch = createClickHouse({ url: url!, database: ldb });
    await migrate(lch);
    const store = await ClickHouseStore.open({ ch: lch, ratesPollMs: 0, silencesRefreshMs: 0 });
    const pushed: RateRow[][] = [];
    store.subscribe((e) => {
      if (e.type === 'rates') pushed.push(e.rows);
    });
    try {
      const N = Math.floor(Date.now() / 5000) * 5000;
      const L1 = term('T-L1', 'M-A', 'CN-31');
      const write = (rows: PaneInput[]) => lch.insert(TABLES.panes, rows.map(paneToRow));
      await write([
        {
          ...L1,
          paneMs: N - 10_000,
          counts: { auths: 5, approved: 4, cat_cardholder: 1 },
          writtenMs: Date.now(),
        },
        { ...L1, paneMs: N - 70_000, counts: { auths: 2, approved: 2 }, writtenMs: Date.now() },
        {
          scope: 'region',
          key: 'CN-31',
          region: 'CN-31',
          paneMs: N - 10_000,
          counts: { auths: 5 },
          writtenMs: Date.now(),
        },
      ]);
      expect(await store.pollRates()).toBe(8);
      const at = (t: number) => new Date(t).toISOString();
      const seen = (rows: RateRow[]) =>
        rows.map((r) => `${r.scope}:${r.key}:${r.window}:${r.auths}:${r.ts}`).sort();
      expect(seen(pushed[0]!)).toEqual(
        [
          ...['1m:5', '5m:7', '15m:7', '1h:7'].map((w) => `terminal:T-L1:${w}:${at(N - 5000)}`),
          ...['1m', '5m', '15m', '1h'].map((w) => `region:CN-31:${w}:5:${at(N - 5000)}`),
        ].sort(),
      );
      expect(pushed[0]!.find((r) => r.key === 'T-L1' && r.window === '1m')).toMatchObject({
        merchantId: 'M-A',
        failures: 1,
        faults: 0,
        failureRate: 0.2,
      });
      // nothing new: nothing pushed
      expect(await store.pollRates()).toBe(0);
      // a new pane of T-L1: its windows again, ending at the new newest pane end; the region
      // got no pane and is not pushed
      await write([
        { ...L1, paneMs: N - 5000, counts: { auths: 1, approved: 1 }, writtenMs: Date.now() },
      ]);
      expect(await store.pollRates()).toBe(4);
      expect(seen(pushed[1]!)).toEqual(
        ['1m:6', '5m:8', '15m:8', '1h:8'].map((w) => `terminal:T-L1:${w}:${at(N)}`).sort(),
      );
      // a batch that lands late: its written_ms is older than what the last poll saw
      const late = Date.now() - 10_000;
      await write([
        {
          ...term('T-L2', 'M-B', 'CN-44'),
          paneMs: N - 5000,
          counts: { auths: 3 },
          writtenMs: late,
        },
      ]);
      expect(await store.pollRates()).toBe(4);
      expect(seen(pushed[2]!)).toEqual(
        ['1m', '5m', '15m', '1h'].map((w) => `terminal:T-L2:${w}:3:${at(N)}`).sort(),
      );
      // a replay of the same panes (same counts, a newer written_ms) sums the same windows
      await write([
        { ...L1, paneMs: N - 5000, counts: { auths: 1, approved: 1 }, writtenMs: Date.now() + 1 },
      ]);
      await store.pollRates();
      expect(seen(pushed.at(-1)!)).toEqual(seen(pushed[1]!));
    } finally {
      await store.close();
      await lch.command(sql`DROP DATABASE IF EXISTS ${ident(ldb)}`);
      await lch.close();
    }
  });
});
