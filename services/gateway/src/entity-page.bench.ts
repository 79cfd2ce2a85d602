/**
 * `npm run bench -w @tillwatch/gateway` (after socket.bench.ts), or alone:
 * `node --import tsx src/entity-page.bench.ts` (issue 13).
 *
 * The board's terminal page against ClickHouse holding 30 days: what the page asks the gateway
 * on load and on a range change (dashboards/web/src/views/entity.ts, api.ts, time-range.ts),
 * timed over real HTTP against the production gateway (startProductionGateway: ClickHouseStore,
 * Kafka alert feed). Prints tables; asserts nothing about time. The target, p95 < 300 ms, is
 * printed beside each figure.
 *
 * Data (the dense case): one busy terminal that sells every ~10 s, all day, for 30 days ending
 * now, written as the processor writes it: pane_counts rows, one per key and 5 s pane that had
 * an event (the terminal's and its merchant's: a pane about every 10 s, 259,200 each); its
 * region's and the fleet's (key *) in every pane (518,400 each: 40 and 2,000 auths a minute);
 * its events_raw (one sale every ~10 s, 259,200); 300 alerts (firing, then resolved: 600 rows).
 * Around it, NOISE_TERMINALS quieter terminals (a sale every 10 min: a pane of the terminal, its
 * merchant and its region per sale, 2 alerts each) so the tables hold more than one key. Inserted a day at a time in blocks of <= 50k rows; no OPTIMIZE ... FINAL: the parts
 * stay as inserted, merged only by ClickHouse's own background merges, which the bench lets
 * finish before it measures (the active part counts are printed).
 *
 * What the page asks (entity.ts as of issue 13): on load, at once, GET /api/rules (staff: the
 * fault-spike rule's threshold), /api/alerts?key=K, /api/events (the newest 200 of the range)
 * and the chart: /api/series of the terminal and, as soon as the rules are in, /api/series of
 * the fleet (scope fleet, key *) over the same range and window, in parallel. A range change
 * asks the chart's two and the events again. Per case (load: 1h; range change: 24h, 7d, 30d, an absolute 6 h two weeks
 * ago): after 3 warm-up rounds, ROUNDS rounds, each timed from its first request to its last
 * answer; the reference is GET /api/me (auth, no store) over as many rounds, in the same run.
 * ClickHouse's own work per request kind is read from the JSON format's `statistics` (rows_read,
 * bytes_read, elapsed) of the same store reads, made once through a second store: the local
 * 18.16 server is configured without system.query_log (deploy/local/clickhouse/start.mjs).
 *
 * Env: BENCH_ROUNDS (50), BENCH_NOISE_TERMINALS (100), BENCH_KEEP_DB=1 (keep the database).
 * Kafka and ClickHouse: KAFKA_BROKERS / CLICKHOUSE_URL if set, else started for the run
 * (@tillwatch/testkit) and stopped at the end, also on failure.
 */
import { randomBytes } from 'node:crypto';
import {
  TABLES,
  alertToRow,
  createClickHouse,
  PANE_MS,
  eventToRow,
  ident,
  paneToRow,
  sql,
  type ClickHouse,
  type PaneCounts,
  type PaneInput,
  type PaneRow,
  type SqlFragment,
} from '@tillwatch/clickhouse';
import { categorize, type Alert, type TerminalEvent } from '@tillwatch/contracts';
import { startServices } from '@tillwatch/testkit/services';
import { formatApiKeys } from './auth';
import { waitForMerges } from './bench-merges';
import { ClickHouseStore } from './clickhouse-store';
import { loadGatewayConfig } from './config';
import { syntheticAlert } from './fixtures';
import { STAFF } from './isolation';
import { startProductionGateway, type ProductionGateway } from './production';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 50);
const WARMUP = 3;
const NOISE_TERMINALS = Number(process.env['BENCH_NOISE_TERMINALS'] ?? 100);
/** the other terminals: a sale every 10 min */
const NOISE_SALE_MS = 600_000;
/** `BENCH_KEEP_DB=1`: leave the filled database behind (with KAFKA_BROKERS / CLICKHOUSE_URL set) */
const KEEP_DB = process.env['BENCH_KEEP_DB'] === '1';
const TARGET_MS = 300;
const DAY = 86_400_000;
const DAYS = 30;
const BUSY = { terminalId: 'T-BUSY-0001', merchantId: 'M-BUSY', region: 'CN-31' };
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

// ---- the fill -------------------------------------------------------------------------------

/** a deterministic pseudo-random stream (the same data every run) */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** fault rate of the busy till at t: a few percent, with an incident now and then */
function faultRateAt(t: number): number {
  const hour = Math.floor(t / 3_600_000);
  const incident = hour % 37 === 0 ? 0.35 : 0;
  return Math.min(1, 0.02 + 0.01 * Math.sin(t / 5_400_000) + incident);
}

/** a scope's pane in every pane of [from, to): `perMinute` auths, faultRateAt's share failing */
function densePanes(
  scope: 'region' | 'fleet',
  key: string,
  from: number,
  to: number,
  perMinute: number,
  writtenMs: number,
): PaneRow[] {
  const out: PaneRow[] = [];
  const auths = Math.max(1, Math.round((perMinute * PANE_MS) / 60_000));
  for (let t = Math.ceil(from / PANE_MS) * PANE_MS; t < to; t += PANE_MS) {
    const faults = Math.round(faultRateAt(t) * auths);
    out.push(
      paneToRow({
        scope,
        key,
        ...(scope === 'region' ? { region: key } : {}),
        paneMs: t,
        counts: { auths, approved: auths - faults, cat_issuer: faults },
        writtenMs,
      }),
    );
  }
  return out;
}

/**
 * The panes the processor writes for these events in `scopes`: per key and 5 s pane, the
 * counts of its auths (approved or a failure's category).
 */
function eventPanes(
  events: readonly TerminalEvent[],
  scopes: readonly ('terminal' | 'merchant' | 'region')[],
  writtenMs: number,
): PaneRow[] {
  const panes = new Map<string, PaneInput & { counts: Partial<PaneCounts> }>();
  for (const e of events) {
    if (e.type !== 'auth') continue;
    const paneMs = Math.floor(e.ts / PANE_MS) * PANE_MS;
    const cat = categorize(e.responseCode);
    for (const scope of scopes) {
      const key = { terminal: e.terminalId, merchant: e.merchantId, region: e.region }[scope];
      const k = `${scope}|${key}|${paneMs}`;
      let p = panes.get(k);
      if (!p) {
        p = {
          scope,
          key,
          ...(scope !== 'region' ? { merchantId: e.merchantId } : {}),
          region: e.region,
          paneMs,
          counts: {},
          writtenMs,
        };
        panes.set(k, p);
      }
      const c = p.counts;
      const col = cat === 'approved' ? 'approved' : (`cat_${cat}` as keyof PaneCounts);
      c.auths = (c.auths ?? 0) + 1;
      c[col] = (c[col] ?? 0) + 1;
    }
  }
  return [...panes.values()].map(paneToRow);
}

const CODES = ['00', '00', '00', '00', '00', '00', '00', '00', '05', '91', '51', '55'];
let evSeq = 0;
function auth(terminalId: string, merchantId: string, region: string, ts: number, r: () => number) {
  evSeq += 1;
  const event = {
    type: 'auth',
    eventId: `ev-${terminalId}-${evSeq}`,
    ts,
    terminalId,
    merchantId,
    region,
    txnId: `tx-${evSeq}`,
    amount: 500 + Math.floor(r() * 20_000),
    currency: 'CNY',
    responseCode: CODES[Math.floor(r() * CODES.length)]!,
  } as TerminalEvent;
  return {
    event,
    row: eventToRow({ event, raw: JSON.stringify(event), partition: evSeq % 4, offset: evSeq }),
  };
}

async function insertChunks(ch: ClickHouse, table: string, rows: object[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 50_000) {
    const chunk = rows.slice(i, i + 50_000);
    // a kept-alive socket the server closed meanwhile (EPIPE before the body was sent): again
    for (let attempt = 1; ; attempt++) {
      try {
        await ch.insert(table, chunk);
        break;
      } catch (e) {
        if (attempt >= 3 || !(e as { retriable?: boolean }).retriable) throw e;
        log(`insert into ${table} failed (${(e as Error).message}), again`);
      }
    }
  }
}

interface Fill {
  ms: number;
  counts: Record<string, number>;
}

async function fill(ch: ClickHouse, now: number): Promise<Fill> {
  const t0 = performance.now();
  const start = now - DAYS * DAY;
  const written = now;
  const r = rng(13);
  const noise = Array.from({ length: NOISE_TERMINALS }, (_, i) => ({
    terminalId: `T-${String(i).padStart(4, '0')}`,
    merchantId: `M-${String(i % 20).padStart(3, '0')}`,
    region: `CN-${10 + (i % 8)}`,
  }));
  const counts: Record<string, number> = {
    'pane_counts (busy terminal)': 0,
    'pane_counts (its merchant)': 0,
    'pane_counts (its region)': 0,
    'pane_counts (fleet)': 0,
    'pane_counts (other terminals, their merchants, regions)': 0,
    'events_raw (busy terminal)': 0,
    'events_raw (other terminals)': 0,
    'alerts (busy terminal, rows)': 0,
    'alerts (other terminals, rows)': 0,
  };
  const add = (k: string, n: number) => (counts[k] = (counts[k] ?? 0) + n);
  // a day at a time: each insert block lands in one or two day partitions, as a writer's would
  for (let d = start; d < now; d += DAY) {
    const to = Math.min(now, d + DAY);
    const busyEvents: ReturnType<typeof auth>[] = [];
    for (let t = d; t < to; t += 10_000) {
      busyEvents.push(
        auth(BUSY.terminalId, BUSY.merchantId, BUSY.region, t + Math.floor(r() * 3000), r),
      );
    }
    add('events_raw (busy terminal)', busyEvents.length);
    const noiseEvents: ReturnType<typeof auth>[] = [];
    for (const n of noise) {
      for (let t = d + Math.floor(r() * NOISE_SALE_MS); t < to; t += NOISE_SALE_MS) {
        noiseEvents.push(auth(n.terminalId, n.merchantId, n.region, t, r));
      }
    }
    add('events_raw (other terminals)', noiseEvents.length);
    // the busy till's and its merchant's panes from its sales; its region and the fleet hold
    // other terminals' sales too: a pane in every pane (the fleet's fault rate is drawn under
    // the terminal's, entity.ts guide)
    const busy = eventPanes(
      busyEvents.map((e) => e.event),
      ['terminal'],
      written,
    );
    const merchant = eventPanes(
      busyEvents.map((e) => e.event),
      ['merchant'],
      written,
    );
    const region = densePanes('region', BUSY.region, d, to, 40, written);
    const fleet = densePanes('fleet', '*', d, to, 2000, written);
    const others = eventPanes(
      noiseEvents.map((e) => e.event),
      ['terminal', 'merchant', 'region'],
      written,
    );
    add('pane_counts (busy terminal)', busy.length);
    add('pane_counts (its merchant)', merchant.length);
    add('pane_counts (its region)', region.length);
    add('pane_counts (fleet)', fleet.length);
    add('pane_counts (other terminals, their merchants, regions)', others.length);
    await insertChunks(ch, TABLES.panes, [...busy, ...merchant, ...region, ...fleet, ...others]);
    await insertChunks(
      ch,
      TABLES.events,
      [...busyEvents, ...noiseEvents].map((e) => e.row),
    );
  }
  // alerts: 300 on the busy till (each firing, then resolved 20 min later), 2 per other till
  const alerts: Alert[] = [];
  const alertPair = (id: string, at: number, who: typeof BUSY) => {
    const firstSeen = new Date(at).toISOString();
    const end = new Date(at + 1_200_000).toISOString();
    const base = {
      alertId: id,
      key: who.terminalId,
      merchantId: who.merchantId,
      region: who.region,
      firstSeen,
    };
    alerts.push(syntheticAlert({ ...base, lastSeen: firstSeen, ts: firstSeen }));
    alerts.push(syntheticAlert({ ...base, status: 'resolved', lastSeen: end, ts: end }));
  };
  for (let i = 0; i < 300; i++)
    alertPair(`al-busy-${i}`, start + Math.floor(((i + r()) * DAYS * DAY) / 300), BUSY);
  add('alerts (busy terminal, rows)', alerts.length);
  for (const n of noise)
    for (let i = 0; i < 2; i++)
      alertPair(`al-${n.terminalId}-${i}`, start + Math.floor(r() * DAYS * DAY), n);
  add('alerts (other terminals, rows)', alerts.length - counts['alerts (busy terminal, rows)']!);
  await insertChunks(ch, TABLES.alerts, alerts.map(alertToRow));
  return { ms: performance.now() - t0, counts };
}

// ---- the page's requests --------------------------------------------------------------------

const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
/** time-range.ts isoMinute */
const isoMinute = (ms: number) =>
  `${new Date(Math.floor(ms / 60_000) * 60_000).toISOString().slice(0, 16)}Z`;
/** time-range.ts chartWindow with the picked window 1m (the default) */
function chartWindow(spanMs: number): string {
  if (spanMs <= 3 * 3_600_000) return '1m';
  if (spanMs <= 2 * DAY) return '15m';
  return '1h';
}

interface Range {
  from: number;
  to: number;
  live: boolean;
}

interface Case {
  name: string;
  /** what the page asks for this range */
  range: (now: number) => Range;
  /** the page load also asks the terminal's alerts and the rules in force */
  load: boolean;
}

const relative = (span: number) => (now: number) => ({ from: now - span, to: now, live: true });
const CASES: Case[] = [
  { name: 'page load (1h, window 1m)', range: relative(3_600_000), load: true },
  { name: 'range → 24h (window 15m)', range: relative(DAY), load: false },
  { name: 'range → 7d (window 1h)', range: relative(7 * DAY), load: false },
  { name: 'range → 30d (window 1h)', range: relative(30 * DAY), load: false },
  {
    name: 'absolute 6h, 2 weeks ago (15m)',
    range: (now) => {
      const from = Date.parse(isoMinute(now - 14 * DAY));
      const to = Date.parse(isoMinute(from + 6 * 3_600_000));
      return { from, to, live: false };
    },
    load: false,
  },
];

function paths(c: Case, now: number): Record<string, string> {
  const r = c.range(now);
  const key = encodeURIComponent(BUSY.terminalId);
  const w = chartWindow(r.to - r.from);
  const out: Record<string, string> = {
    series: `/api/series?scope=terminal&key=${key}&window=${w}&since=${iso(r.from)}&until=${iso(r.to)}`,
    // entity.ts loadEvents: a relative range has no until; an absolute one ends at its `to`
    events: `/api/events?scope=terminal&key=${key}&limit=200${r.live ? '' : `&until=${iso(r.to)}`}&since=${iso(r.from)}`,
    // entity.ts guide(): the fleet's fault rate under the terminal's, same window and range
    'fleet series': `/api/series?scope=fleet&key=*&window=${w}&since=${iso(r.from)}&until=${iso(r.to)}`,
  };
  if (c.load) {
    out['alerts'] = `/api/alerts?key=${key}`;
    out['rules'] = '/api/rules';
  }
  return out;
}

async function get(
  base: string,
  path: string,
): Promise<{ ms: number; body: Record<string, unknown> }> {
  const t0 = performance.now();
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${STAFF.key}` } });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text.slice(0, 200)}`);
  return { ms, body: JSON.parse(text) as Record<string, unknown> };
}

interface Round {
  total: number;
  each: Record<string, number>;
  bodies: Record<string, Record<string, unknown>>;
}

async function round(base: string, c: Case): Promise<Round> {
  const p = paths(c, Date.now());
  const each: Record<string, number> = {};
  const bodies: Record<string, Record<string, unknown>> = {};
  const timed = async (k: string) => {
    const g = await get(base, p[k]!);
    each[k] = g.ms;
    bodies[k] = g.body;
  };
  const t0 = performance.now();
  // entity.ts: on load the rules (staff), the alerts, the events and the chart at once; the
  // chart asks the terminal's series and (rules in) the fleet's over the same range at the same
  // time, and draws when both answered. A range change: the chart's two, and the events.
  const rules = c.load ? timed('rules') : Promise.resolve();
  const chart = (async () => {
    const c0 = performance.now();
    await Promise.all([timed('series'), rules.then(() => timed('fleet series'))]);
    each['chart (series ∥ fleet)'] = performance.now() - c0;
  })();
  await Promise.all([chart, timed('events'), ...(c.load ? [timed('alerts'), rules] : [])]);
  return { total: performance.now() - t0, each, bodies };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
const ms1 = (x: number) => Math.round(x * 10) / 10;
const verdict = (p95: number) =>
  p95 < TARGET_MS ? `met (< ${TARGET_MS})` : `MISSED (≥ ${TARGET_MS})`;

// ---- ClickHouse's work per request kind ----------------------------------------------------

interface Stat {
  queries: number;
  rows_read: number;
  bytes_read: number;
  elapsed_ms: number;
}

/** the same ClickHouse, its SELECTs in the JSON format, whose `statistics` say what they read */
function measuredClickHouse(ch: ClickHouse, into: { current: Stat }): ClickHouse {
  return {
    ...ch,
    async query<T>(q: SqlFragment): Promise<T[]> {
      const rs = await ch.client.query({ query: q.text, format: 'JSON' });
      const j = (await rs.json()) as {
        data: T[];
        statistics?: { elapsed: number; rows_read: number; bytes_read: number };
      };
      const s = into.current;
      s.queries += 1;
      s.rows_read += Number(j.statistics?.rows_read ?? 0);
      s.bytes_read += Number(j.statistics?.bytes_read ?? 0);
      s.elapsed_ms += Number(j.statistics?.elapsed ?? 0) * 1000;
      return j.data;
    },
  };
}

async function chWork(ch: ClickHouse, now: number) {
  const into = { current: { queries: 0, rows_read: 0, bytes_read: 0, elapsed_ms: 0 } };
  const store = await ClickHouseStore.open({
    ch: measuredClickHouse(ch, into),
    ratesPollMs: 0,
    silencesRefreshMs: 0,
  });
  const out = [];
  try {
    for (const c of CASES) {
      const r = c.range(now);
      const kinds: [string, () => Promise<unknown>][] = [
        [
          'series',
          () =>
            store.series({
              scope: 'terminal',
              key: BUSY.terminalId,
              window: chartWindow(r.to - r.from),
              since: r.from,
              until: r.to,
            }),
        ],
        [
          'fleet series',
          () =>
            store.series({
              scope: 'fleet',
              key: '*',
              window: chartWindow(r.to - r.from),
              since: r.from,
              until: r.to,
            }),
        ],
        [
          'events',
          () =>
            store.rawEvents({
              terminalId: BUSY.terminalId,
              limit: 200,
              since: r.from,
              ...(r.live ? {} : { until: r.to }),
            }),
        ],
      ];
      if (c.load)
        kinds.push(['alerts', () => store.listAlerts({ key: BUSY.terminalId, limit: 100 })]);
      for (const [kind, run] of kinds) {
        into.current = { queries: 0, rows_read: 0, bytes_read: 0, elapsed_ms: 0 };
        await run();
        const s = into.current;
        out.push({
          case: c.name,
          request: kind,
          queries: s.queries,
          rows_read: s.rows_read,
          MB_read: Math.round(s.bytes_read / 1e4) / 100,
          'CH elapsed ms': ms1(s.elapsed_ms),
        });
      }
    }
  } finally {
    await store.close();
  }
  return out;
}

// ---- main -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const services = await startServices({ log });
  let gw: ProductionGateway | undefined;
  let ch: ClickHouse | undefined;
  const database = `tw_bench_page_${Date.now().toString(36)}`;
  try {
    const u = new URL(services.env.CLICKHOUSE_URL!);
    u.pathname = `/${database}`;
    const chUrl = u.toString();
    gw = await startProductionGateway({
      config: loadGatewayConfig({
        PORT: '0',
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_WEB_DIST: '/nonexistent',
        TILLWATCH_API_KEYS: formatApiKeys([STAFF]),
        GATEWAY_RATE_LIMIT_MAX: '1000000',
        KAFKA_BROKERS: services.env.KAFKA_BROKERS!,
        CLICKHOUSE_URL: chUrl,
        WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64'),
        GATEWAY_ALERTS_TOPIC: `pos.alerts.bench-${database}`,
        GATEWAY_KAFKA_GROUP_ID: `bench-${database}`,
        LOG_LEVEL: 'silent',
      }),
    });
    ch = createClickHouse({ url: chUrl, requestTimeoutMs: 120_000 });
    const [ver] = await ch.query<{ v: string }>(sql`SELECT version() AS v`);
    log(`gateway ${gw.url}, ClickHouse ${ver?.v}, database ${database}`);

    const now = Date.now();
    log(`filling 30 days (${NOISE_TERMINALS} other terminals)...`);
    const f = await fill(ch, now);
    // the bulk fill leaves merges behind that a month of steady writes would have finished long
    // ago: let ClickHouse finish them (no OPTIMIZE), at most 3 min
    const mergeWait = await waitForMerges(ch, database);
    const tables = await ch.query<{ table: string; rows: number; parts: number; MB: number }>(
      sql`SELECT table, sum(rows) AS rows, count() AS parts, round(sum(bytes_on_disk) / 1e6, 1) AS MB
          FROM system.parts WHERE database = ${database} AND active
            AND table IN (${sql`${TABLES.panes}`}, ${sql`${TABLES.events}`}, ${sql`${TABLES.alerts}`})
          GROUP BY table ORDER BY table`,
    );
    console.log(
      `\nFill: ${Math.round(f.ms / 100) / 10} s, then ${Math.round(mergeWait / 100) / 10} s until ClickHouse's own background merges were done (no OPTIMIZE)`,
    );
    console.table(Object.entries(f.counts).map(([what, rows]) => ({ what, rows })));
    console.table(tables.map((t) => ({ ...t, rows: Number(t.rows), parts: Number(t.parts) })));

    const base = gw.url;
    // the reference: an authenticated request that does not touch the store
    for (let i = 0; i < WARMUP; i++) await get(base, '/api/me');
    const me: number[] = [];
    for (let i = 0; i < ROUNDS; i++) me.push((await get(base, '/api/me')).ms);
    const meP95 = quantile(me, 0.95);

    const table = [];
    const perRequest = [];
    for (const c of CASES) {
      for (let i = 0; i < WARMUP; i++) await round(base, c);
      const rounds: Round[] = [];
      for (let i = 0; i < ROUNDS; i++) rounds.push(await round(base, c));
      const totals = rounds.map((r) => r.total);
      const last = rounds[rounds.length - 1]!;
      const p95 = quantile(totals, 0.95);
      const ev = last.bodies['events'] as { events: unknown[]; matched: number };
      table.push({
        case: c.name,
        p50: ms1(quantile(totals, 0.5)),
        p95: ms1(p95),
        max: ms1(Math.max(...totals)),
        target: verdict(p95),
        'p95 / ref': Math.round((p95 / meP95) * 10) / 10,
        points: (last.bodies['series'] as { points: unknown[] }).points.length,
        'fleet points': (last.bodies['fleet series'] as { points: unknown[] }).points.length,
        events: ev.events.length,
        'events in range': ev.matched,
        ...(c.load
          ? { alerts: (last.bodies['alerts'] as { alerts: unknown[] }).alerts.length }
          : {}),
      });
      for (const k of Object.keys(last.each)) {
        const xs = rounds.map((r) => r.each[k]!);
        perRequest.push({
          case: c.name,
          request: k,
          p50: ms1(quantile(xs, 0.5)),
          p95: ms1(quantile(xs, 0.95)),
          max: ms1(Math.max(...xs)),
        });
      }
      log(`${c.name}: p95 ${ms1(p95)} ms`);
    }
    console.log(
      `\nTerminal page, 30 days in ClickHouse: ${ROUNDS} rounds after ${WARMUP} warm-up; ms from the first request to the last answer (requests in parallel)`,
    );
    console.log(
      `reference GET /api/me: p50 ${ms1(quantile(me, 0.5))}, p95 ${ms1(meP95)}, max ${ms1(Math.max(...me))} ms`,
    );
    console.table(table);
    console.log('\nPer request (same rounds)');
    console.table(perRequest);
    console.log(
      "\nClickHouse's work per request kind (one round, the store's reads; JSON format statistics)",
    );
    console.table(await chWork(ch, Date.now()));
  } finally {
    await gw?.stop().catch((e: unknown) => log(`gateway stop: ${String(e)}`));
    if (!KEEP_DB)
      await ch?.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`).catch(() => undefined);
    await ch?.close();
    await services.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
