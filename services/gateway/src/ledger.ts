import { randomUUID } from 'node:crypto';
import { alertSchema, categorize, describeIssues, type Alert } from '@tillwatch/contracts';
import {
  applyWorkflowAction,
  silenceMatches,
  type AlertActionInput,
  type AlertRecord,
  type AuditEntry,
  type DrillDown,
  type Silence,
  type WorkflowAction,
} from './store';

/**
 * The alert ledger: how an alert's transitions and the people's actions become its record
 * (alert, workflow, audit trail). MemoryStore and ClickHouseStore both build records only
 * through these functions, so the two modes show the same trail for the same history; each
 * store keeps only how it stores transitions and actions.
 *
 * - An entry's `at` is when the thing happened: the transition's own `ts` (engine time, what
 *   the alerts table keeps) or the gateway's wall clock when a person acted (what
 *   alert_actions keeps). Both as ISO-8601 UTC with milliseconds.
 * - Engine entries have a deterministic id, `<alertId>@<ts ms>:<status>`, so a record rebuilt
 *   from storage (another gateway, a restart) names its lines as the live one did. A person's
 *   entry carries the id of the stored action, a UUID.
 * - The trail is ordered by `at`, oldest first (equal `at` keeps the order of recording), and
 *   capped at `maxAudit` lines, always keeping the first (when it fired).
 */

/** One transition as the ledger needs it: the alerts table's timeline rows have this shape. */
export interface Transition {
  status: Alert['status'];
  severity: string;
  /** epoch ms of the transition (the alert's `ts`) */
  ts: number;
}

/** One stored action, in the API's words (`acknowledge`, not the table's `ack`). */
export interface LedgerAction extends WorkflowAction {
  actionId: string;
  role: string;
  note?: string;
  author?: string;
  /** epoch ms, the gateway's wall clock when it was applied */
  ts: number;
}

export const DEFAULT_MAX_AUDIT = 500;

/** The `at` of every audit entry. */
export const auditAt = (ms: number): string => new Date(ms).toISOString();

export const engineEntryId = (alertId: string, t: Transition): string =>
  `${alertId}@${t.ts}:${t.status}`;

export const transitionOf = (a: Alert): Transition => ({
  status: a.status,
  severity: a.severity,
  ts: Date.parse(a.ts),
});

/**
 * An alert as it came off the wire, validated; merchantId/region filled from the key where
 * the scope implies them (merchant scoping relies on those two fields).
 */
export function parseAlert(input: unknown): { alert: Alert } | { reason: string } {
  const r = alertSchema.safeParse(input);
  if (!r.success) return { reason: describeIssues(r.error) };
  const alert = r.data;
  if (alert.scope === 'merchant' && alert.merchantId === undefined) alert.merchantId = alert.key;
  if (alert.scope === 'region' && alert.region === undefined) alert.region = alert.key;
  return { alert };
}

export const newRecord = (alert: Alert): AlertRecord => ({
  alert,
  workflow: { state: 'open' },
  audit: [],
});

/** An action as it will be stored: a new id and the gateway's clock. */
export function actionFromInput(input: AlertActionInput, now: number): LedgerAction {
  return {
    actionId: randomUUID(),
    kind: input.action,
    actor: input.actor,
    role: input.role,
    ...(input.assignee ? { assignee: input.assignee } : {}),
    ...(input.note ? { note: input.note } : {}),
    ...(input.author ? { author: input.author } : {}),
    ...(input.action === 'resolve' && input.verdict ? { verdict: input.verdict } : {}),
    ts: now,
  };
}

/**
 * Records one transition after `prev` (undefined for the first). A change of status is a
 * `fired` / `engine_resolved` line, a change of severity an `updated` line; value ticks, which
 * arrive every second, add nothing. Does not replace `rec.alert`: a timeline has no bodies.
 */
export function recordTransition(
  rec: AlertRecord,
  prev: Transition | undefined,
  t: Transition,
  maxAudit = DEFAULT_MAX_AUDIT,
): AuditEntry | undefined {
  const alertId = rec.alert.alertId;
  const base = {
    id: engineEntryId(alertId, t),
    alertId,
    at: auditAt(t.ts),
    actor: 'engine',
    role: 'engine' as const,
    status: t.status,
  };
  let entry: AuditEntry | undefined;
  if (!prev || prev.status !== t.status) {
    entry = { ...base, action: t.status === 'firing' ? 'fired' : 'engine_resolved' };
  } else if (prev.severity !== t.severity) {
    entry = { ...base, action: 'updated', note: `severity ${prev.severity} → ${t.severity}` };
  }
  if (entry) appendAudit(rec.audit, entry, maxAudit);
  return entry;
}

/** Records one action: folds it into the workflow and adds its line. */
export function recordAction(
  rec: AlertRecord,
  a: LedgerAction,
  maxAudit = DEFAULT_MAX_AUDIT,
): AuditEntry {
  const at = auditAt(a.ts);
  rec.workflow = applyWorkflowAction(rec.workflow, a, at);
  // the API offers no unack; a stored one is shown as a note so the trail stays truthful
  const note = a.kind === 'unack' ? `(unacknowledged) ${a.note ?? ''}`.trim() : a.note;
  const entry: AuditEntry = {
    id: a.actionId,
    alertId: rec.alert.alertId,
    at,
    action: a.kind === 'unack' ? 'note' : a.kind,
    actor: a.actor,
    role: (a.role || 'analyst') as AuditEntry['role'],
    ...(a.author ? { author: a.author } : {}),
    ...(note ? { note } : {}),
    ...(a.assignee ? { assignee: a.assignee } : {}),
    ...(a.kind === 'resolve' && a.verdict ? { verdict: a.verdict } : {}),
  };
  appendAudit(rec.audit, entry, maxAudit);
  return entry;
}

/** A whole record from stored history: transitions oldest first, then the actions. */
export function buildRecord(
  alert: Alert,
  timeline: readonly Transition[],
  actions: readonly LedgerAction[],
  maxAudit = DEFAULT_MAX_AUDIT,
): AlertRecord {
  const rec = newRecord(alert);
  let prev: Transition | undefined;
  for (const t of timeline) {
    recordTransition(rec, prev, t, maxAudit);
    prev = t;
  }
  for (const a of [...actions].sort((x, y) => x.ts - y.ts)) recordAction(rec, a, maxAudit);
  return rec;
}

/** Inserts by `at` (after equal ones), then drops the second line while over the cap. */
function appendAudit(audit: AuditEntry[], entry: AuditEntry, max: number): void {
  let i = audit.length;
  while (i > 0 && audit[i - 1]!.at > entry.at) i--;
  audit.splice(i, 0, entry);
  while (audit.length > Math.max(1, max)) audit.splice(1, 1);
}

/** Marks the record with the first silence that mutes its alert at `at` (epoch ms). */
export function applySilences(rec: AlertRecord, silences: Iterable<Silence>, at: number): void {
  for (const s of silences) {
    if (silenceMatches(s, rec.alert, at)) {
      rec.silencedBy = s.id;
      return;
    }
  }
  delete rec.silencedBy;
}

/** Alert lists: latest transition first, then by alertId (the ClickHouse query's order). */
export function newestFirst(x: AlertRecord, y: AlertRecord): number {
  const d = Date.parse(y.alert.ts) - Date.parse(x.alert.ts);
  if (d !== 0) return d;
  return x.alert.alertId < y.alert.alertId ? -1 : x.alert.alertId > y.alert.alertId ? 1 : 0;
}

/** Drill-down code counts: most frequent first, then by code; events without a code skipped. */
export function codeSummary(counts: Iterable<[string, number]>): DrillDown['responseCodes'] {
  const out: DrillDown['responseCodes'] = [];
  for (const [code, count] of counts) {
    if (code !== '') out.push({ code, category: categorize(code), count });
  }
  return out.sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}
