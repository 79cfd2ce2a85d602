import { z } from 'zod';
import { CATEGORIES } from '@tillwatch/contracts';
import type { ClickHouse } from './client';
import { conds, epochMs, idList, limit, toDate } from './query-params';
import { rowToEvent, type EventRow, type StoredEvent } from './rows';
import { TABLES } from './schema';
import { SqlFragment, ident, inList, raw, sql } from './sql';

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
    /** one card's events (its fingerprint, read from the event as it arrived) */
    cardFingerprint: z.string().min(1).max(128).optional(),
    /** amount bounds in minor units, inclusive (events without an amount never match one) */
    minAmount: z.number().int().optional(),
    maxAmount: z.number().int().optional(),
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
  // no column of its own: the event's JSON as it arrived holds it (a flat object, which
  // visitParamExtractString reads fast on 18.16)
  if (q.cardFingerprint) {
    c.push(sql`visitParamExtractString(raw, 'cardFingerprint') = ${q.cardFingerprint}`);
  }
  if (q.minAmount !== undefined) c.push(sql`amount >= ${q.minAmount}`);
  if (q.maxAmount !== undefined) c.push(sql`amount <= ${q.maxAmount}`);
  return conds(c);
}

/**
 * The raw events behind a number: one terminal (or merchant, region...) over a time range, the
 * oldest or the newest `limit` of them.
 *
 * FINAL merges every row of the range, all columns (raw included): a month of a busy terminal
 * is ~260k rows and most of a second on 18.16, to keep 200. So first the time of the
 * `limit`-th row in the order asked, without FINAL and reading only the times; then FINAL over
 * the range up to that time (a day or an hour, not the month). A redelivered event the probe
 * saw twice can leave that narrower range with fewer than `limit` events: then the whole
 * range, as before.
 */
export async function queryDrillDown(
  ch: ClickHouse,
  input: DrillDownQuery,
): Promise<StoredEvent[]> {
  const q = drillDownQuerySchema.parse(input);
  const desc = q.order === 'desc';
  const read = async (r: z.infer<typeof drillDownQuerySchema>) =>
    (
      await ch.query<EventRow>(
        sql`SELECT * FROM ${ident(TABLES.events)} FINAL WHERE ${drillWhere(r)}
            ORDER BY ${raw(desc ? 'ts_ms DESC, event_id DESC' : 'ts_ms, event_id')}
            LIMIT ${r.limit}`,
      )
    ).map(rowToEvent);
  const [edge] = await ch.query<{ t: number }>(
    sql`SELECT ts_ms AS t FROM ${ident(TABLES.events)} WHERE ${drillWhere(q)}
        ORDER BY ${raw(desc ? 'ts_ms DESC' : 'ts_ms')} LIMIT 1 OFFSET ${q.limit - 1}`,
  );
  if (edge !== undefined) {
    const t = Number(edge.t);
    const near = await read(
      desc ? { ...q, from: Math.max(q.from, t) } : { ...q, to: Math.min(q.to, t) },
    );
    if (near.length >= q.limit) return near;
  }
  return read(q);
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
  // an event written twice is one event_id (the table's identity): uniqExact counts it once,
  // as FINAL would, without FINAL's merge of the range's rows (about half the time)
  const rows = await ch.query<{ response_code: string; n: number; lo: number; hi: number }>(
    sql`SELECT response_code, uniqExact(event_id) AS n, min(ts_ms) AS lo, max(ts_ms) AS hi
        FROM ${ident(TABLES.events)}
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
