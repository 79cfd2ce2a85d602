import {
  TABLES,
  alertToRow,
  insertAlertActions,
  queryAlertActions,
  queryAlertActionsFor,
  queryAlertTimelines,
  queryAlertTransitions,
  queryAlerts,
  queryRuleVerdicts,
  type AlertAction,
  type AlertTimelineRow,
  type ClickHouse,
} from '@tillwatch/clickhouse';
import type { Logger } from '@tillwatch/config';
import type { Alert, RuleVerdictCounts } from '@tillwatch/contracts';
import type { ClickHouseSilences } from './clickhouse-silences';
import {
  actionFromInput,
  applySilences,
  buildRecord,
  newestFirst,
  parseAlert,
  recordAction,
  type LedgerAction,
} from './ledger';
import type {
  AlertActionInput,
  AlertFilter,
  AlertRecord,
  MerchantBound,
  StoreEvent,
  VerdictQuery,
} from './store';

export interface ClickHouseAlertsOptions {
  ch: ClickHouse;
  silences: ClickHouseSilences;
  maxAuditPerAlert: number;
  /** hands a record (new transition, new audit entry) to the store's live feed */
  emit: (e: StoreEvent) => void;
  logger: Logger | undefined;
  now: () => number;
}

/**
 * Alerts of ClickHouseStore: transitions from the alerts table and workflow from alert_actions,
 * folded into AlertRecords by the ledger, with the current silences applied.
 */
export class ClickHouseAlerts {
  /** transitions taken in by ingestAlerts */
  ingested = 0;
  private readonly ch: ClickHouse;
  private readonly silences: ClickHouseSilences;
  private readonly maxAuditPerAlert: number;
  private readonly emit: (e: StoreEvent) => void;
  private readonly log: Logger | undefined;
  private readonly now: () => number;

  constructor(opts: ClickHouseAlertsOptions) {
    this.ch = opts.ch;
    this.silences = opts.silences;
    this.maxAuditPerAlert = opts.maxAuditPerAlert;
    this.emit = opts.emit;
    this.log = opts.logger;
    this.now = opts.now;
  }

  async list(f: AlertFilter): Promise<AlertRecord[]> {
    const alerts = await queryAlerts(this.ch, {
      ...(f.status ? { status: f.status } : {}),
      ...(f.rule ? { rule: f.rule } : {}),
      ...(f.scope ? { scope: f.scope } : {}),
      ...(f.severity ? { severity: f.severity } : {}),
      ...(f.merchantId !== undefined ? { merchantId: f.merchantId } : {}),
      ...(f.region !== undefined ? { region: f.region } : {}),
      ...(f.key !== undefined ? { key: f.key } : {}),
      ...(f.since !== undefined ? { from: f.since } : {}),
      limit: Math.min(f.limit, 1000),
    });
    if (alerts.length === 0) return [];
    const ids = alerts.map((a) => a.alertId);
    const [timelines, actions] = await Promise.all([
      queryAlertTimelines(this.ch, ids),
      queryAlertActionsFor(this.ch, ids),
    ]);
    const tl = groupBy(timelines, (t) => t.alertId);
    const ac = groupBy(actions, (a) => a.alertId);
    return alerts
      .map((a) => this.record(a, tl.get(a.alertId) ?? [], ac.get(a.alertId) ?? []))
      .sort(newestFirst);
  }

  async get(alertId: string, bound: MerchantBound = {}): Promise<AlertRecord | undefined> {
    const transitions = await queryAlertTransitions(this.ch, alertId, bound);
    const alert = transitions.at(-1);
    if (!alert) return undefined;
    const actions = await queryAlertActions(this.ch, alertId);
    const timeline = transitions.map((t) => ({
      alertId,
      status: t.status,
      severity: t.severity,
      ts: Date.parse(t.ts),
    }));
    return this.record(alert, timeline, actions);
  }

  async applyAction(
    alertId: string,
    input: AlertActionInput,
    bound: MerchantBound = {},
  ): Promise<AlertRecord | undefined> {
    const rec = await this.get(alertId, bound);
    if (!rec) return undefined;
    const action = actionFromInput(input, this.now());
    await insertAlertActions(this.ch, [
      {
        ...action,
        alertId,
        kind: action.kind === 'acknowledge' ? 'ack' : action.kind,
        assignee: action.assignee ?? '',
        note: action.note ?? '',
        author: action.author ?? '',
        verdict: action.verdict ?? '',
      },
    ]);
    // read back: the trail as stored is what the caller and the room must see
    let after = await this.get(alertId, bound);
    let entry = after?.audit.find((e) => e.id === action.actionId);
    if (!after || !entry) {
      // not readable yet: the ledger's fold of what was just written
      after = rec;
      entry = recordAction(rec, action, this.maxAuditPerAlert);
    }
    this.emit({ type: 'audit', record: after, entry });
    return after;
  }

  /**
   * Per-rule episodes and verdicts in SQL (queryRuleVerdicts): the latest verdict per episode,
   * as the ledger folds it into the workflow; the merchant's bound in the WHERE.
   */
  ruleVerdicts(q: VerdictQuery): Promise<RuleVerdictCounts[]> {
    return queryRuleVerdicts(this.ch, {
      from: q.since,
      ...(q.merchantId !== undefined ? { merchantId: q.merchantId } : {}),
    });
  }

  /**
   * Alert transitions from pos.alerts: validated, written to the alerts table (when `persist`;
   * idempotent by alertId + ts + status), then emitted with their workflow and silence. Resolves
   * once the rows are durable, so the feed commits its offsets after this. Invalid ones are
   * counted and skipped: a malformed message must not stop the feed.
   */
  async ingest(
    values: readonly unknown[],
    opts: { persist?: boolean } = {},
  ): Promise<{ accepted: number; invalid: number }> {
    const alerts: Alert[] = [];
    let invalid = 0;
    for (const v of values) {
      const r = parseAlert(v);
      if ('reason' in r) {
        invalid++;
        this.log?.warn({ reason: r.reason }, 'alert rejected');
        continue;
      }
      alerts.push(r.alert);
    }
    if (alerts.length === 0) return { accepted: 0, invalid };
    if (opts.persist ?? true) await this.ch.insert(TABLES.alerts, alerts.map(alertToRow));
    const ids = [...new Set(alerts.map((a) => a.alertId))];
    const [timelines, actions] = await Promise.all([
      queryAlertTimelines(this.ch, ids),
      queryAlertActionsFor(this.ch, ids),
    ]);
    const tl = groupBy(timelines, (t) => t.alertId);
    const ac = groupBy(actions, (x) => x.alertId);
    const now = this.now();
    for (const a of alerts) {
      const own: AlertTimelineRow = {
        alertId: a.alertId,
        status: a.status,
        severity: a.severity,
        ts: Date.parse(a.ts),
      };
      const timeline = tl.get(a.alertId) ?? [own];
      const rec = this.record(a, timeline, ac.get(a.alertId) ?? [], now);
      this.ingested++;
      this.emit({ type: 'alert', record: rec });
    }
    return { accepted: alerts.length, invalid };
  }

  /** An alert with its workflow and trail, folded by the ledger from what is stored. */
  private record(
    alert: Alert,
    timeline: readonly AlertTimelineRow[],
    actions: readonly AlertAction[],
    silenceAt = Date.parse(alert.ts),
  ): AlertRecord {
    const rec = buildRecord(alert, timeline, actions.map(toLedgerAction), this.maxAuditPerAlert);
    applySilences(rec, this.silences.current, silenceAt);
    return rec;
  }
}

/** A row of alert_actions in the ledger's words (the table says `ack`). */
function toLedgerAction(a: AlertAction): LedgerAction {
  return {
    actionId: a.actionId,
    kind: a.kind === 'ack' ? 'acknowledge' : a.kind,
    actor: a.actor,
    role: a.role,
    assignee: a.assignee,
    note: a.note,
    author: a.author,
    ...(a.verdict ? { verdict: a.verdict } : {}),
    ts: a.ts,
  };
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const l = m.get(k);
    if (l) l.push(x);
    else m.set(k, [x]);
  }
  return m;
}
