import { z } from 'zod';
import { rateRowSchema, type RateRow } from '@tillwatch/contracts';
import type { ClickHouse } from './client';
import { PANE_COUNTER_COLUMNS, PANE_MS, type PaneCounter } from './pane-counts';
import { paneSumsToRate, paneWindowMs, zeroPaneCounts, type PaneCounts } from './pane-rows';
import { conds, epochMs, idList, limit, toDate, windowLabel } from './query-params';
import { TABLES } from './schema';
import { SqlFragment, ident, inList, join, raw, sql } from './sql';

// ---- rates, from pane counts ----------------------------------------------------------------
//
// pane_counts holds one row per key and closed 5 s pane (pane-counts.ts). A window of length W
// ending at t is the sum of the key's panes starting in [t - W, t). A pane may be there twice
// until a merge (a batch replayed after a crash), so every read below first takes each
// (scope, key, pane) once, its newest write, and sums after.

/**
 * How far back "now" looks for a scope's newest pane: the longest window the processor keeps
 * (1 h) and a margin, so that a scope whose writer stopped a while ago still shows its last hour.
 */
export const FRESHNESS_LOOKBACK_MS = 3_900_000;

/** Pane rows starting in [from, to): ts (the pane start in s) prunes day partitions and parts. */
function paneRange(from: number, to: number): SqlFragment {
  const lo = Math.max(0, from);
  return sql`ts >= ${toDate(lo)} AND ts <= ${toDate(Math.max(lo, to - 1))}
    AND pane_ms >= ${lo} AND pane_ms < ${Math.max(lo, to)}`;
}

/**
 * One row per (scope, key, pane) of the rows matched, the newest write of each: p_key, p_pane,
 * p_merchant_id, p_region, p_written and p_<counter>. Prefixed: 18.16 reads an alias that
 * shadows a column inside another aggregate as that aggregate.
 */
function dedupedPanes(
  where: SqlFragment,
  counters: readonly PaneCounter[] = PANE_COUNTER_COLUMNS,
): SqlFragment {
  const cols = counters.map((c) => `argMax(${c}, written_ms) AS p_${c}`).join(', ');
  return sql`SELECT key AS p_key, pane_ms AS p_pane,
      argMax(merchant_id, written_ms) AS p_merchant_id, argMax(region, written_ms) AS p_region,
      max(written_ms) AS p_written, ${raw(cols)}
    FROM ${ident(TABLES.panes)} WHERE ${where} GROUP BY scope, key, pane_ms`;
}

/** Sums of the deduped panes (under `cond`) as <prefix><counter>, and how many panes as <prefix>n. */
function sumColumns(
  prefix: string,
  cond?: string,
  counters: readonly PaneCounter[] = PANE_COUNTER_COLUMNS,
): string {
  const s = (c: string) => (cond ? `sumIf(p_${c}, ${cond})` : `sum(p_${c})`);
  return [
    ...counters.map((c) => `${s(c)} AS ${prefix}${c}`),
    `${cond ? `countIf(${cond})` : 'count()'} AS ${prefix}n`,
  ].join(', ');
}

type SumRow = Record<string, string | number>;

/** The sums read (the counters not asked for are 0). */
function readSums(
  r: SumRow,
  prefix: string,
  counters: readonly PaneCounter[] = PANE_COUNTER_COLUMNS,
): PaneCounts {
  const out = zeroPaneCounts();
  for (const c of counters) out[c] = Number(r[`${prefix}${c}`]);
  return out;
}

/** What a chart's point shows (SeriesPointRow's rates and auths) is made of these alone. */
const CHART_COUNTERS: readonly PaneCounter[] = [
  'auths',
  'approved',
  'cat_cardholder',
  'reversals',
  'settlement_due',
  'unsettled',
];

interface WindowsAt {
  scope: RateRow['scope'];
  /** the windows' end (ms): every window ends here */
  end: number;
  windowsMs: readonly number[];
  keys?: readonly string[] | undefined;
  merchantId?: string | undefined;
  region?: string | undefined;
}

/** The rows matched as they are, named as dedupedPanes names its (same columns, same order). */
function plainPanes(where: SqlFragment): SqlFragment {
  const cols = PANE_COUNTER_COLUMNS.map((c) => `${c} AS p_${c}`).join(', ');
  return sql`SELECT key AS p_key, pane_ms AS p_pane, merchant_id AS p_merchant_id,
      region AS p_region, written_ms AS p_written, ${raw(cols)}
    FROM ${ident(TABLES.panes)} WHERE ${where}`;
}

/** Keys with more duplicated panes than this are all read deduplicated (a rare mass replay). */
const MAX_DUPLICATED_KEYS = 1000;

/**
 * Per key, the sums of every window in `windowsMs` ending at `end` (w<i>_<counter>, w<i>_n),
 * the key's merchant and region of its newest pane, and the newest written_ms of its panes.
 * A merchant or region bound is in the WHERE of the pane rows: nothing else is summed.
 *
 * Each pane is taken once: the keys with a pane written twice (a batch replayed after a crash,
 * not merged away yet) are found first (their row count above their distinct panes), and only
 * theirs are deduplicated, the others' rows summed as they are. Deduplicating every key's
 * panes grouped by key and pane: at 100,000 terminals the 1 h window's 3 M groups passed the
 * server's memory limit for a query (fleet-reads.bench.ts in services/gateway).
 */
async function windowSumsSql(ch: ClickHouse, q: WindowsAt): Promise<SqlFragment> {
  const longest = Math.max(...q.windowsMs);
  const c = [sql`scope = ${q.scope}`, paneRange(q.end - longest, q.end)];
  // an empty key list asks for nothing: "0" keeps the query valid and the answer empty
  if (q.keys) c.push(q.keys.length ? sql`key IN ${inList(q.keys)}` : raw('0'));
  if (q.merchantId !== undefined) c.push(sql`merchant_id = ${q.merchantId}`);
  if (q.region !== undefined) c.push(sql`region = ${q.region}`);
  const where = conds(c);
  const twice = (
    await ch.query<{ key: string }>(
      sql`SELECT key FROM ${ident(TABLES.panes)} WHERE ${where}
          GROUP BY key HAVING count() != uniqExact(pane_ms) LIMIT ${MAX_DUPLICATED_KEYS + 1}`,
    )
  ).map((r) => r.key);
  let rows: SqlFragment;
  if (twice.length === 0) rows = plainPanes(where);
  else if (twice.length > MAX_DUPLICATED_KEYS) rows = dedupedPanes(where);
  else {
    const dup = sql`key IN ${inList(twice)}`;
    rows = sql`${plainPanes(conds([...c, sql`NOT (${dup})`]))}
      UNION ALL ${dedupedPanes(conds([...c, dup]))}`;
  }
  const sums = q.windowsMs
    .map((w, i) => sumColumns(`w${i}_`, w === longest ? undefined : `p_pane >= ${q.end - w}`))
    .join(', ');
  return sql`SELECT p_key AS key, argMax(p_merchant_id, p_pane) AS merchant_id,
      argMax(p_region, p_pane) AS region, max(p_written) AS written, ${raw(sums)}
    FROM (${rows}) GROUP BY p_key`;
}

/** The RateRows of one window (index i of windowSumsSql's) of a row; none when it had no pane. */
function rateOf(
  r: SumRow,
  i: number,
  scope: RateRow['scope'],
  window: string,
  end: number,
): RateRow | undefined {
  if (Number(r[`w${i}_n`]) === 0) return undefined;
  return paneSumsToRate({
    scope,
    key: String(r['key']),
    window,
    end,
    merchantId: String(r['merchant_id'] ?? ''),
    region: String(r['region'] ?? ''),
    sums: readSums(r, `w${i}_`),
  });
}

export const RATE_METRICS = {
  failureRate: 'if(w0_auths > 0, (toInt64(w0_auths) - w0_approved) / w0_auths, 0)',
  faultRate:
    'if(w0_auths > 0, (toInt64(w0_auths) - w0_approved - w0_cat_cardholder) / w0_auths, 0)',
  reversalRate: 'if(w0_auths > 0, w0_reversals / w0_auths, 0)',
  noSettlementRate: 'if(w0_settlement_due > 0, w0_unsettled / w0_settlement_due, 0)',
  auths: 'w0_auths',
  failures: 'toInt64(w0_auths) - w0_approved',
  faults: 'toInt64(w0_auths) - w0_approved - w0_cat_cardholder',
} as const;
export type RateMetric = keyof typeof RATE_METRICS;

export const rateFreshnessQuerySchema = z.object({
  scope: rateRowSchema.shape.scope.optional(),
  /** only panes starting at or after this time (default: FRESHNESS_LOOKBACK_MS before now) */
  since: epochMs.optional(),
});

/**
 * The newest pane end per scope: where the scope's current windows end (a key's window is the
 * sum of its panes before it). Cheap: scope is the sorting key's prefix.
 */
export async function queryRateFreshness(
  ch: ClickHouse,
  input: z.input<typeof rateFreshnessQuerySchema> = {},
  now = Date.now(),
): Promise<{ scope: RateRow['scope']; newest: number }[]> {
  const q = rateFreshnessQuerySchema.parse(input);
  const since = q.since ?? Math.max(0, now - FRESHNESS_LOOKBACK_MS);
  const c = [sql`ts >= ${toDate(since)}`, sql`pane_ms >= ${since}`];
  if (q.scope) c.push(sql`scope = ${q.scope}`);
  const rows = await ch.query<{ scope: RateRow['scope']; newest: string }>(
    sql`SELECT scope, max(pane_ms) AS newest FROM ${ident(TABLES.panes)}
        WHERE ${conds(c)} GROUP BY scope ORDER BY scope`,
  );
  return rows.map((r) => ({ scope: r.scope, newest: Number(r.newest) + PANE_MS }));
}

export const latestRatesQuerySchema = z.object({
  scope: rateRowSchema.shape.scope,
  window: windowLabel,
  /** where the window ends (ms, a pane boundary); default: the scope's newest pane end */
  end: epochMs.optional(),
  keys: idList.optional(),
  merchantId: z.string().min(1).max(32).optional(),
  region: z.string().min(1).max(32).optional(),
  limit: limit(1000),
});
export type LatestRatesQuery = z.input<typeof latestRatesQuerySchema>;

/** The window's end: the one asked for, else the scope's newest pane end (none: no panes lately). */
async function windowEnd(
  ch: ClickHouse,
  scope: RateRow['scope'],
  end: number | undefined,
  now: number,
): Promise<number | undefined> {
  if (end !== undefined) return Math.floor(end / PANE_MS) * PANE_MS;
  const [f] = await queryRateFreshness(ch, { scope }, now);
  return f?.newest;
}

/**
 * The current rates of every key of one scope and window (the board's table): per key, its
 * panes in [end - window, end) summed. Keys without a pane in the window are not there.
 */
export async function queryLatestRates(
  ch: ClickHouse,
  input: LatestRatesQuery,
  now = Date.now(),
): Promise<RateRow[]> {
  const q = latestRatesQuerySchema.parse(input);
  const w = paneWindowMs(q.window);
  if (w === undefined) return [];
  const end = await windowEnd(ch, q.scope, q.end, now);
  if (end === undefined) return [];
  const rows = await ch.query<SumRow>(
    sql`${await windowSumsSql(ch, { ...q, end, windowsMs: [w] })} ORDER BY key LIMIT ${q.limit}`,
  );
  return rows.map((r) => rateOf(r, 0, q.scope, q.window, end)!);
}

export const topRatesQuerySchema = latestRatesQuerySchema.extend({
  metric: z.enum(Object.keys(RATE_METRICS) as [RateMetric, ...RateMetric[]]).default('faultRate'),
  /** rates over fewer auths than this are noise, not "worst" */
  minAuths: z.number().int().nonnegative().default(20),
  limit: limit(10, 1000),
});
export type TopRatesQuery = z.input<typeof topRatesQuerySchema>;

/** Top-N worst keys by a metric of their current window (as queryLatestRates sums it). */
export async function queryTopRates(
  ch: ClickHouse,
  input: TopRatesQuery,
  now = Date.now(),
): Promise<RateRow[]> {
  const q = topRatesQuerySchema.parse(input);
  const w = paneWindowMs(q.window);
  if (w === undefined) return [];
  const end = await windowEnd(ch, q.scope, q.end, now);
  if (end === undefined) return [];
  const rows = await ch.query<SumRow>(
    sql`SELECT * FROM (${await windowSumsSql(ch, { ...q, end, windowsMs: [w] })})
        WHERE w0_auths >= ${q.minAuths}
        ORDER BY ${raw(RATE_METRICS[q.metric])} DESC, key LIMIT ${q.limit}`,
  );
  return rows.map((r) => rateOf(r, 0, q.scope, q.window, end)!);
}

export const windowRatesQuerySchema = z.object({
  scope: rateRowSchema.shape.scope,
  /** the windows' end (ms, a pane boundary) */
  end: epochMs,
  windows: z.array(windowLabel).min(1).max(16),
  /** the live-rates poll's keys: bounded by their bytes (the gateway's KEY_BYTES_PER_READ) */
  keys: z.array(z.string().min(1).max(128)).max(20_000),
});

/**
 * Every given window of the given keys, all ending at `end`, in one read: what the live-rates
 * poll pushes for the keys that got new panes. Per row also `written`, the newest written_ms of
 * the key's panes in the longest window.
 */
export async function queryWindowRates(
  ch: ClickHouse,
  input: z.input<typeof windowRatesQuerySchema>,
): Promise<{ row: RateRow; written: number }[]> {
  const q = windowRatesQuerySchema.parse(input);
  const windows = q.windows.flatMap((label) => {
    const ms = paneWindowMs(label);
    return ms === undefined ? [] : [{ label, ms }];
  });
  if (windows.length === 0 || q.keys.length === 0) return [];
  const end = Math.floor(q.end / PANE_MS) * PANE_MS;
  const rows = await ch.query<SumRow>(
    sql`${await windowSumsSql(ch, { scope: q.scope, end, windowsMs: windows.map((w) => w.ms), keys: q.keys })}
        ORDER BY key`,
  );
  return rows.flatMap((r) =>
    windows.flatMap((w, i) => {
      const row = rateOf(r, i, q.scope, w.label, end);
      return row ? [{ row, written: Number(r['written']) }] : [];
    }),
  );
}

export const rateChangesQuerySchema = z.object({
  /** panes starting at or after this time */
  since: epochMs,
  /** rows written (written_ms, the writer's clock) after this */
  afterWritten: z.number().int().nonnegative(),
  limit: limit(10_000, 100_000),
});

/**
 * The keys that got pane rows written since the last look, with the newest written_ms of each:
 * the gateway polls this to push live rates (the processor publishes no rate topic). Reads the
 * recent panes only: `since` prunes day partitions and, through the parts' min/max of ts, most
 * of today's parts.
 */
export async function queryRateChanges(
  ch: ClickHouse,
  input: z.input<typeof rateChangesQuerySchema>,
): Promise<{ scope: RateRow['scope']; key: string; written: number }[]> {
  const q = rateChangesQuerySchema.parse(input);
  const rows = await ch.query<{ scope: RateRow['scope']; key: string; written: string }>(
    sql`SELECT scope, key, max(written_ms) AS written FROM ${ident(TABLES.panes)}
        WHERE ts >= ${toDate(q.since)} AND pane_ms >= ${q.since} AND written_ms > ${q.afterWritten}
        GROUP BY scope, key ORDER BY written, scope, key LIMIT ${q.limit}`,
  );
  return rows.map((r) => ({ scope: r.scope, key: r.key, written: Number(r.written) }));
}

export const seriesQuerySchema = z.object({
  scope: rateRowSchema.shape.scope,
  key: z.string().max(128),
  window: windowLabel,
  /** window ends from here... */
  from: epochMs,
  /** ...to here, inclusive */
  to: epochMs,
  /** merchant bound: panes of another merchant's terminal are not summed */
  merchantId: z.string().min(1).max(32).optional(),
  /** at most this many points */
  limit: limit(5000, 100_000),
  /**
   * Window ends on multiples of this step (rounded up to whole panes); a window every pane
   * (5 s) when absent.
   */
  stepMs: z.number().int().min(1000).max(86_400_000).optional(),
});
export type SeriesQuery = z.input<typeof seriesQuerySchema>;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

interface WindowPoint {
  end: number;
  merchantId: string;
  region: string;
  sums: PaneCounts;
}

/**
 * One key's window at every step boundary in [from, to] whose window holds a pane (no pane in
 * it: no point, as window_stats had no row for a quiet window). ClickHouse sums the deduped
 * panes per bucket; the windows are made of buckets here:
 * - step >= window: each window lies in its own step, the last `window` of it: only those panes
 *   are read, one bucket per step;
 * - step < window: buckets of gcd(step, window), a window every step/g buckets slides over them,
 *   one window's length of panes read before `from`.
 */
async function seriesWindows(
  ch: ClickHouse,
  q: z.infer<typeof seriesQuerySchema>,
  /** the counters to sum (others are 0), and whether the key's merchant and region are read */
  only: { counters: readonly PaneCounter[]; labels: boolean } = {
    counters: PANE_COUNTER_COLUMNS,
    labels: true,
  },
): Promise<WindowPoint[]> {
  const w = paneWindowMs(q.window);
  if (w === undefined) return [];
  const step = Math.ceil((q.stepMs ?? PANE_MS) / PANE_MS) * PANE_MS;
  const first = Math.ceil(q.from / step) * step;
  const last = Math.min(Math.floor(q.to / step) * step, first + (q.limit - 1) * step);
  if (last < first) return [];
  const wide = step >= w;
  const g = wide ? step : gcd(step, w);
  const c = [sql`scope = ${q.scope}`, sql`key = ${q.key}`, paneRange(first - w, last)];
  if (q.merchantId !== undefined) c.push(sql`merchant_id = ${q.merchantId}`);
  if (wide && step > w) c.push(sql`pane_ms % ${step} >= ${step - w}`);
  // Sums straight from the rows, with each bucket's row count and distinct panes: counts that
  // differ mean a pane written twice (a batch replayed after a crash, not merged away yet), and
  // then the range is summed again from deduplicated panes. Deduplicating every time cost 4-6x
  // the plain sums on a month of a key's panes (the entity-page bench's 30-day chart). Aliases
  // unlike the columns': 18.16 reads an alias that shadows a column in WHERE as the alias.
  const where = conds(c);
  // the string columns are most of the bytes of a month of panes: read only when wanted
  const labels = only.labels
    ? 'argMax(merchant_id, pane_ms) AS b_merchant, argMax(region, pane_ms) AS b_region,'
    : '';
  const plain = await ch.query<SumRow>(
    sql`SELECT intDiv(pane_ms, ${g}) AS b, ${raw(labels)} uniqExact(pane_ms) AS s_u,
          ${raw(only.counters.map((col) => `sum(${col}) AS s_${col}`).join(', '))},
          count() AS s_n
        FROM ${ident(TABLES.panes)} WHERE ${where} GROUP BY b ORDER BY b`,
  );
  const rows = plain.some((r) => Number(r['s_n']) !== Number(r['s_u']))
    ? await ch.query<SumRow>(
        sql`SELECT intDiv(p_pane, ${g}) AS b, argMax(p_merchant_id, p_pane) AS b_merchant,
              argMax(p_region, p_pane) AS b_region, ${raw(sumColumns('s_', undefined, only.counters))}
            FROM (${dedupedPanes(where, only.counters)}) GROUP BY b ORDER BY b`,
      )
    : plain;
  const buckets = rows.map((r) => ({
    b: Number(r['b']),
    n: Number(r['s_n']),
    merchantId: String(r['b_merchant'] ?? ''),
    region: String(r['b_region'] ?? ''),
    sums: readSums(r, 's_', only.counters),
  }));
  if (wide) {
    return buckets.map((k) => ({
      end: (k.b + 1) * step,
      merchantId: k.merchantId,
      region: k.region,
      sums: k.sums,
    }));
  }
  // slide: add the buckets that start before the end, drop those that start before end - w
  const out: WindowPoint[] = [];
  const sums = zeroPaneCounts();
  let panes = 0;
  let added = 0;
  let dropped = 0;
  for (let end = first; end <= last; end += step) {
    for (; added < buckets.length && buckets[added]!.b * g < end; added++) {
      const k = buckets[added]!;
      for (const col of PANE_COUNTER_COLUMNS) sums[col] += k.sums[col];
      panes += k.n;
    }
    for (; dropped < added && buckets[dropped]!.b * g < end - w; dropped++) {
      const k = buckets[dropped]!;
      for (const col of PANE_COUNTER_COLUMNS) sums[col] -= k.sums[col];
      panes -= k.n;
    }
    if (panes === 0) continue;
    const newest = buckets[added - 1]!;
    out.push({
      end,
      merchantId: newest.merchantId,
      region: newest.region,
      sums: { ...sums },
    });
  }
  return out;
}

/** One key's rates over time (a chart): a window at every step boundary, oldest first. */
export async function querySeries(ch: ClickHouse, input: SeriesQuery): Promise<RateRow[]> {
  const q = seriesQuerySchema.parse(input);
  return (await seriesWindows(ch, q)).map((p) =>
    paneSumsToRate({ scope: q.scope, key: q.key, window: q.window, ...p }),
  );
}

/** A chart's point: the rates of the window ending at one step boundary. */
export interface SeriesPointRow {
  /** the window's end, ISO 8601 */
  ts: string;
  auths: number;
  failureRate: number;
  faultRate: number;
  reversalRate: number;
  noSettlementRate: number;
  /** pane counts hold no volume baseline: always null */
  volumeRatio: number | null;
}

export const seriesPointsQuerySchema = seriesQuerySchema.extend({
  stepMs: z.number().int().min(1000).max(86_400_000),
});
export type SeriesPointsQuery = z.input<typeof seriesPointsQuerySchema>;

/** querySeries with a step, the chart's fields only. */
export async function querySeriesPoints(
  ch: ClickHouse,
  input: SeriesPointsQuery,
): Promise<SeriesPointRow[]> {
  const q = seriesPointsQuerySchema.parse(input);
  const only = { counters: CHART_COUNTERS, labels: false };
  return (await seriesWindows(ch, q, only)).map((p) => {
    const r = paneSumsToRate({ scope: q.scope, key: q.key, window: q.window, ...p });
    return {
      ts: r.ts,
      auths: r.auths,
      failureRate: r.failureRate,
      faultRate: r.faultRate,
      reversalRate: r.reversalRate,
      noSettlementRate: r.noSettlementRate,
      volumeRatio: null,
    };
  });
}

/**
 * The gcd of the bucket length and every range start: every range's and bucket's edge is a
 * multiple of it, so sums over chunks of this length add up to the buckets exactly. Whole
 * panes, else a pane would straddle two buckets.
 */
export function regionChunkMs(starts: readonly number[], bucketMs: number): number {
  const chunk = starts.reduce((a, s) => gcd(a, s), bucketMs);
  if (chunk <= 0 || chunk % PANE_MS !== 0) {
    throw new Error('region auths: range starts and buckets must be whole panes');
  }
  return chunk;
}

/**
 * Auths of the region panes per region and chunk (regionChunkMs) over the ranges [start, start
 * + span): exact, each pane once. Chunks with no auths are left out.
 */
export async function queryRegionAuthChunks(
  ch: ClickHouse,
  q: { starts: readonly number[]; spanMs: number; bucketMs: number },
): Promise<{ region: string; from: number; auths: number }[]> {
  if (q.starts.length === 0) return [];
  const chunk = regionChunkMs(q.starts, q.bucketMs);
  const ranges = q.starts.map((s) => sql`(${paneRange(s, s + q.spanMs)})`);
  const rows = await ch.query<{ region: string; c: string; auths: string }>(
    sql`SELECT p_key AS region, intDiv(p_pane, ${chunk}) * ${chunk} AS c, sum(p_auths) AS auths
        FROM (${dedupedPanes(sql`scope = 'region' AND (${join(ranges, ' OR ')})`, ['auths'])})
        GROUP BY region, c HAVING auths > 0 ORDER BY region, c`,
  );
  return rows.map((r) => ({ region: r.region, from: Number(r.c), auths: Number(r.auths) }));
}

/**
 * The end of the newest region pane written, when there is one in the 15 minutes before `now`
 * (panes more than a minute ahead of `now`, a terminal's clock far off, are not looked at).
 */
export async function queryRegionPanesUpTo(
  ch: ClickHouse,
  now: number,
): Promise<number | undefined> {
  const since = Math.max(0, Math.floor(now) - 900_000);
  const [row] = await ch.query<{ t: string; n: string }>(
    sql`SELECT max(pane_ms) AS t, count() AS n FROM ${ident(TABLES.panes)}
        WHERE scope = 'region' AND ts >= ${toDate(since)} AND pane_ms >= ${since}
          AND pane_ms <= ${Math.floor(now) + 60_000}`,
  );
  if (!row || Number(row.n) === 0) return undefined;
  return Number(row.t) + PANE_MS;
}

/** The merchant of a terminal's newest pane since `since`, if it had one. */
export async function queryTerminalMerchant(
  ch: ClickHouse,
  terminalId: string,
  since: number,
): Promise<string | undefined> {
  const [row] = await ch.query<{ m: string }>(
    sql`SELECT merchant_id AS m FROM ${ident(TABLES.panes)}
        WHERE scope = 'terminal' AND key = ${terminalId} AND ts >= ${toDate(since)}
          AND merchant_id != ''
        ORDER BY pane_ms DESC LIMIT 1`,
  );
  return row?.m || undefined;
}
