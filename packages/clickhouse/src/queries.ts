import { z } from 'zod';
import {
  CATEGORIES,
  RULE_IDS,
  SCOPES,
  SEVERITIES,
  rateRowSchema,
  type Alert,
  type RateRow,
} from '@tillwatch/contracts';
import type { ClickHouse } from './client';
import {
  RATE_COLUMNS,
  actionToRow,
  rowToAction,
  rowToAlert,
  rowToEvent,
  rowToRate,
  rowToSilence,
  silenceToRow,
  type ActionRow,
  type AlertAction,
  type AlertActionInput,
  type EventRow,
  type RateTableRow,
  type StoredSilence,
  type StoredEvent,
} from './rows';
import { TABLES } from './schema';
import { SqlFragment, ident, inList, join, raw, sql } from './sql';

/**
 * Reads the gateway needs. Every parameter is parsed by zod first, then rendered through
 * sql``. Exact despite ReplacingMergeTree's merge-time dedup: readers use FINAL or argMax per
 * row identity, so a replayed write never shows twice.
 */

const epochMs = z.number().int().nonnegative();
const windowLabel = z.string().regex(/^\d+(ms|s|m|h|d)$/);
const limit = (def: number, max = 10_000) => z.number().int().min(1).max(max).default(def);
const idList = z.array(z.string().min(1).max(128)).max(1000);

const toDate = (ms: number) => new Date(ms);
const conds = (parts: SqlFragment[]) => (parts.length ? join(parts, ' AND ') : raw('1'));

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
function latestPerKey(where: SqlFragment): SqlFragment {
  const cols = RATE_COLUMNS.filter((c) => c !== 'key').map(
    // Aliases must not shadow columns used inside other aggregates: prefix them.
    (c) => `argMax(${c}, (ts_ms, version)) AS l_${c}`,
  );
  return sql`SELECT key, ${raw(cols.join(', '))} FROM ${ident(TABLES.rates)} WHERE ${where} GROUP BY key`;
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
});
export type SeriesQuery = z.input<typeof seriesQuerySchema>;

/** One key's rates over time (a chart), one row per pane end, oldest first. */
export async function querySeries(ch: ClickHouse, input: SeriesQuery): Promise<RateRow[]> {
  const q = seriesQuerySchema.parse(input);
  const rows = await ch.query<RateTableRow>(
    sql`SELECT * FROM ${ident(TABLES.rates)} FINAL
        WHERE scope = ${q.scope} AND window = ${q.window} AND key = ${q.key}
          AND ts >= ${toDate(q.from)} AND ts <= ${toDate(q.to)}
          AND ${q.merchantId ? sql`merchant_id = ${q.merchantId}` : raw('1')}
        ORDER BY ts_ms LIMIT ${q.limit}`,
  );
  return rows.map(rowToRate);
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

// ---- alerts -----------------------------------------------------------------------------

export const alertsQuerySchema = z.object({
  status: z.enum(['firing', 'resolved']).optional(),
  rule: z.enum(RULE_IDS).optional(),
  severity: z.enum(SEVERITIES).optional(),
  scope: z.enum(SCOPES).optional(),
  key: z.string().min(1).max(128).optional(),
  merchantId: z.string().min(1).max(32).optional(),
  region: z.string().min(1).max(32).optional(),
  /** transitions at or after / before (event time) */
  from: epochMs.optional(),
  to: epochMs.optional(),
  limit: limit(100, 5000),
});
export type AlertsQuery = z.input<typeof alertsQuerySchema>;

/**
 * Alerts in their latest state, newest first. Rule, scope, key, merchant and region never
 * change within an episode, so they filter transitions; status and severity do change, so they
 * filter the latest state. On equal time a 'resolved' transition counts as the later one.
 */
export async function queryAlerts(ch: ClickHouse, input: AlertsQuery = {}): Promise<Alert[]> {
  const q = alertsQuerySchema.parse(input);
  const where: SqlFragment[] = [];
  if (q.rule) where.push(sql`rule = ${q.rule}`);
  if (q.scope) where.push(sql`scope = ${q.scope}`);
  if (q.key) where.push(sql`key = ${q.key}`);
  if (q.merchantId) where.push(alertMerchantIs(q.merchantId));
  if (q.region) where.push(sql`region = ${q.region}`);
  if (q.from !== undefined) where.push(sql`ts >= ${toDate(q.from)}`);
  if (q.to !== undefined) where.push(sql`ts <= ${toDate(q.to)}`);
  const having: SqlFragment[] = [];
  if (q.status) having.push(sql`l_status = ${q.status}`);
  if (q.severity) having.push(sql`l_severity = ${q.severity}`);
  const order = raw("(ts_ms, status = 'resolved')");
  const rows = await ch.query<{ l_body: string }>(
    sql`SELECT alert_id,
          argMax(body, ${order}) AS l_body,
          argMax(status, ${order}) AS l_status,
          argMax(severity, ${order}) AS l_severity,
          max(ts_ms) AS l_ts
        FROM ${ident(TABLES.alerts)}
        WHERE ${conds(where)}
        GROUP BY alert_id
        HAVING ${conds(having)}
        ORDER BY l_ts DESC, alert_id LIMIT ${q.limit}`,
  );
  return rows.map((r) => rowToAlert({ body: r.l_body }));
}

/**
 * An alert belongs to a merchant when it carries its merchantId, or when it is about the
 * merchant itself (scope merchant, key = the id) and was written without the field.
 */
function alertMerchantIs(merchantId: string): SqlFragment {
  return sql`(merchant_id = ${merchantId} OR (scope = 'merchant' AND key = ${merchantId}))`;
}

const merchantBound = z.object({ merchantId: z.string().min(1).max(32).optional() });

/** Every transition of one alert, oldest first; with merchantId, nothing unless it is theirs. */
export async function queryAlertTransitions(
  ch: ClickHouse,
  alertId: string,
  opts: { merchantId?: string } = {},
): Promise<Alert[]> {
  const id = z.string().min(1).max(128).parse(alertId);
  const { merchantId } = merchantBound.parse(opts);
  const rows = await ch.query<{ body: string }>(
    sql`SELECT body FROM ${ident(TABLES.alerts)} FINAL WHERE alert_id = ${id}
          AND ${merchantId ? alertMerchantIs(merchantId) : raw('1')}
        ORDER BY ts_ms, status = 'resolved'`,
  );
  return rows.map(rowToAlert);
}

export interface AlertTimelineRow {
  alertId: string;
  status: 'firing' | 'resolved';
  severity: string;
  ts: number;
}

/** Status and severity of every transition of these alerts (no bodies), oldest first per alert. */
export async function queryAlertTimelines(
  ch: ClickHouse,
  alertIds: readonly string[],
): Promise<AlertTimelineRow[]> {
  const ids = idList.parse(alertIds);
  if (!ids.length) return [];
  const rows = await ch.query<{
    alert_id: string;
    status: string;
    severity: string;
    ts_ms: number;
  }>(
    sql`SELECT alert_id, status, severity, ts_ms FROM ${ident(TABLES.alerts)} FINAL
        WHERE alert_id IN ${inList(ids)}
        ORDER BY alert_id, ts_ms, status = 'resolved'`,
  );
  return rows.map((r) => ({
    alertId: r.alert_id,
    status: r.status as AlertTimelineRow['status'],
    severity: r.severity,
    ts: Number(r.ts_ms),
  }));
}

// ---- alert actions ----------------------------------------------------------------------

/** Record acks, assignments, notes, resolutions. Idempotent by actionId. */
export async function insertAlertActions(
  ch: ClickHouse,
  actions: readonly AlertActionInput[],
): Promise<void> {
  await ch.insert(TABLES.alertActions, actions.map(actionToRow));
}

/** The audit trail of one alert, oldest first. */
export async function queryAlertActions(ch: ClickHouse, alertId: string): Promise<AlertAction[]> {
  const id = z.string().min(1).max(128).parse(alertId);
  const rows = await ch.query<ActionRow>(
    sql`SELECT * FROM ${ident(TABLES.alertActions)} FINAL WHERE alert_id = ${id} ORDER BY ts_ms, action_id`,
  );
  return rows.map(rowToAction);
}

/** The audit trails of several alerts at once, oldest first per alert. */
export async function queryAlertActionsFor(
  ch: ClickHouse,
  alertIds: readonly string[],
): Promise<AlertAction[]> {
  const ids = idList.parse(alertIds);
  if (!ids.length) return [];
  const rows = await ch.query<ActionRow>(
    sql`SELECT * FROM ${ident(TABLES.alertActions)} FINAL WHERE alert_id IN ${inList(ids)}
        ORDER BY alert_id, ts_ms, action_id`,
  );
  return rows.map(rowToAction);
}

// ---- drill-down to raw events -----------------------------------------------------------

export const drillDownQuerySchema = z
  .object({
    terminalId: z.string().min(1).max(32).optional(),
    merchantId: z.string().min(1).max(32).optional(),
    region: z.string().min(1).max(32).optional(),
    firmware: z.string().min(1).max(32).optional(),
    issuerId: z.string().min(1).max(32).optional(),
    from: epochMs,
    to: epochMs,
    responseCodes: z
      .array(z.string().regex(/^[0-9A-Z]{2}$/))
      .max(100)
      .optional(),
    categories: z.array(z.enum(CATEGORIES)).optional(),
    types: z.array(z.enum(['auth', 'reversal', 'settlement', 'heartbeat'])).optional(),
    /** only these transactions (an alert's evidence) */
    txnIds: idList.optional(),
    /** oldest first (default) or newest first: the latest events behind a live alert */
    order: z.enum(['asc', 'desc']).default('asc'),
    limit: limit(500, 10_000),
  })
  .refine((q) => q.to >= q.from, { message: 'to must not be before from', path: ['to'] });
export type DrillDownQuery = z.input<typeof drillDownQuerySchema>;

function drillWhere(q: z.infer<typeof drillDownQuerySchema>): SqlFragment {
  // ts (seconds) narrows by the partition and primary key; ts_ms makes the bounds exact.
  const c = [
    sql`ts >= ${toDate(Math.floor(q.from / 1000) * 1000)}`,
    sql`ts <= ${toDate(q.to)}`,
    sql`ts_ms >= ${q.from}`,
    sql`ts_ms <= ${q.to}`,
  ];
  if (q.terminalId) c.push(sql`terminal_id = ${q.terminalId}`);
  if (q.merchantId) c.push(sql`merchant_id = ${q.merchantId}`);
  if (q.region) c.push(sql`region = ${q.region}`);
  if (q.firmware) c.push(sql`firmware = ${q.firmware}`);
  if (q.issuerId) c.push(sql`issuer_id = ${q.issuerId}`);
  if (q.responseCodes?.length) c.push(sql`response_code IN ${inList(q.responseCodes)}`);
  if (q.categories?.length) c.push(sql`category IN ${inList(q.categories)}`);
  if (q.types?.length) c.push(sql`type IN ${inList(q.types)}`);
  if (q.txnIds) c.push(q.txnIds.length ? sql`txn_id IN ${inList(q.txnIds)}` : raw('0'));
  return conds(c);
}

/** The raw events behind a number: one terminal (or merchant, region...) over a time range. */
export async function queryDrillDown(
  ch: ClickHouse,
  input: DrillDownQuery,
): Promise<StoredEvent[]> {
  const q = drillDownQuerySchema.parse(input);
  const rows = await ch.query<EventRow>(
    sql`SELECT * FROM ${ident(TABLES.events)} FINAL WHERE ${drillWhere(q)}
        ORDER BY ${raw(q.order === 'desc' ? 'ts_ms DESC, event_id DESC' : 'ts_ms, event_id')}
        LIMIT ${q.limit}`,
  );
  return rows.map(rowToEvent);
}

/**
 * Counts behind a number: events in total and per response code (duplicates counted once),
 * and the event times of the first and last of them (epoch ms; absent when none matched).
 */
export async function summarizeDrillDown(
  ch: ClickHouse,
  input: Omit<DrillDownQuery, 'limit' | 'order'>,
): Promise<{ total: number; byCode: Record<string, number>; from?: number; to?: number }> {
  const q = drillDownQuerySchema.parse(input);
  const rows = await ch.query<{ response_code: string; n: number; lo: number; hi: number }>(
    sql`SELECT response_code, count() AS n, min(ts_ms) AS lo, max(ts_ms) AS hi
        FROM ${ident(TABLES.events)} FINAL
        WHERE ${drillWhere(q)} GROUP BY response_code ORDER BY response_code`,
  );
  const byCode: Record<string, number> = {};
  let total = 0;
  let from: number | undefined;
  let to: number | undefined;
  for (const r of rows) {
    byCode[r.response_code] = Number(r.n);
    total += Number(r.n);
    from = Math.min(from ?? Infinity, Number(r.lo));
    to = Math.max(to ?? -Infinity, Number(r.hi));
  }
  return { total, byCode, ...(from !== undefined ? { from, to } : {}) };
}

// ---- silences ------------------------------------------------------------------------------

/** Create or replace silences; `version` orders concurrent writers (higher wins). */
export async function upsertSilences(
  ch: ClickHouse,
  silences: readonly StoredSilence[],
  version: number,
): Promise<void> {
  await ch.insert(
    TABLES.silences,
    silences.map((s) => silenceToRow(s, version)),
  );
}

/** A tombstone version of the silence: it no longer lists, whatever older rows say. */
export async function deleteSilences(
  ch: ClickHouse,
  silences: readonly StoredSilence[],
  version: number,
): Promise<void> {
  await ch.insert(
    TABLES.silences,
    silences.map((s) => silenceToRow(s, version, true)),
  );
}

/**
 * Silences in their latest version, not deleted, optionally only those in force at activeAt.
 * argMax per id rather than FINAL: exact whether or not parts have merged.
 */
export async function listSilences(
  ch: ClickHouse,
  input: { activeAt?: number; ids?: string[] } = {},
): Promise<StoredSilence[]> {
  const q = z.object({ activeAt: epochMs.optional(), ids: idList.optional() }).parse(input);
  const having = [raw('l_deleted = 0')];
  if (q.activeAt !== undefined)
    having.push(sql`l_starts <= ${q.activeAt} AND l_ends > ${q.activeAt}`);
  const where = q.ids ? (q.ids.length ? sql`silence_id IN ${inList(q.ids)}` : raw('0')) : raw('1');
  const rows = await ch.query<{ l_doc: string }>(
    sql`SELECT silence_id,
          argMax(doc, version) AS l_doc,
          argMax(deleted, version) AS l_deleted,
          argMax(starts_at_ms, version) AS l_starts,
          argMax(ends_at_ms, version) AS l_ends
        FROM ${ident(TABLES.silences)}
        WHERE ${where}
        GROUP BY silence_id
        HAVING ${conds(having)}
        ORDER BY l_starts, silence_id`,
  );
  return rows.map((r) => rowToSilence({ doc: r.l_doc }));
}
