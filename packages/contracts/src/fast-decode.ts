import { decodeEvent, type DecodeResult, type TerminalEvent } from './events';
import { build } from './fast-decode-build';
import { ALL_FIELDS, FIELD_COUNT, fieldAt } from './fast-decode-fields';

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
  const ev = build(vals, seen, extras);
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

function clear(seen: number): void {
  for (let m = seen; m !== 0; m &= m - 1) vals[31 - Math.clz32(m & -m)] = undefined;
}
