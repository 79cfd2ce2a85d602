import { z } from 'zod';
import { alertSchema } from './alerts';

/**
 * pos.rollups: the inner topic between the event stage and the rollup stage
 * (docs/contract.md §5). Only processors write it, but it crosses a process boundary (a
 * processor of one version writes what another reads during a rolling deploy), so its records
 * are held to these schemas. Counter arrays are the core engine's metrics in its order
 * (METRIC_COUNT long at most; a missing trailing counter is 0). On the topic these records travel
 * as binary frames (@tillwatch/stream rollup-codec.ts, byte by byte in §5) or, written by older
 * processors, as their JSON; both read back to the same objects.
 */

const id = z.string().min(1).max(64);
const count = z.number().int().nonnegative();
const counts = z.array(count).max(64);
/** epoch ms, event time */
const ms = z.number().int();

/** [eventId, ts, terminalId, merchantId, region, firmware ('' unknown), code, txnId, amount, issuerId ('' none)] */
export const failureTupleSchema = z.tuple([
  id,
  ms,
  id,
  id,
  id,
  z.string().max(32),
  z.string().max(2),
  z.string().max(64),
  count,
  z.string().max(32),
]);
export type FailureTuple = z.infer<typeof failureTupleSchema>;

/** [terminalId, merchantId, region, firmware ('' unknown), ts, network (optional, added)] */
export const presenceTupleSchema = z.tuple([
  id,
  id,
  id,
  z.string().max(32),
  ms,
  z.string().max(16).optional(),
]);
export type PresenceTuple = z.infer<typeof presenceTupleSchema>;

/**
 * A terminal's silence as its source partition judged it (merchants are whole there):
 * [terminalId, merchantId, region, network ('' unknown), lastSeen, kind] where kind is
 * 0 = it spoke again, 1 = silent (no event for the silence gap), 2 = silent while another
 * terminal of its shop kept selling (the shop is open: not a closing).
 */
export const silenceTupleSchema = z.tuple([
  id,
  id,
  id,
  z.string().max(16),
  ms,
  z.union([z.literal(0), z.literal(1), z.literal(2)]),
]);
export type SilenceTuple = z.infer<typeof silenceTupleSchema>;

export const ROLLUP_SCOPES = ['region', 'firmware', 'issuer'] as const;

/** One source partition's counter deltas of one p0 pane [pane, pane + p0) of one key. */
export const partialRecordSchema = z.object({
  k: z.literal('p'),
  src: z.number().int().nonnegative(),
  s: z.enum(ROLLUP_SCOPES),
  key: id,
  pane: ms,
  c: counts,
  /** failures of the categories the cross-partition rules read, at most 8 per terminal per pane */
  f: z.array(failureTupleSchema).optional(),
  /** terminals of the key seen in the pane and not announced in the last 30 minutes */
  a: z.array(presenceTupleSchema).optional(),
  /** region partials: terminals of the region that went silent or spoke again (added) */
  q: z.array(silenceTupleSchema).optional(),
});
export type PartialRecord = z.infer<typeof partialRecordSchema>;

/** Source `src` (of `n`) has sent every partial of panes ending at or before `wm`. */
export const tickRecordSchema = z.object({
  k: z.literal('t'),
  src: z.number().int().nonnegative(),
  n: z.number().int().positive(),
  wm: ms,
  /** the source's fleet counts of the pane [wm - p0, wm) */
  c: counts.optional(),
  /** the source is caught up and quiet: do not wait for it until its next ordinary tick */
  idle: z.literal(true).optional(),
});
export type TickRecord = z.infer<typeof tickRecordSchema>;

/**
 * An alert transition of a partition-local rule, on its way out through the rollup stage of its
 * region (keyed "region:<region>"): there it is held until its boundary closes, and folded into
 * an open regional_outage of its region instead of paging on its own.
 */
export const localAlertRecordSchema = z.object({
  k: z.literal('x'),
  src: z.number().int().nonnegative(),
  a: alertSchema,
});
export type LocalAlertRecord = z.infer<typeof localAlertRecordSchema>;

/** Several records for one rollups partition, in order, in one Kafka record. */
export const bundleRecordSchema = z.object({
  k: z.literal('b'),
  r: z.array(
    z.discriminatedUnion('k', [partialRecordSchema, tickRecordSchema, localAlertRecordSchema]),
  ),
});
export type BundleRecord = z.infer<typeof bundleRecordSchema>;

export const rollupRecordSchema = z.discriminatedUnion('k', [
  partialRecordSchema,
  tickRecordSchema,
  localAlertRecordSchema,
  bundleRecordSchema,
]);
export type RollupRecord = z.infer<typeof rollupRecordSchema>;
