import { z } from 'zod';
import {
  CATEGORIES,
  RULE_IDS,
  VERDICTS,
  alertSchema,
  categorize,
  silenceRecurrenceSchema,
  type Alert,
  type CodeTable,
  type RateRow,
  type TerminalEvent,
} from '@tillwatch/contracts';
import { toClickHouseDateTime } from './migrate';
import {
  WINDOW_STATS_COLUMNS,
  WINDOW_STATS_COUNTER_COLUMNS,
  WINDOW_STATS_RATES,
  type WindowStatsCounter,
  type WindowStatsRate,
} from './window-stats';

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

type Category = (typeof CATEGORIES)[number];
type SnakeToCamel<S extends string> = S extends `${infer H}_${infer T}`
  ? `${H}${Capitalize<SnakeToCamel<T>>}`
  : S;
type NumericRateField = {
  [K in keyof RateRow]-?: RateRow[K] extends number ? K : never;
}[keyof RateRow];
type NumericColumn = WindowStatsCounter | WindowStatsRate;

/**
 * Where a counter or rate column lives in a RateRow: cat_<category> is byCategory's entry, every
 * other column the field of its camelCase name (input_errors: inputErrors). The column lists
 * are window-stats.ts'; this rule maps them, and the check below fails the build when a column
 * has no such field.
 */
type PlaceOf<C extends string> = C extends `cat_${infer K}`
  ? K extends Category
    ? K
    : never
  : SnakeToCamel<C>;
const everyColumnHasAField: [
  Exclude<PlaceOf<Exclude<NumericColumn, `cat_${string}`>>, NumericRateField>,
] extends [never]
  ? true
  : false = true;
void everyColumnHasAField;

type Place = { category: Category } | { field: NumericRateField };
const NUMERIC_PLACES: readonly (readonly [NumericColumn, Place])[] = [
  ...WINDOW_STATS_COUNTER_COLUMNS,
  ...WINDOW_STATS_RATES,
].map((column) => {
  if (column.startsWith('cat_')) {
    const category = column.slice(4) as Category;
    if (!CATEGORIES.includes(category))
      throw new Error(`window_stats column ${column}: no category ${category}`);
    return [column, { category }] as const;
  }
  const field = column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return [column, { field: field as NumericRateField }] as const;
});

/** A window_stats row as JSONEachRow carries it; columns as window-stats.ts lists them. */
export type RateTableRow = {
  scope: string;
  key: string;
  window: string;
  ts: string;
  ts_ms: number;
  merchant_id: string;
  region: string;
} & Record<NumericColumn, number> & {
    volume_ratio: number | null;
    version: number;
  };

export function rateToRow(r: RateRow, version = Date.now()): RateTableRow {
  const ts = Date.parse(r.ts);
  const row: Record<string, unknown> = {
    scope: r.scope,
    key: r.key,
    window: r.window,
    ts: toClickHouseDateTime(ts),
    ts_ms: ts,
    merchant_id: r.merchantId ?? '',
    region: r.region ?? '',
  };
  for (const [column, place] of NUMERIC_PLACES)
    row[column] = 'category' in place ? (r.byCategory[place.category] ?? 0) : r[place.field];
  row['volume_ratio'] = r.volumeRatio ?? null;
  row['version'] = version;
  return row as RateTableRow;
}

export function rowToRate(r: RateTableRow): RateRow {
  const n = (v: unknown) => Number(v);
  const out = {
    scope: r.scope,
    key: r.key,
    window: r.window,
    ts: new Date(n(r.ts_ms)).toISOString(),
  } as RateRow;
  // Fields in column order, byCategory where the first category column is: the JSON the
  // gateway serves keeps one field order.
  for (const [column, place] of NUMERIC_PLACES) {
    if ('category' in place)
      (out.byCategory ??= {} as RateRow['byCategory'])[place.category] = n(r[column]);
    else out[place.field] = n(r[column]);
  }
  if (r.merchant_id) out.merchantId = r.merchant_id;
  if (r.region) out.region = r.region;
  if (r.volume_ratio !== null && r.volume_ratio !== undefined) out.volumeRatio = n(r.volume_ratio);
  return out;
}

/** Columns of window_stats in table order, for SELECT lists and argMax. */
export const RATE_COLUMNS = WINDOW_STATS_COLUMNS.map(
  ([column]) => column,
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
  /** a `resolve`'s verdict, '' for any other kind and for resolutions before migration 4 */
  verdict: z.enum(['', ...VERDICTS]).default(''),
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
    verdict: a.verdict,
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
    verdict: (r.verdict ?? '') as AlertAction['verdict'],
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
  /** a daily window within the range (kept in the row's doc: no column of its own) */
  recurring: silenceRecurrenceSchema.optional(),
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

/** One stage's rules memory as a rules_memory row (migrations 5, 6); `body` is its JSON. */
export interface RulesMemoryRowInput {
  stage: string;
  partition: number;
  partitions: number;
  at: number;
  body: string;
  /** the offset of the record whose batch took it (migration 6); -1 when unknown */
  offset?: number;
}

export function rulesMemoryToRow(m: RulesMemoryRowInput) {
  return {
    stage: m.stage,
    partition: m.partition,
    partitions: m.partitions,
    at_ms: m.at,
    body: m.body,
    source_offset: m.offset ?? -1,
  };
}
