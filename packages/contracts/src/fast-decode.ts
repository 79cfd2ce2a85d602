import { decodeEvent, eventTimeSchema, type DecodeResult, type TerminalEvent } from './events';

/**
 * A hand-tuned decoder for terminal events, equal to `decodeEvent` (JSON.parse + zod) and
 * several times faster on the shape every producer sends: one flat JSON object, ASCII strings
 * without escapes, plain numbers.
 *
 * zod stays the source of truth. The fast path accepts an event only when it is sure zod
 * would, and then builds the very object zod would return (known fields, unknown extra fields
 * passed through, `ts` as epoch ms). Anything else — escapes, non-ASCII, nested values,
 * duplicate keys, `__proto__`, any field zod might reject — goes to `decodeEvent`, which
 * produces the result (and a reject's reason) exactly as before. So a reject always comes
 * from zod, and the fast path can only be wrong by accepting something zod rejects, which
 * the equivalence tests (fast-check + edge cases) look for.
 */
export function decodeEventFast(raw: Uint8Array | string): DecodeResult {
  const text = typeof raw === 'string' ? raw : latin1(raw);
  const ev = tryFastPath(text);
  if (ev !== undefined) return { ok: true, event: ev };
  return decodeEvent(raw);
}

/** Counts of how events were decoded, for metrics (fast path share). */
export const fastDecodeStats = { fast: 0, fallback: 0 };

/** Buffer's native latin1 decoder (public on every Buffer, missing from @types/node). */
type Latin1 = { latin1Slice(start: number, end: number): string };

function latin1(buf: Uint8Array): string {
  // One native call for the whole event; bytes >= 0x80 are caught by the scanner (they would
  // be UTF-8 sequences, which latin1 does not decode).
  const b = buf instanceof Buffer ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return (b as unknown as Latin1).latin1Slice(0, b.length);
}

// ---- fields ------------------------------------------------------------------------------
const F_TYPE = 0;
const F_EVENT_ID = 1;
const F_TS = 2;
const F_TERMINAL = 3;
const F_MERCHANT = 4;
const F_REGION = 5;
const F_TXN = 6;
const F_AMOUNT = 7;
const F_CURRENCY = 8;
const F_CODE = 9;
const F_LATENCY = 10;
const F_ENTRY = 11;
const F_CARD = 12;
const F_ISSUER = 13;
const F_FIRMWARE = 14;
const F_REASON = 15;
const F_STATUS = 16;
const F_BATCH = 17;
const F_NETWORK = 18;
const F_SIGNAL = 19;
const FIELD_NAMES = [
  'type',
  'eventId',
  'ts',
  'terminalId',
  'merchantId',
  'region',
  'txnId',
  'amount',
  'currency',
  'responseCode',
  'latencyMs',
  'entryMode',
  'cardFingerprint',
  'issuerId',
  'firmware',
  'reason',
  'status',
  'batchId',
  'network',
  'signal',
] as const;
const FIELD_COUNT = FIELD_NAMES.length;

/** Fields each type's schema declares; the others are passed through like unknown keys. */
const OWN = {
  auth: mask([
    F_TYPE,
    F_EVENT_ID,
    F_TS,
    F_TERMINAL,
    F_MERCHANT,
    F_REGION,
    F_TXN,
    F_AMOUNT,
    F_CURRENCY,
    F_CODE,
    F_LATENCY,
    F_ENTRY,
    F_CARD,
    F_ISSUER,
    F_FIRMWARE,
  ]),
  reversal: mask([
    F_TYPE,
    F_EVENT_ID,
    F_TS,
    F_TERMINAL,
    F_MERCHANT,
    F_REGION,
    F_TXN,
    F_REASON,
    F_STATUS,
  ]),
  settlement: mask([
    F_TYPE,
    F_EVENT_ID,
    F_TS,
    F_TERMINAL,
    F_MERCHANT,
    F_REGION,
    F_TXN,
    F_AMOUNT,
    F_STATUS,
    F_BATCH,
  ]),
  heartbeat: mask([
    F_TYPE,
    F_EVENT_ID,
    F_TS,
    F_TERMINAL,
    F_MERCHANT,
    F_REGION,
    F_FIRMWARE,
    F_NETWORK,
    F_SIGNAL,
  ]),
};

function mask(fields: number[]): number {
  return fields.reduce((m, f) => m | (1 << f), 0);
}

/** Field of the key at s[start, end) without slicing it out, or -1 (an unknown key). */
function fieldAt(s: string, start: number, end: number): number {
  let f: number;
  switch (end - start) {
    case 2:
      f = F_TS;
      break;
    case 4:
      f = F_TYPE;
      break;
    case 5:
      f = F_TXN;
      break;
    case 6:
      f =
        s.charCodeAt(start) === 114 /* r */
          ? s.charCodeAt(start + 2) === 103
            ? F_REGION
            : F_REASON
          : s.charCodeAt(start) === 97 /* a */
            ? F_AMOUNT
            : s.charCodeAt(start) === 115 /* s */
              ? s.charCodeAt(start + 1) === 116
                ? F_STATUS
                : F_SIGNAL
              : -1;
      break;
    case 7:
      f =
        s.charCodeAt(start) === 101 /* e */
          ? F_EVENT_ID
          : s.charCodeAt(start) === 98 /* b */
            ? F_BATCH
            : F_NETWORK;
      break;
    case 8:
      f =
        s.charCodeAt(start) === 99 /* c */
          ? F_CURRENCY
          : s.charCodeAt(start) === 105 /* i */
            ? F_ISSUER
            : F_FIRMWARE;
      break;
    case 9:
      f = s.charCodeAt(start) === 108 /* l */ ? F_LATENCY : F_ENTRY;
      break;
    case 10:
      f = s.charCodeAt(start) === 116 /* t */ ? F_TERMINAL : F_MERCHANT;
      break;
    case 12:
      f = F_CODE;
      break;
    case 15:
      f = F_CARD;
      break;
    default:
      return -1;
  }
  if (f < 0) return -1;
  // a char loop: String.prototype.startsWith is a builtin call per key, several times slower
  const name = FIELD_NAMES[f]!;
  for (let k = 1; k < name.length; k++) {
    if (s.charCodeAt(start + k) !== name.charCodeAt(k)) return -1;
  }
  return s.charCodeAt(start) === name.charCodeAt(0) ? f : -1;
}

export function fieldOf(key: string): number {
  switch (key) {
    case 'type':
      return F_TYPE;
    case 'eventId':
      return F_EVENT_ID;
    case 'ts':
      return F_TS;
    case 'terminalId':
      return F_TERMINAL;
    case 'merchantId':
      return F_MERCHANT;
    case 'region':
      return F_REGION;
    case 'txnId':
      return F_TXN;
    case 'amount':
      return F_AMOUNT;
    case 'currency':
      return F_CURRENCY;
    case 'responseCode':
      return F_CODE;
    case 'latencyMs':
      return F_LATENCY;
    case 'entryMode':
      return F_ENTRY;
    case 'cardFingerprint':
      return F_CARD;
    case 'issuerId':
      return F_ISSUER;
    case 'firmware':
      return F_FIRMWARE;
    case 'reason':
      return F_REASON;
    case 'status':
      return F_STATUS;
    case 'batchId':
      return F_BATCH;
    case 'network':
      return F_NETWORK;
    case 'signal':
      return F_SIGNAL;
    default:
      return -1;
  }
}

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

// ---- scanner ------------------------------------------------------------------------------
/** field values of the event being decoded (reused: decoding is synchronous) */
const vals: unknown[] = new Array(FIELD_COUNT).fill(undefined);
/** scratch for scanNumber */
let num = 0;

const enum C {
  Tab = 9,
  Nl = 10,
  Cr = 13,
  Space = 32,
  Quote = 34,
  Comma = 44,
  Minus = 45,
  Dot = 46,
  Zero = 48,
  Nine = 57,
  Colon = 58,
  E = 69,
  Backslash = 92,
  LowerE = 101,
  LowerF = 102,
  LowerN = 110,
  LowerT = 116,
  Open = 123,
  Close = 125,
}

/** Index of the first non-whitespace char at or after i. Compact JSON has none: callers test
 * `s.charCodeAt(i) <= 32` first and call this only then. */
function skipWs(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === C.Space || c === C.Nl || c === C.Cr || c === C.Tab) i++;
    else return i;
  }
}

/** Returns the end (index of the closing quote) of a plain string starting after `i`'s quote,
 * or -1 for anything the fast path does not handle (escape, control char, non-ASCII, EOF). */
function scanString(s: string, i: number): number {
  const n = s.length;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === C.Quote) return i;
    if (c < 0x20 || c === C.Backslash || c >= 0x80) return -1;
  }
  return -1;
}

/** Strict JSON number at i; sets `num`, returns the index after it, or -1. */
function scanNumber(s: string, i: number): number {
  const start = i;
  let neg = false;
  if (s.charCodeAt(i) === C.Minus) {
    neg = true;
    i++;
  }
  let c = s.charCodeAt(i);
  if (c === C.Zero) {
    i++;
  } else if (c > C.Zero && c <= C.Nine) {
    do i++;
    while ((c = s.charCodeAt(i)) >= C.Zero && c <= C.Nine);
  } else return -1;
  const intEnd = i;
  c = s.charCodeAt(i);
  let plain = true;
  if (c === C.Dot) {
    plain = false;
    i++;
    c = s.charCodeAt(i);
    if (!(c >= C.Zero && c <= C.Nine)) return -1;
    do i++;
    while ((c = s.charCodeAt(i)) >= C.Zero && c <= C.Nine);
  }
  if (c === C.LowerE || c === C.E) {
    plain = false;
    i++;
    c = s.charCodeAt(i);
    if (c === 43 /* + */ || c === C.Minus) {
      i++;
      c = s.charCodeAt(i);
    }
    if (!(c >= C.Zero && c <= C.Nine)) return -1;
    do i++;
    while ((c = s.charCodeAt(i)) >= C.Zero && c <= C.Nine);
  }
  const digits = intEnd - start - (neg ? 1 : 0);
  if (plain && digits <= 15) {
    let v = 0;
    for (let k = intEnd - digits; k < intEnd; k++) v = v * 10 + (s.charCodeAt(k) - C.Zero);
    num = neg ? -v : v; // -0 stays -0, as JSON.parse gives
  } else {
    // Number() on JSON number text rounds exactly as JSON.parse does
    num = Number(s.slice(start, i));
  }
  return i;
}

/** The decoded event if the fast path can vouch for it, else undefined. */
function tryFastPath(s: string): TerminalEvent | undefined {
  let seen = 0;
  let extras: [string, unknown][] | undefined;
  let i = skipWs(s, 0);
  if (s.charCodeAt(i) !== C.Open) return miss();
  i = skipWs(s, i + 1);
  if (s.charCodeAt(i) === C.Close) return miss(); // {} is never a valid event
  for (;;) {
    if (s.charCodeAt(i) !== C.Quote) return miss();
    const ke = scanString(s, i + 1);
    if (ke < 0) return miss();
    const ks = i + 1;
    i = ke + 1;
    if (s.charCodeAt(i) <= C.Space) i = skipWs(s, i);
    if (s.charCodeAt(i) !== C.Colon) return miss();
    i++;
    if (s.charCodeAt(i) <= C.Space) i = skipWs(s, i);
    let value: unknown;
    const c = s.charCodeAt(i);
    if (c === C.Quote) {
      const ve = scanString(s, i + 1);
      if (ve < 0) return miss();
      value = s.slice(i + 1, ve);
      i = ve + 1;
    } else if (c === C.Minus || (c >= C.Zero && c <= C.Nine)) {
      i = scanNumber(s, i);
      if (i < 0) return miss();
      value = num;
    } else if (c === C.LowerT && s.startsWith('true', i)) {
      value = true;
      i += 4;
    } else if (c === C.LowerF && s.startsWith('false', i)) {
      value = false;
      i += 5;
    } else if (c === C.LowerN && s.startsWith('null', i)) {
      value = null;
      i += 4;
    } else return miss(); // nested object or array, or not JSON
    const f = fieldAt(s, ks, ke);
    if (f >= 0) {
      if (seen & (1 << f)) return miss(); // duplicate key: JSON.parse keeps the last; let it
      seen |= 1 << f;
      vals[f] = value;
    } else {
      const key = s.slice(ks, ke);
      if (key === '__proto__') return miss();
      if (extras === undefined) extras = [];
      else for (const [k] of extras) if (k === key) return miss();
      extras.push([key, value]);
    }
    if (s.charCodeAt(i) <= C.Space) i = skipWs(s, i);
    const d = s.charCodeAt(i);
    if (d === C.Comma) {
      i++;
      if (s.charCodeAt(i) <= C.Space) i = skipWs(s, i);
      continue;
    }
    if (d !== C.Close) return miss();
    i = skipWs(s, i + 1);
    if (i !== s.length) return miss();
    break;
  }
  const ev = build(seen, extras);
  clear(seen);
  if (ev === undefined) return miss();
  fastDecodeStats.fast++;
  return ev;
}

function miss(): undefined {
  clear(ALL_FIELDS);
  fastDecodeStats.fallback++;
  return undefined;
}

const ALL_FIELDS = (1 << FIELD_COUNT) - 1;

function clear(seen: number): void {
  for (let m = seen; m !== 0; m &= m - 1) vals[31 - Math.clz32(m & -m)] = undefined;
}

// ---- validation (mirrors events.ts; anything in doubt returns undefined) -----------------

const MAX_DATE_MS = 8.64e15;

function build(seen: number, extras: [string, unknown][] | undefined): TerminalEvent | undefined {
  const type = vals[F_TYPE];
  let own: number;
  switch (type) {
    case 'auth':
      own = OWN.auth;
      break;
    case 'reversal':
      own = OWN.reversal;
      break;
    case 'settlement':
      own = OWN.settlement;
      break;
    case 'heartbeat':
      own = OWN.heartbeat;
      break;
    default:
      return undefined;
  }
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
  if (!isId(terminalId) || !isId(merchantId) || !isId(region)) return undefined;

  let ev: Record<string, unknown>;
  switch (type) {
    case 'auth': {
      const txnId = vals[F_TXN];
      const amount = vals[F_AMOUNT];
      const currency = vals[F_CURRENCY];
      const responseCode = vals[F_CODE];
      if (!isStr(txnId, 64) || !isAmount(amount)) return undefined;
      if (!isCurrency(currency) || !isResponseCode(responseCode)) return undefined;
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
      if (seen & (1 << F_LATENCY)) {
        const v = vals[F_LATENCY];
        if (typeof v !== 'number' || !(v >= 0) || v === Infinity) return undefined;
        ev.latencyMs = v;
      }
      if (seen & (1 << F_ENTRY)) {
        const v = vals[F_ENTRY];
        if (v !== 'chip' && v !== 'swipe' && v !== 'contactless' && v !== 'manual' && v !== 'qr') {
          return undefined;
        }
        ev.entryMode = v;
      }
      if (seen & (1 << F_CARD)) {
        if (!isStr(vals[F_CARD], 64)) return undefined;
        ev.cardFingerprint = vals[F_CARD];
      }
      if (seen & (1 << F_ISSUER)) {
        if (!isStr(vals[F_ISSUER], 32)) return undefined;
        ev.issuerId = vals[F_ISSUER];
      }
      if (seen & (1 << F_FIRMWARE)) {
        if (!isStr(vals[F_FIRMWARE], 32)) return undefined;
        ev.firmware = vals[F_FIRMWARE];
      }
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

/** 1..32 chars of [A-Za-z0-9_.:-] */
function isId(v: unknown): v is string {
  if (typeof v !== 'string' || v.length < 1 || v.length > 32) return false;
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k);
    if (!(
      (c >= 97 && c <= 122) ||
      (c >= 65 && c <= 90) ||
      (c >= 48 && c <= 58) || // 0-9 and ':'
      c === 95 ||
      c === 46 ||
      c === 45
    )) {
      return false;
    }
  }
  return true;
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
