import { z } from 'zod';
import {
  RULE_IDS,
  SCOPES,
  SEVERITIES,
  type Alert,
  type RuleId,
  type RuleVerdictCounts,
} from '@tillwatch/contracts';
import type { ClickHouse } from './client';
import { conds, epochMs, idList, limit, toDate } from './query-params';
import {
  actionToRow,
  rowToAction,
  rowToAlert,
  type ActionRow,
  type AlertAction,
  type AlertActionInput,
} from './rows';
import { TABLES } from './schema';
import { SqlFragment, ident, inList, raw, sql } from './sql';

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

// ---- verdicts ---------------------------------------------------------------------------

export const ruleVerdictsQuerySchema = z.object({
  /** episodes whose firstSeen is at or after this (epoch ms; the column holds whole seconds) */
  from: epochMs,
  merchantId: z.string().min(1).max(32).optional(),
});
export type RuleVerdictsQuery = z.input<typeof ruleVerdictsQuerySchema>;

/**
 * Per rule: alert episodes raised since `from` and how many carry each verdict. An episode's
 * verdict is its latest `resolve` row that has one (argMax by time, then actionId, the order
 * in which the ledger folds actions): a later verdict replaces an earlier one. With merchantId,
 * only that merchant's episodes (the same bound as every alert read).
 *
 * Exact without FINAL: episodes are grouped by alert_id, and duplicate action rows (a retried
 * insert) are equal, so argMax over them is the same row. 18.16: ANY LEFT JOIN ... USING, an
 * unmatched episode's verdict is the String default ''; aliases differ from the column names
 * (an alias equal to a column is substituted into its own aggregate on old releases).
 */
export async function queryRuleVerdicts(
  ch: ClickHouse,
  input: RuleVerdictsQuery,
): Promise<RuleVerdictCounts[]> {
  const q = ruleVerdictsQuerySchema.parse(input);
  const from = toDate(q.from);
  // every transition's ts is at or after its episode's firstSeen: `ts` prunes day partitions
  const raised = conds([
    sql`first_seen >= ${from}`,
    sql`ts >= ${from}`,
    ...(q.merchantId ? [alertMerchantIs(q.merchantId)] : []),
  ]);
  const rows = await ch.query<{
    e_rule: string;
    raised: number | string;
    true_incident: number | string;
    false_alarm: number | string;
    expected: number | string;
  }>(
    sql`SELECT e_rule,
          count() AS raised,
          countIf(l_verdict = 'true_incident') AS true_incident,
          countIf(l_verdict = 'false_alarm') AS false_alarm,
          countIf(l_verdict = 'expected') AS expected
        FROM (
          SELECT alert_id, any(rule) AS e_rule FROM ${ident(TABLES.alerts)}
          WHERE ${raised} GROUP BY alert_id
        ) ANY LEFT JOIN (
          SELECT alert_id, argMax(verdict, (ts_ms, action_id)) AS l_verdict
          FROM ${ident(TABLES.alertActions)}
          WHERE kind = 'resolve' AND verdict != ''
            AND alert_id IN (SELECT alert_id FROM ${ident(TABLES.alerts)} WHERE ${raised})
          GROUP BY alert_id
        ) USING alert_id
        GROUP BY e_rule ORDER BY e_rule`,
  );
  return rows
    .filter((r) => (RULE_IDS as readonly string[]).includes(r.e_rule))
    .map((r) => ({
      rule: r.e_rule as RuleId,
      raised: Number(r.raised),
      true_incident: Number(r.true_incident),
      false_alarm: Number(r.false_alarm),
      expected: Number(r.expected),
    }));
}
