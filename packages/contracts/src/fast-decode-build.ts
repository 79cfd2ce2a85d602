import { eventTimeSchema, type TerminalEvent } from './events';
import {
  F_AMOUNT,
  F_BATCH,
  F_CARD,
  F_CODE,
  F_CURRENCY,
  F_ENTRY,
  F_EVENT_ID,
  F_FIRMWARE,
  F_ISSUER,
  F_LATENCY,
  F_MERCHANT,
  F_NETWORK,
  F_REASON,
  F_REGION,
  F_SIGNAL,
  F_STATUS,
  F_TERMINAL,
  F_TS,
  F_TXN,
  F_TYPE,
  FIELD_COUNT,
  FIELD_NAMES,
  OWN,
  REQUIRED,
} from './fast-decode-fields';

/** zod's own ISO-8601 pattern for `ts` strings (z.iso.datetime is a regex check), so the fast
 * path accepts exactly the strings zod accepts; if zod ever hides it, ask zod each time. */
const isoPattern: RegExp | undefined = (() => {
  const opts = (
    eventTimeSchema as unknown as { options?: { _zod?: { def?: { pattern?: unknown } } }[] }
  ).options;
  const p = opts?.[1]?._zod?.def?.pattern;
  return p instanceof RegExp ? p : undefined;
})();
function isIsoTs(s: string): boolean {
  return isoPattern ? isoPattern.test(s) : eventTimeSchema.safeParse(s).success;
}

// ---- validation (mirrors events.ts; anything in doubt returns undefined) -----------------

const MAX_DATE_MS = 8.64e15;
const AUTH_OPTIONAL =
  (1 << F_LATENCY) | (1 << F_ENTRY) | (1 << F_CARD) | (1 << F_ISSUER) | (1 << F_FIRMWARE);

/**
 * The event zod would return for the field values `vals` (fields `seen`, unknown keys
 * `extras`), or undefined when the fast path cannot vouch for it.
 */
export function build(
  vals: readonly unknown[],
  seen: number,
  extras: [string, unknown][] | undefined,
): TerminalEvent | undefined {
  // vals[f] is this event's only where `seen` has f: every read below is behind that test
  if ((seen & (1 << F_TYPE)) === 0) return undefined;
  const type = vals[F_TYPE];
  let own: number;
  let required: number;
  switch (type) {
    case 'auth':
      own = OWN.auth;
      required = REQUIRED.auth;
      break;
    case 'reversal':
      own = OWN.reversal;
      required = REQUIRED.reversal;
      break;
    case 'settlement':
      own = OWN.settlement;
      required = REQUIRED.settlement;
      break;
    case 'heartbeat':
      own = OWN.heartbeat;
      required = REQUIRED.heartbeat;
      break;
    default:
      return undefined;
  }
  if ((seen & required) !== required) return undefined;
  // common fields
  const eventId = vals[F_EVENT_ID];
  if (typeof eventId !== 'string' || eventId.length < 1 || eventId.length > 64) return undefined;
  const tsIn = vals[F_TS];
  let ts: number;
  if (typeof tsIn === 'number') {
    if (!(tsIn >= 0 && tsIn <= MAX_DATE_MS)) return undefined;
    ts = tsIn;
  } else if (typeof tsIn === 'string') {
    if (!isIsoTs(tsIn)) return undefined;
    ts = Date.parse(tsIn);
  } else return undefined;
  const terminalId = vals[F_TERMINAL];
  const merchantId = vals[F_MERCHANT];
  const region = vals[F_REGION];
  // their chars were checked by the scanner (IDS): a string here is of the id alphabet
  if (!isIdLength(terminalId) || !isIdLength(merchantId) || !isIdLength(region)) return undefined;

  let ev: Record<string, unknown>;
  switch (type) {
    case 'auth': {
      const txnId = vals[F_TXN];
      const amount = vals[F_AMOUNT];
      const currency = vals[F_CURRENCY];
      const responseCode = vals[F_CODE];
      if (!isStr(txnId, 64) || !isAmount(amount)) return undefined;
      if (!isCurrency(currency) || !isResponseCode(responseCode)) return undefined;
      const latencyMs = vals[F_LATENCY];
      const entryMode = vals[F_ENTRY];
      const cardFingerprint = vals[F_CARD];
      const issuerId = vals[F_ISSUER];
      const firmware = vals[F_FIRMWARE];
      if (seen & (1 << F_LATENCY)) {
        if (typeof latencyMs !== 'number' || !(latencyMs >= 0) || latencyMs === Infinity) {
          return undefined;
        }
      }
      if (seen & (1 << F_ENTRY)) {
        if (
          entryMode !== 'chip' &&
          entryMode !== 'swipe' &&
          entryMode !== 'contactless' &&
          entryMode !== 'manual' &&
          entryMode !== 'qr'
        ) {
          return undefined;
        }
      }
      if (seen & (1 << F_CARD) && !isStr(cardFingerprint, 64)) return undefined;
      if (seen & (1 << F_ISSUER) && !isStr(issuerId, 32)) return undefined;
      if (seen & (1 << F_FIRMWARE) && !isStr(firmware, 32)) return undefined;
      if ((seen & AUTH_OPTIONAL) === AUTH_OPTIONAL) {
        // what producers send: one literal, so every such event has the same shape (map)
        ev = {
          type,
          eventId,
          ts,
          terminalId,
          merchantId,
          region,
          txnId,
          amount,
          currency,
          responseCode,
          latencyMs,
          entryMode,
          cardFingerprint,
          issuerId,
          firmware,
        };
        break;
      }
      ev = {
        type,
        eventId,
        ts,
        terminalId,
        merchantId,
        region,
        txnId,
        amount,
        currency,
        responseCode,
      };
      if (seen & (1 << F_LATENCY)) ev.latencyMs = latencyMs;
      if (seen & (1 << F_ENTRY)) ev.entryMode = entryMode;
      if (seen & (1 << F_CARD)) ev.cardFingerprint = cardFingerprint;
      if (seen & (1 << F_ISSUER)) ev.issuerId = issuerId;
      if (seen & (1 << F_FIRMWARE)) ev.firmware = firmware;
      break;
    }
    case 'reversal': {
      const txnId = vals[F_TXN];
      const reason = vals[F_REASON];
      const status = vals[F_STATUS];
      if (!isStr(txnId, 64)) return undefined;
      if (
        reason !== 'timeout' &&
        reason !== 'customer_cancel' &&
        reason !== 'terminal_error' &&
        reason !== 'host_error' &&
        reason !== 'other'
      ) {
        return undefined;
      }
      if (status !== 'succeeded' && status !== 'failed') return undefined;
      ev = { type, eventId, ts, terminalId, merchantId, region, txnId, reason, status };
      break;
    }
    case 'settlement': {
      const txnId = vals[F_TXN];
      const amount = vals[F_AMOUNT];
      const status = vals[F_STATUS];
      if (!isStr(txnId, 64) || !isAmount(amount)) return undefined;
      if (status !== 'settled' && status !== 'rejected') return undefined;
      ev = { type, eventId, ts, terminalId, merchantId, region, txnId, amount, status };
      if (seen & (1 << F_BATCH)) {
        if (typeof vals[F_BATCH] !== 'string') return undefined;
        ev.batchId = vals[F_BATCH];
      }
      break;
    }
    default: {
      ev = { type, eventId, ts, terminalId, merchantId, region };
      if (seen & (1 << F_FIRMWARE)) {
        if (!isStr(vals[F_FIRMWARE], 32)) return undefined;
        ev.firmware = vals[F_FIRMWARE];
      }
      if (seen & (1 << F_NETWORK)) {
        const v = vals[F_NETWORK];
        if (v !== 'ethernet' && v !== 'wifi' && v !== 'cellular') return undefined;
        ev.network = v;
      }
      if (seen & (1 << F_SIGNAL)) {
        const v = vals[F_SIGNAL];
        if (typeof v !== 'number' || !(v >= 0 && v <= 100)) return undefined;
        ev.signal = v;
      }
    }
  }
  // fields of other types are unknown keys here: passed through as they came
  const foreign = seen & ~own;
  if (foreign !== 0) {
    for (let f = 0; f < FIELD_COUNT; f++) if (foreign & (1 << f)) ev[FIELD_NAMES[f]!] = vals[f];
  }
  if (extras !== undefined) for (const [k, v] of extras) ev[k] = v;
  return ev as TerminalEvent;
}

function isStr(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= max;
}

/** A string of 1..32 chars (the scanner has checked they are [A-Za-z0-9_.:-]). */
function isIdLength(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= 32;
}

function isAmount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}

function isCurrency(v: unknown): v is string {
  if (typeof v !== 'string' || v.length !== 3) return false;
  for (let k = 0; k < 3; k++) {
    const c = v.charCodeAt(k);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

function isResponseCode(v: unknown): v is string {
  if (typeof v !== 'string' || v.length !== 2) return false;
  for (let k = 0; k < 2; k++) {
    const c = v.charCodeAt(k);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90))) return false;
  }
  return true;
}
