import { z } from 'zod';
import { firstInvalidUtf8 } from './utf8';

/**
 * Terminal events (docs/contract.md §1). These schemas are the executable form of the contract:
 * change them only by adding optional fields.
 */

const ID_ALPHABET = /^[A-Za-z0-9_.:-]+$/;
const idField = (max: number) =>
  z.string().min(1).max(max).regex(ID_ALPHABET, `only [A-Za-z0-9_.:-] allowed`);

/** Event time: epoch milliseconds, or ISO-8601 with an offset. Normalised to epoch ms. */
export const eventTimeSchema = z.union([
  z
    .number()
    .finite()
    .nonnegative()
    .refine((n) => Number.isFinite(new Date(n).getTime()), 'epoch milliseconds out of range'),
  z.iso.datetime({ offset: true, local: false }),
]);

export function eventTimeToMs(ts: number | string): number {
  return typeof ts === 'number' ? ts : Date.parse(ts);
}

const common = {
  eventId: z.string().min(1).max(64),
  ts: eventTimeSchema,
  terminalId: idField(32),
  merchantId: idField(32),
  region: idField(32),
};

export const ENTRY_MODES = ['chip', 'swipe', 'contactless', 'manual', 'qr'] as const;
export const REVERSAL_REASONS = [
  'timeout',
  'customer_cancel',
  'terminal_error',
  'host_error',
  'other',
] as const;
export type ReversalReason = (typeof REVERSAL_REASONS)[number];
export const NETWORKS = ['ethernet', 'wifi', 'cellular'] as const;

export const authEventSchema = z.looseObject({
  type: z.literal('auth'),
  ...common,
  txnId: z.string().min(1).max(64),
  amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217: 3 upper-case letters'),
  responseCode: z.string().regex(/^[0-9A-Z]{2}$/, 'ISO 8583 field 39: 2 chars [0-9A-Z]'),
  latencyMs: z.number().finite().nonnegative().optional(),
  entryMode: z.enum(ENTRY_MODES).optional(),
  cardFingerprint: z.string().min(1).max(64).optional(),
  issuerId: z.string().min(1).max(32).optional(),
  firmware: z.string().min(1).max(32).optional(),
});

export const reversalEventSchema = z.looseObject({
  type: z.literal('reversal'),
  ...common,
  txnId: z.string().min(1).max(64),
  reason: z.enum(REVERSAL_REASONS),
  status: z.enum(['succeeded', 'failed']),
});

export const settlementEventSchema = z.looseObject({
  type: z.literal('settlement'),
  ...common,
  txnId: z.string().min(1).max(64),
  amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  status: z.enum(['settled', 'rejected']),
  batchId: z.string().optional(),
});

export const heartbeatEventSchema = z.looseObject({
  type: z.literal('heartbeat'),
  ...common,
  firmware: z.string().min(1).max(32).optional(),
  network: z.enum(NETWORKS).optional(),
  signal: z.number().finite().min(0).max(100).optional(),
});

/** One terminal event as it arrives on the wire (ts still in either form). */
export const terminalEventSchema = z.discriminatedUnion('type', [
  authEventSchema,
  reversalEventSchema,
  settlementEventSchema,
  heartbeatEventSchema,
]);

export type AuthEventIn = z.infer<typeof authEventSchema>;
export type ReversalEventIn = z.infer<typeof reversalEventSchema>;
export type SettlementEventIn = z.infer<typeof settlementEventSchema>;
export type HeartbeatEventIn = z.infer<typeof heartbeatEventSchema>;
export type TerminalEventIn = z.infer<typeof terminalEventSchema>;

/** A validated event with `ts` normalised to epoch milliseconds: what the engine consumes. */
export type TerminalEvent = TerminalEventIn & { ts: number };
export type AuthEvent = AuthEventIn & { ts: number };
export type ReversalEvent = ReversalEventIn & { ts: number };
export type SettlementEvent = SettlementEventIn & { ts: number };
export type HeartbeatEvent = HeartbeatEventIn & { ts: number };
export type EventType = TerminalEvent['type'];

export type DecodeResult = { ok: true; event: TerminalEvent } | { ok: false; reason: string };

/** Human-readable reason from a zod error: "amount: expected integer; ts: invalid". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Validate an already-parsed JSON value. The reference decoder: zod is the source of truth. */
export function validateEvent(value: unknown): DecodeResult {
  const r = terminalEventSchema.safeParse(value);
  if (!r.success) return { ok: false, reason: describeIssues(r.error) };
  const ev = r.data as TerminalEvent;
  ev.ts = eventTimeToMs(r.data.ts);
  return { ok: true, event: ev };
}

/** Decode bytes or text of one event: JSON.parse then zod. */
export function decodeEvent(raw: Uint8Array | string): DecodeResult {
  // bytes that are not UTF-8 are refused, not replaced by U+FFFD and accepted
  if (typeof raw !== 'string') {
    const bad = firstInvalidUtf8(raw);
    if (bad >= 0) return { ok: false, reason: `invalid UTF-8 at byte ${bad}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
  } catch (e) {
    return { ok: false, reason: `invalid JSON: ${(e as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'event must be a JSON object' };
  }
  return validateEvent(value);
}
