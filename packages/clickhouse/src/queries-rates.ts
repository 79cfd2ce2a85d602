import { z } from 'zod';
import { rateRowSchema, type RateRow } from '@tillwatch/contracts';
import type { ClickHouse } from './client';
import { conds, epochMs, idList, limit, toDate, windowLabel } from './query-params';
import { RATE_COLUMNS, rowToRate, type RateTableRow } from './rows';
import { TABLES } from './schema';
import { SqlFragment, ident, inList, raw, sql } from './sql';

// ---- rates ------------------------------------------------------------------------------

export const RATE_METRICS = {
  failureRate: 'failure_rate',
  faultRate: 'fault_rate',
  reversalRate: 'reversal_rate',
  noSettlementRate: 'no_settlement_rate',
  auths: 'auths',
  failures: 'failures',
  faults: 'faults',
} as const;
export type RateMetric = keyof typeof RATE_METRICS;

export const latestRatesQuerySchema = z.object({
  scope: rateRowSchema.shape.scope,
  window: windowLabel,
  /** only panes ending at or after this time (default: the last hour) */
  since: epochMs.optional(),
  keys: idList.optional(),
  merchantId: z.string().min(1).max(32).optional(),
  region: z.string().min(1).max(32).optional(),
  limit: limit(1000),
});
export type LatestRatesQuery = z.input<typeof latestRatesQuerySchema>;

/** Latest row per key: argMax by (pane end, version) picks one row among replayed duplicates. */
/** Every column but key, of the newest row of a group by (ts_ms, version), as l_<column>. */
const LATEST_COLUMNS = RATE_COLUMNS.filter((c) => c !== 'key')
  // Aliases must not shadow columns used inside other aggregates: prefix them.
  .map((c) => `argMax(${c}, (ts_ms, version)) AS l_${c}`)
  .join(', ');

function latestPerKey(where: SqlFragment): SqlFragment {
  return sql`SELECT key, ${raw(LATEST_COLUMNS)} FROM ${ident(TABLES.rates)} WHERE ${where} GROUP BY key`;
}

function unprefix(r: Record<string, unknown>): RateTableRow {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) out[k.startsWith('l_') ? k.slice(2) : k] = v;
  return out as RateTableRow;
}

function rateWhere(q: z.infer<typeof latestRatesQuerySchema>, now: number): SqlFragment {
  const c = [
    sql`scope = ${q.scope}`,
    sql`window = ${q.window}`,
    sql`ts >= ${toDate(q.since ?? now - 3_600_000)}`,
  ];
  // An empty key list asks for nothing: "0" keeps the query valid and the answer empty.
  if (q.keys) c.push(q.keys.length ? sql`key IN ${inList(q.keys)}` : raw('0'));
  if (q.merchantId) c.push(sql`merchant_id = ${q.merchantId}`);
  if (q.region) c.push(sql`region = ${q.region}`);
  return conds(c);
}

/** The current rates of every key of one scope and window (the board's table). */
export async function queryLatestRates(
  ch: ClickHouse,
  input: LatestRatesQuery,
  now = Date.now(),
): Promise<RateRow[]> {
  const q = latestRatesQuerySchema.parse(input);
  const rows = await ch.query<Record<string, unknown>>(
    sql`${latestPerKey(rateWhere(q, now))} ORDER BY key LIMIT ${q.limit}`,
  );
  return rows.map((r) => rowToRate(unprefix(r)));
}

export const topRatesQuerySchema = latestRatesQuerySchema.extend({
  metric: z.enum(Object.keys(RATE_METRICS) as [RateMetric, ...RateMetric[]]).default('faultRate'),
  /** rates over fewer auths than this are noise, not "worst" */
  minAuths: z.number().int().nonnegative().default(20),
  limit: limit(10, 1000),
});
export type TopRatesQuery = z.input<typeof topRatesQuerySchema>;

/** Top-N worst keys by a metric, on each key's latest pane. */
export async function queryTopRates(
  ch: ClickHouse,
  input: TopRatesQuery,
  now = Date.now(),
): Promise<RateRow[]> {
  const q = topRatesQuerySchema.parse(input);
  const col = raw(`l_${RATE_METRICS[q.metric]}`);
  const rows = await ch.query<Record<string, unknown>>(
    sql`SELECT * FROM (${latestPerKey(rateWhere(q, now))})
        WHERE l_auths >= ${q.minAuths}
        ORDER BY ${col} DESC, key LIMIT ${q.limit}`,
  );
  return rows.map((r) => rowToRate(unprefix(r)));
}

export const seriesQuerySchema = z.object({
  scope: rateRowSchema.shape.scope,
  key: z.string().max(128),
  window: windowLabel,
  from: epochMs,
  to: epochMs,
  /** merchant bound: rows of another merchant's terminal are not returned */
  merchantId: z.string().min(1).max(32).optional(),
  limit: limit(5000, 100_000),
  /**
   * At most one row per step (the last pane of each step, by pane end then version): a month of
   * a 1m window is 518,400 rows, a chart needs a few hundred. Without it, every row (FINAL).
   */
  stepMs: z.number().int().min(1000).max(86_400_000).optional(),
});
export type SeriesQuery = z.input<typeof seriesQuerySchema>;

/** One key's rates over time (a chart), one row per pane end (or per step), oldest first. */
export async function querySeries(ch: ClickHouse, input: SeriesQuery): Promise<RateRow[]> {
  const q = seriesQuerySchema.parse(input);
  if (q.stepMs !== undefined) {
    // the newest row of each step by (ts_ms, version): what FINAL would keep of its last pane,
    // without FINAL's merge of every row of the range. PREWHERE on the key's columns: the other
    // ~40 columns are read only where the key is (18.16 picks its own PREWHERE column, not
    // these: a month of a 1h window read 4x the bytes in the entity-page bench without it)
    const rows = await ch.query<Record<string, unknown>>(
      sql`SELECT key, ${raw(LATEST_COLUMNS)} FROM ${ident(TABLES.rates)}
          PREWHERE scope = ${q.scope} AND window = ${q.window} AND key = ${q.key}
          WHERE ts >= ${toDate(q.from)} AND ts <= ${toDate(q.to)}
            AND ${q.merchantId ? sql`merchant_id = ${q.merchantId}` : raw('1')}
          GROUP BY key, intDiv(ts_ms, ${q.stepMs})
          ORDER BY l_ts_ms LIMIT ${q.limit}`,
    );
    return rows.map((r) => rowToRate(unprefix(r)));
  }
  const rows = await ch.query<RateTableRow>(
    sql`SELECT * FROM ${ident(TABLES.rates)} FINAL
        WHERE scope = ${q.scope} AND window = ${q.window} AND key = ${q.key}
          AND ts >= ${toDate(q.from)} AND ts <= ${toDate(q.to)}
          AND ${q.merchantId ? sql`merchant_id = ${q.merchantId}` : raw('1')}
        ORDER BY ts_ms LIMIT ${q.limit}`,
  );
  return rows.map(rowToRate);
}

/** A chart's point: the rates of the newest pane of one step. */
export interface SeriesPointRow {
  /** the pane end, ISO 8601 */
  ts: string;
  auths: number;
  failureRate: number;
  faultRate: number;
  reversalRate: number;
  noSettlementRate: number;
  volumeRatio: number | null;
}

export const seriesPointsQuerySchema = seriesQuerySchema.extend({
  stepMs: z.number().int().min(1000).max(86_400_000),
});
export type SeriesPointsQuery = z.input<typeof seriesPointsQuerySchema>;

/**
 * querySeries with a step, the chart's columns only: the newest row of each step by (ts_ms,
 * version), its rates: seven of window_stats' ~30 columns: a month of a busy key's 1h rows took
 * 2.5x as long with every column (the entity-page bench, 18.16), and a chart draws these.
 */
export async function querySeriesPoints(
  ch: ClickHouse,
  input: SeriesPointsQuery,
): Promise<SeriesPointRow[]> {
  const q = seriesPointsQuerySchema.parse(input);
  const latest = (c: string) => raw(`argMax(${c}, (ts_ms, version))`);
  const rows = await ch.query<{
    t: number;
    auths: number;
    failure: number;
    fault: number;
    reversal: number;
    noSettlement: number;
    volume: number | null;
  }>(
    sql`SELECT max(ts_ms) AS t, ${latest('auths')} AS auths, ${latest('failure_rate')} AS failure,
          ${latest('fault_rate')} AS fault, ${latest('reversal_rate')} AS reversal,
          ${latest('no_settlement_rate')} AS noSettlement, ${latest('volume_ratio')} AS volume
        FROM ${ident(TABLES.rates)}
        PREWHERE scope = ${q.scope} AND window = ${q.window} AND key = ${q.key}
        WHERE ts >= ${toDate(q.from)} AND ts <= ${toDate(q.to)}
          AND ${q.merchantId ? sql`merchant_id = ${q.merchantId}` : raw('1')}
        GROUP BY intDiv(ts_ms, ${q.stepMs})
        ORDER BY t LIMIT ${q.limit}`,
  );
  return rows.map((r) => ({
    ts: new Date(Number(r.t)).toISOString(),
    auths: Number(r.auths),
    failureRate: Number(r.failure),
    faultRate: Number(r.fault),
    reversalRate: Number(r.reversal),
    noSettlementRate: Number(r.noSettlement),
    volumeRatio: r.volume === null || r.volume === undefined ? null : Number(r.volume),
  }));
}

export const rateFreshnessQuerySchema = z.object({
  scope: rateRowSchema.shape.scope.optional(),
  window: windowLabel.optional(),
  /** only panes ending at or after this time (default: the last hour) */
  since: epochMs.optional(),
});

/**
 * The newest pane end per scope and window: the reference for "current" (a key whose latest
 * row is much older than its scope's newest has gone quiet). Cheap: (scope, window) is the
 * sorting key's prefix.
 */
export async function queryRateFreshness(
  ch: ClickHouse,
  input: z.input<typeof rateFreshnessQuerySchema> = {},
  now = Date.now(),
): Promise<{ scope: RateRow['scope']; window: string; newest: number }[]> {
  const q = rateFreshnessQuerySchema.parse(input);
  const c = [sql`ts >= ${toDate(q.since ?? now - 3_600_000)}`];
  if (q.scope) c.push(sql`scope = ${q.scope}`);
  if (q.window) c.push(sql`window = ${q.window}`);
  const rows = await ch.query<{ scope: RateRow['scope']; window: string; newest: number }>(
    sql`SELECT scope, window, max(ts_ms) AS newest FROM ${ident(TABLES.rates)}
        WHERE ${conds(c)} GROUP BY scope, window ORDER BY scope, window`,
  );
  return rows.map((r) => ({ scope: r.scope, window: r.window, newest: Number(r.newest) }));
}

export const rateChangesQuerySchema = z.object({
  /** panes ending at or after this time */
  since: epochMs,
  /** rows written with a version above this (the writer's clock, ms by default) */
  afterVersion: z.number().int().nonnegative(),
  limit: limit(10_000, 100_000),
});

/**
 * Rows written since the last look: per scope/window/key the latest of them, with its version.
 * The gateway polls this to push live rates (the processor publishes no rate topic). Reads the
 * recent panes only: `since` prunes day partitions and, through the parts' min/max of ts,
 * most of today's parts.
 */
export async function queryRateChanges(
  ch: ClickHouse,
  input: z.input<typeof rateChangesQuerySchema>,
): Promise<{ row: RateRow; version: number }[]> {
  const q = rateChangesQuerySchema.parse(input);
  const cols = RATE_COLUMNS.filter((c) => c !== 'key' && c !== 'scope' && c !== 'window').map(
    (c) => `argMax(${c}, (ts_ms, version)) AS l_${c}`,
  );
  const rows = await ch.query<Record<string, unknown>>(
    sql`SELECT scope, window, key, ${raw(cols.join(', '))} FROM ${ident(TABLES.rates)}
        WHERE ts >= ${toDate(q.since)} AND version > ${q.afterVersion}
        GROUP BY scope, window, key ORDER BY l_version LIMIT ${q.limit}`,
  );
  return rows.map((r) => {
    const row = unprefix(r);
    return { row: rowToRate(row), version: Number(row.version) };
  });
}
