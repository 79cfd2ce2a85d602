import { decodeEvent, type DecodeResult, type TerminalEvent } from './events';
import { build } from './fast-decode-build';
import { ENUMS, IDS, FIELD_COUNT, FIELD_NAMES, fieldAtBytes } from './fast-decode-fields';

export { fieldOf } from './fast-decode-fields';

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
 *
 * The scanner reads the record's bytes: keys are matched in place against the field names
 * (no key string is built for a known field), numbers are read from their digits, the id
 * fields' alphabet is checked as they are scanned, and the schema's literals (type, enums)
 * are returned as the literals themselves. The only strings made are one latin1 decode of
 * the whole record and a slice of it per other string value.
 */
export function decodeEventFast(raw: Uint8Array | string): DecodeResult {
  let ev: TerminalEvent | undefined;
  if (typeof raw === 'string') {
    // text is scanned as its UTF-8 bytes; the fast path accepts ASCII only, where byte offsets
    // are char offsets, so values are sliced from the text itself
    ev = tryFastPath(Buffer.from(raw, 'utf8'), raw);
  } else {
    const b = raw instanceof Buffer ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    ev = tryFastPath(b, undefined);
  }
  if (ev !== undefined) return { ok: true, event: ev };
  return decodeEvent(raw);
}

/** Counts of how events were decoded, for metrics (fast path share). */
export const fastDecodeStats = { fast: 0, fallback: 0 };

/** Buffer's native latin1 decoder (public on every Buffer, missing from @types/node). */
type Latin1 = { latin1Slice(start: number, end: number): string };

// ---- scanner -----------------------------------------------------------------------------
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
  LowerA = 97,
  LowerE = 101,
  LowerF = 102,
  LowerL = 108,
  LowerN = 110,
  LowerR = 114,
  LowerS = 115,
  LowerT = 116,
  LowerU = 117,
  Open = 123,
  Close = 125,
}

/** 1 for the bytes a string may hold as they are on the fast path: ASCII, no control char, no
 * quote or backslash (0x7f is allowed: JSON does not escape it). */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 0x80; c++) PLAIN[c] = c === C.Quote || c === C.Backslash ? 0 : 1;

/** 1 for the bytes of an id (zod's /^[A-Za-z0-9_.:-]+$/). */
const ID_CHAR = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  ID_CHAR[c] = /^[A-Za-z0-9_.:-]$/.test(ch) ? 1 : 0;
}

/** The end (index of the closing quote) of an id string whose first byte is at `i`, or -1 if
 * a byte before the closing quote is not of the id alphabet (zod would refuse the event). */
function scanId(b: Uint8Array, i: number): number {
  const n = b.length;
  while (i < n && ID_CHAR[b[i]!] === 1) i++;
  return b[i] === C.Quote ? i : -1;
}

/** Index of the first non-whitespace byte at or after i. Compact JSON has none: callers test
 * `b[i] <= 32` first and call this only then. */
function skipWs(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === C.Space || c === C.Nl || c === C.Cr || c === C.Tab) i++;
    else return i;
  }
}

/** The end (index of the closing quote) of a plain string whose first byte is at `i`, or -1
 * for anything the fast path does not handle (escape, control char, non-ASCII, end of input).
 */
function scanString(b: Uint8Array, i: number): number {
  const n = b.length;
  while (i < n && PLAIN[b[i]!] === 1) i++;
  return b[i] === C.Quote ? i : -1;
}

/** Strict JSON number at i; sets `num`, returns the index after it, or -1. */
function scanNumber(b: Uint8Array, s: string, i: number): number {
  const start = i;
  let neg = false;
  if (b[i] === C.Minus) {
    neg = true;
    i++;
  }
  let c = b[i]!;
  let v = 0;
  if (c === C.Zero) {
    i++;
  } else if (c > C.Zero && c <= C.Nine) {
    do {
      v = v * 10 + (c - C.Zero);
      i++;
    } while ((c = b[i]!) >= C.Zero && c <= C.Nine);
  } else return -1;
  const digits = i - start - (neg ? 1 : 0);
  c = b[i]!;
  let plain = true;
  if (c === C.Dot) {
    plain = false;
    i++;
    c = b[i]!;
    if (!(c >= C.Zero && c <= C.Nine)) return -1;
    do i++;
    while ((c = b[i]!) >= C.Zero && c <= C.Nine);
  }
  if (c === C.LowerE || c === C.E) {
    plain = false;
    i++;
    c = b[i]!;
    if (c === 43 /* + */ || c === C.Minus) {
      i++;
      c = b[i]!;
    }
    if (!(c >= C.Zero && c <= C.Nine)) return -1;
    do i++;
    while ((c = b[i]!) >= C.Zero && c <= C.Nine);
  }
  if (plain && digits <= 15) {
    num = neg ? -v : v; // exact below 2^53; -0 stays -0, as JSON.parse gives
  } else {
    // Number() on JSON number text rounds exactly as JSON.parse does
    num = Number(s.slice(start, i));
  }
  return i;
}

/** The value of a string field at [i, e) where it is one of the literals the schema names
 * (type, enums): the literal itself, so no string is built and later compares are identity;
 * else the slice (which validation then judges). */
function enumOrSlice(b: Uint8Array, s: string, i: number, e: number): string {
  const n = e - i;
  const c = b[i];
  let lit: string | undefined;
  switch (c) {
    case C.LowerA:
      lit = 'auth';
      break;
    case C.LowerR:
      lit = n === 8 ? 'reversal' : 'rejected';
      break;
    case C.LowerS:
      lit =
        b[i + 1] === C.LowerE
          ? n === 10
            ? 'settlement'
            : 'settled'
          : n === 9
            ? 'succeeded'
            : 'swipe';
      break;
    case 104 /* h */:
      lit = b[i + 1] === C.LowerE ? 'heartbeat' : 'host_error';
      break;
    case C.LowerT:
      lit = n === 7 ? 'timeout' : 'terminal_error';
      break;
    case 99 /* c */:
      lit = n === 4 ? 'chip' : n === 11 ? 'contactless' : n === 15 ? 'customer_cancel' : 'cellular';
      break;
    case C.LowerF:
      lit = 'failed';
      break;
    case 109 /* m */:
      lit = 'manual';
      break;
    case 113 /* q */:
      lit = 'qr';
      break;
    case 111 /* o */:
      lit = 'other';
      break;
    case C.LowerE:
      lit = 'ethernet';
      break;
    case 119 /* w */:
      lit = 'wifi';
      break;
  }
  if (lit !== undefined && lit.length === n) {
    let k = 1;
    while (k < n && b[i + k] === lit.charCodeAt(k)) k++;
    if (k === n) return lit;
  }
  return s.slice(i, e);
}

/** The decoded event if the fast path can vouch for it, else undefined. `text` is the event's
 * text when it came as a string (else its bytes are decoded as latin1 once, here). */
function tryFastPath(b: Buffer, text: string | undefined): TerminalEvent | undefined {
  const len = b.length;
  let seen = 0;
  let extras: [string, unknown][] | undefined;
  let i = 0;
  if (b[i]! <= C.Space) i = skipWs(b, i);
  if (b[i] !== C.Open) return miss();
  // One native call for the whole event; bytes >= 0x80 are caught by the scanner (they would
  // be UTF-8 sequences, which latin1 does not decode).
  const s = text ?? (b as unknown as Latin1).latin1Slice(0, len);
  i++;
  if (b[i]! <= C.Space) i = skipWs(b, i);
  if (b[i] === C.Close) return miss(); // {} is never a valid event
  for (;;) {
    if (b[i] !== C.Quote) return miss();
    const ks = i + 1;
    const f = fieldAtBytes(b, ks);
    let ke: number;
    if (f >= 0) {
      ke = ks + FIELD_NAMES[f]!.length;
    } else {
      ke = scanString(b, ks);
      if (ke < 0) return miss();
    }
    i = ke + 1;
    if (b[i]! <= C.Space) i = skipWs(b, i);
    if (b[i] !== C.Colon) return miss();
    i++;
    if (b[i]! <= C.Space) i = skipWs(b, i);
    let value: unknown;
    const c = b[i]!;
    if (c === C.Quote) {
      const ve = f >= 0 && (IDS & (1 << f)) !== 0 ? scanId(b, i + 1) : scanString(b, i + 1);
      if (ve < 0) return miss();
      value =
        f >= 0 && (ENUMS & (1 << f)) !== 0 ? enumOrSlice(b, s, i + 1, ve) : s.slice(i + 1, ve);
      i = ve + 1;
    } else if (c === C.Minus || (c >= C.Zero && c <= C.Nine)) {
      i = scanNumber(b, s, i);
      if (i < 0) return miss();
      value = num;
    } else if (
      c === C.LowerT &&
      b[i + 1] === C.LowerR &&
      b[i + 2] === C.LowerU &&
      b[i + 3] === C.LowerE
    ) {
      value = true;
      i += 4;
    } else if (
      c === C.LowerF &&
      b[i + 1] === C.LowerA &&
      b[i + 2] === C.LowerL &&
      b[i + 3] === C.LowerS &&
      b[i + 4] === C.LowerE
    ) {
      value = false;
      i += 5;
    } else if (
      c === C.LowerN &&
      b[i + 1] === C.LowerU &&
      b[i + 2] === C.LowerL &&
      b[i + 3] === C.LowerL
    ) {
      value = null;
      i += 4;
    } else return miss(); // nested object or array, or not JSON
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
    if (b[i]! <= C.Space) i = skipWs(b, i);
    const d = b[i];
    if (d === C.Comma) {
      i++;
      if (b[i]! <= C.Space) i = skipWs(b, i);
      continue;
    }
    if (d !== C.Close) return miss();
    i++;
    if (i < len && b[i]! <= C.Space) i = skipWs(b, i);
    if (i !== len) return miss();
    break;
  }
  // vals keeps this event's values until the next one's overwrite them: build reads only
  // the fields in `seen`
  const ev = build(vals, seen, extras);
  if (ev === undefined) return miss();
  fastDecodeStats.fast++;
  return ev;
}

function miss(): undefined {
  fastDecodeStats.fallback++;
  return undefined;
}
