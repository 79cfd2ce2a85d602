import { z } from 'zod';
import {
  CATEGORIES,
  RULE_IDS,
  alertSchema,
  categorize,
  type Alert,
  type CodeTable,
  type RateRow,
  type TerminalEvent,
} from '@tillwatch/contracts';
import { toClickHouseDateTime } from './migrate';

/**
 * Domain objects <-> table rows. Writers take domain objects (already validated by zod at the
 * edge or built by our own code); rows are what JSONEachRow carries.
 */

const id = z.string().min(1).max(128);
const epochMs = z.number().int().nonnegative();

// ---- raw events ------------------------------------------------------------------------

export interface EventInput {
  event: TerminalEvent;
  /** the event as it arrived (UTF-8 JSON text) */
  raw: string;
  partition: number;
  offset: string | number;
}

export function eventToRow(e: EventInput, codes?: CodeTable, now = Date.now()) {
  const ev = e.event;
  const code = ev.type === 'auth' ? ev.responseCode : '';
  return {
    event_id: ev.eventId,
    type: ev.type,
    ts: toClickHouseDateTime(ev.ts),
    ts_ms: ev.ts,
    terminal_id: ev.terminalId,
    merchant_id: ev.merchantId,
    region: ev.region,
    txn_id: 'txnId' in ev && typeof ev.txnId === 'string' ? ev.txnId : '',
    response_code: code,
    category: ev.type === 'auth' ? categorize(code, codes) : '',
    amount: 'amount' in ev && typeof ev.amount === 'number' ? ev.amount : null,
    currency: ev.type === 'auth' ? ev.currency : '',
    firmware: 'firmware' in ev && typeof ev.firmware === 'string' ? ev.firmware : '',
    issuer_id: ev.type === 'auth' && ev.issuerId ? ev.issuerId : '',
    raw: e.raw,
    kafka_partition: e.partition,
    kafka_offset: Number(e.offset),
    inserted_at: toClickHouseDateTime(now),
  };
}
export type EventRow = ReturnType<typeof eventToRow>;

/** A raw event as drill-down returns it. */
export interface StoredEvent {
  eventId: string;
  type: string;
  ts: number;
  terminalId: string;
  merchantId: string;
  region: string;
  txnId: string;
  responseCode: string;
  category: string;
  amount: number | null;
  currency: string;
  firmware: string;
  issuerId: string;
  raw: string;
  partition: number;
  offset: number;
}

export function rowToEvent(r: EventRow): StoredEvent {
  return {
    eventId: r.event_id,
    type: r.type,
    ts: Number(r.ts_ms),
    terminalId: r.terminal_id,
    merchantId: r.merchant_id,
    region: r.region,
    txnId: r.txn_id,
    responseCode: r.response_code,
    category: r.category,
    amount: r.amount === null ? null : Number(r.amount),
    currency: r.currency,
    firmware: r.firmware,
    issuerId: r.issuer_id,
    raw: r.raw,
    partition: Number(r.kafka_partition),
    offset: Number(r.kafka_offset),
  };
}

// ---- window stats -----------------------------------------------------------------------

export function rateToRow(r: RateRow, version = Date.now()) {
  const ts = Date.parse(r.ts);
  const cat = (c: (typeof CATEGORIES)[number]) => r.byCategory[c] ?? 0;
  return {
    scope: r.scope,
    key: r.key,
    window: r.window,
    ts: toClickHouseDateTime(ts),
    ts_ms: ts,
    merchant_id: r.merchantId ?? '',
    region: r.region ?? '',
    auths: r.auths,
    approved: r.approved,
    failures: r.failures,
    faults: r.faults,
    cat_approved: cat('approved'),
    cat_cardholder: cat('cardholder'),
    cat_issuer: cat('issuer'),
    cat_terminal: cat('terminal'),
    cat_security: cat('security'),
    cat_timeout: cat('timeout'),
    cat_other: cat('other'),
    input_errors: r.inputErrors,
    reversals: r.reversals,
    unreversed_timeouts: r.unreversedTimeouts,
    settlement_due: r.settlementDue,
    unsettled: r.unsettled,
    heartbeats: r.heartbeats,
    failure_rate: r.failureRate,
    fault_rate: r.faultRate,
    reversal_rate: r.reversalRate,
    no_settlement_rate: r.noSettlementRate,
    volume_ratio: r.volumeRatio ?? null,
    version,
  };
}
export type RateTableRow = ReturnType<typeof rateToRow>;

export function rowToRate(r: RateTableRow): RateRow {
  const n = (v: unknown) => Number(v);
  const out: RateRow = {
    scope: r.scope,
    key: r.key,
    window: r.window,
    ts: new Date(n(r.ts_ms)).toISOString(),
    auths: n(r.auths),
    approved: n(r.approved),
    failures: n(r.failures),
    faults: n(r.faults),
    byCategory: {
      approved: n(r.cat_approved),
      cardholder: n(r.cat_cardholder),
      issuer: n(r.cat_issuer),
      terminal: n(r.cat_terminal),
      security: n(r.cat_security),
      timeout: n(r.cat_timeout),
      other: n(r.cat_other),
    },
    inputErrors: n(r.input_errors),
    reversals: n(r.reversals),
    unreversedTimeouts: n(r.unreversed_timeouts),
    settlementDue: n(r.settlement_due),
    unsettled: n(r.unsettled),
    heartbeats: n(r.heartbeats),
    failureRate: n(r.failure_rate),
    faultRate: n(r.fault_rate),
    reversalRate: n(r.reversal_rate),
    noSettlementRate: n(r.no_settlement_rate),
  };
  if (r.merchant_id) out.merchantId = r.merchant_id;
  if (r.region) out.region = r.region;
  if (r.volume_ratio !== null && r.volume_ratio !== undefined) out.volumeRatio = n(r.volume_ratio);
  return out;
}

/** Columns of window_stats in table order, for SELECT lists and argMax. */
export const RATE_COLUMNS = Object.keys(
  rateToRow({
    scope: 'fleet',
    key: '',
    window: '1m',
    ts: new Date(0).toISOString(),
    auths: 0,
    approved: 0,
    failures: 0,
    faults: 0,
    byCategory: {},
    inputErrors: 0,
    reversals: 0,
    unreversedTimeouts: 0,
    settlementDue: 0,
    unsettled: 0,
    heartbeats: 0,
    failureRate: 0,
    faultRate: 0,
    reversalRate: 0,
    noSettlementRate: 0,
  } as RateRow),
) as (keyof RateTableRow)[];

// ---- alerts -----------------------------------------------------------------------------

export function alertToRow(a: Alert) {
  const ts = Date.parse(a.ts);
  return {
    alert_id: a.alertId,
    rule: a.rule,
    severity: a.severity,
    status: a.status,
    scope: a.scope,
    key: a.key,
    merchant_id: a.merchantId ?? '',
    region: a.region ?? '',
    window: a.window,
    metric: a.metric,
    value: a.value,
    threshold: a.threshold,
    baseline: a.baseline,
    first_seen: toClickHouseDateTime(Date.parse(a.firstSeen)),
    last_seen: toClickHouseDateTime(Date.parse(a.lastSeen)),
    ts: toClickHouseDateTime(ts),
    ts_ms: ts,
    body: JSON.stringify(a),
  };
}
export type AlertRow = ReturnType<typeof alertToRow>;

export function rowToAlert(r: { body: string }): Alert {
  return alertSchema.parse(JSON.parse(r.body));
}

// ---- alert actions (audit trail) -------------------------------------------------------

export const ALERT_ACTION_KINDS = ['ack', 'unack', 'assign', 'note', 'resolve'] as const;

export const alertActionSchema = z.object({
  /** deterministic: a retried request must not add a second note */
  actionId: id,
  alertId: id,
  kind: z.enum(ALERT_ACTION_KINDS),
  actor: z.string().min(1).max(128),
  role: z.string().max(32).default(''),
  assignee: z.string().max(128).default(''),
  /** the guides: record the error, the checks made, the fix, the result */
  note: z.string().max(10_000).default(''),
  /** self-declared name typed on the board, beside the verified actor (migration 2) */
  author: z.string().max(128).default(''),
  ts: epochMs,
});
export type AlertAction = z.infer<typeof alertActionSchema>;
export type AlertActionInput = z.input<typeof alertActionSchema>;

export function actionToRow(input: AlertActionInput) {
  const a = alertActionSchema.parse(input);
  return {
    action_id: a.actionId,
    alert_id: a.alertId,
    kind: a.kind,
    actor: a.actor,
    role: a.role,
    assignee: a.assignee,
    note: a.note,
    author: a.author,
    ts: toClickHouseDateTime(a.ts),
    ts_ms: a.ts,
  };
}
export type ActionRow = ReturnType<typeof actionToRow>;

export function rowToAction(r: ActionRow): AlertAction {
  return {
    actionId: r.action_id,
    alertId: r.alert_id,
    kind: r.kind as AlertAction['kind'],
    actor: r.actor,
    role: r.role,
    assignee: r.assignee,
    note: r.note,
    author: r.author ?? '',
    ts: Number(r.ts_ms),
  };
}

// ---- silences (migration 2) --------------------------------------------------------------

const silenceMatcherId = z.string().min(1).max(128);

/** A silence as the gateway keeps it: every given matcher must equal the alert's field. */
export const storedSilenceSchema = z.object({
  id,
  matchers: z.object({
    rule: z.enum(RULE_IDS).optional(),
    scope: z.string().min(1).max(32).optional(),
    key: silenceMatcherId.optional(),
    merchantId: silenceMatcherId.optional(),
    region: silenceMatcherId.optional(),
  }),
  /** ISO-8601 */
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
  comment: z.string().max(2000),
  createdBy: z.string().min(1).max(128),
  createdAt: z.iso.datetime({ offset: true }),
});
export type StoredSilence = z.infer<typeof storedSilenceSchema>;

export function silenceToRow(s: StoredSilence, version: number, deleted = false) {
  const v = storedSilenceSchema.parse(s);
  return {
    silence_id: v.id,
    starts_at_ms: Date.parse(v.startsAt),
    ends_at_ms: Date.parse(v.endsAt),
    deleted: deleted ? 1 : 0,
    doc: JSON.stringify(v),
    updated_at: toClickHouseDateTime(Math.floor(version / 1000)),
    version,
  };
}
export type SilenceRow = ReturnType<typeof silenceToRow>;

export function rowToSilence(r: { doc: string }): StoredSilence {
  return storedSilenceSchema.parse(JSON.parse(r.doc));
}

// ---- dead letters -----------------------------------------------------------------------

export interface DeadLetterInput {
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string | number;
  reason: string;
  raw: Uint8Array | null;
  key?: Uint8Array | string | null;
  ts: number;
}

export function deadLetterToRow(d: DeadLetterInput) {
  const raw = d.raw ? Buffer.from(d.raw) : Buffer.alloc(0);
  const key =
    d.key == null ? '' : typeof d.key === 'string' ? d.key : Buffer.from(d.key).toString('utf8');
  return {
    source_topic: d.sourceTopic,
    source_partition: d.sourcePartition,
    source_offset: Number(d.sourceOffset),
    reason: d.reason,
    raw_base64: raw.toString('base64'),
    // What a person reads: invalid bytes become U+FFFD here; raw_base64 keeps them exact.
    raw_text: raw.toString('utf8'),
    record_key: key,
    ts: toClickHouseDateTime(d.ts),
    ts_ms: d.ts,
  };
}
