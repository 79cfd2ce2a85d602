import type {
  FailureTuple,
  LocalAlertRecord,
  PartialRecord,
  PresenceTuple,
  RollupRecord,
  SilenceTuple,
  TickRecord,
} from '@tillwatch/contracts';

/**
 * The binary frame of pos.rollups (docs/contract.md §5): a bundle of partials, ticks and local
 * alert records, written into one growing Buffer with a cursor, read back into exactly the
 * objects JSON.parse(JSON.stringify(record)) gives (same fields, same absent optional fields),
 * so the rollup stage takes either form. A value whose first byte is `{` is the legacy JSON
 * form (older processors, topics they wrote): decodeRollupRecord reads both.
 *
 *   byte 0     0xF7 magic (never the first byte of JSON, nor of UTF-8)
 *   byte 1      version, 1
 *   bytes 2-5   records in the frame, u32 little-endian
 *   bytes 6-13  base: f64 little-endian epoch ms (the frame's first ms field; 0 if none); every
 *               ms field below is a zigzag varint of (value - base), so within 2^52 of it
 *   then the records, to the end of the value, each a tag byte ('p', 't', 'x') and its fields.
 *
 * Integers are unsigned LEB128 varints (non-negative safe integers). A string is a varint h:
 * h even, a literal of h/2 UTF-8 bytes that also becomes the next entry of the frame's string
 * table; h odd, the table's entry (h-1)/2 (a repeat). The writer interns the strings that
 * repeat (keys, region, merchant, terminal, firmware, code, issuer, network) and writes event
 * and transaction ids as literals.
 */

export const ROLLUP_FRAME_MAGIC = 0xf7;
export const ROLLUP_FRAME_VERSION = 1;
const HEADER = 14;
const TAG_P = 0x70; // 'p'
const TAG_T = 0x74; // 't'
const TAG_X = 0x78; // 'x'
const SCOPES = ['region', 'firmware', 'issuer'] as const;
const P_F = 1;
const P_A = 2;
const P_Q = 4;
const T_C = 1;
const T_IDLE = 2;
/** presence network: tuple of 5, a string, JSON's null (an undefined 6th element) */
const NET_NONE = 0;
const NET_STR = 1;
const NET_NULL = 2;
/** strings up to this many UTF-16 units are tried as ASCII in JS (shorter than a native call) */
const SHORT = 48;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A pos.rollups value that is neither a readable frame nor legacy JSON. */
export class RollupFrameError extends Error {
  override name = 'RollupFrameError';
}

/**
 * Writes one frame at a time into a buffer it keeps and grows (one writer serves every bundle
 * of a process: reset, add records, finish). Throws RollupFrameError on a value the frame cannot
 * carry exactly (a counter that is not a non-negative integer, a lone surrogate): records of the
 * contract's schemas never have one.
 */
export class RollupFrameWriter {
  private buf: Buffer;
  private pos = HEADER;
  private base = Number.NaN;
  private readonly table = new Map<string, number>();
  private entries = 0;
  /** records in the open frame */
  records = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, 64));
    this.reset();
  }

  /** bytes of the open frame so far */
  get bytes(): number {
    return this.pos;
  }

  /** Start a new frame (the open one is dropped). */
  reset(): void {
    this.buf[0] = ROLLUP_FRAME_MAGIC;
    this.buf[1] = ROLLUP_FRAME_VERSION;
    this.buf.writeDoubleLE(0, 6);
    this.pos = HEADER;
    this.base = Number.NaN;
    this.table.clear();
    this.entries = 0;
    this.records = 0;
  }

  /**
   * The open frame as a Buffer of its own, up to `end` (default: all of it). `end` = the `bytes`
   * read before the last add() leaves that record out: a bundle cut at its limit, the record
   * then goes into the next frame (reset(), add() again).
   */
  finish(end = this.pos): Buffer {
    this.buf.writeUInt32LE(end < this.pos ? this.records - 1 : this.records, 2);
    const out = Buffer.allocUnsafe(end);
    this.buf.copy(out, 0, 0, end);
    return out;
  }

  add(rec: RollupRecord): void {
    switch (rec.k) {
      case 'p':
        this.partial(rec);
        break;
      case 't':
        this.tick(rec);
        break;
      case 'x':
        this.alert(rec);
        break;
      case 'b':
        for (const r of rec.r) this.add(r);
        return;
      default:
        throw new RollupFrameError(
          `unknown rollup record kind ${JSON.stringify((rec as RollupRecord).k)}`,
        );
    }
    this.records++;
  }

  private partial(r: PartialRecord): void {
    this.need(8);
    this.buf[this.pos++] = TAG_P;
    this.uv(r.src);
    const s = SCOPES.indexOf(r.s);
    if (s < 0) throw new RollupFrameError(`unknown rollup scope ${JSON.stringify(r.s)}`);
    this.buf[this.pos++] = s;
    this.str(r.key, true);
    this.ms(r.pane);
    this.counts(r.c);
    const flags = (r.f ? P_F : 0) | (r.a ? P_A : 0) | (r.q ? P_Q : 0);
    this.need(1);
    this.buf[this.pos++] = flags;
    if (r.f) {
      this.uv(r.f.length);
      for (const f of r.f) this.failure(f);
    }
    if (r.a) {
      this.uv(r.a.length);
      for (const a of r.a) this.presence(a);
    }
    if (r.q) {
      this.uv(r.q.length);
      for (const q of r.q) this.silence(q);
    }
  }

  private failure(f: FailureTuple): void {
    this.str(f[0], false);
    this.ms(f[1]);
    this.str(f[2], true);
    this.str(f[3], true);
    this.str(f[4], true);
    this.str(f[5], true);
    this.str(f[6], true);
    this.str(f[7], false);
    this.uv(f[8]);
    this.str(f[9], true);
  }

  private presence(a: PresenceTuple): void {
    this.str(a[0], true);
    this.str(a[1], true);
    this.str(a[2], true);
    this.str(a[3], true);
    this.ms(a[4]);
    this.need(1);
    if (a.length < 6) this.buf[this.pos++] = NET_NONE;
    else if (typeof a[5] === 'string') {
      this.buf[this.pos++] = NET_STR;
      this.str(a[5], true);
    } else this.buf[this.pos++] = NET_NULL;
  }

  private silence(q: SilenceTuple): void {
    this.str(q[0], true);
    this.str(q[1], true);
    this.str(q[2], true);
    this.str(q[3], true);
    this.ms(q[4]);
    this.uv(q[5]);
  }

  private tick(t: TickRecord): void {
    this.need(1);
    this.buf[this.pos++] = TAG_T;
    this.uv(t.src);
    this.uv(t.n);
    this.ms(t.wm);
    this.need(1);
    this.buf[this.pos++] = (t.c ? T_C : 0) | (t.idle ? T_IDLE : 0);
    if (t.c) this.counts(t.c);
  }

  private alert(x: LocalAlertRecord): void {
    this.need(1);
    this.buf[this.pos++] = TAG_X;
    this.uv(x.src);
    this.str(JSON.stringify(x.a), false);
  }

  private counts(c: readonly number[]): void {
    const n = c.length;
    this.uv(n);
    this.need(n * 8);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      let v = c[i]!;
      if (v >>> 0 === v) {
        // counters are mostly small: one byte
        while (v >= 0x80) {
          b[p++] = (v & 0x7f) | 0x80;
          v >>>= 7;
        }
        b[p++] = v;
      } else {
        this.pos = p;
        this.uv(v);
        p = this.pos;
      }
    }
    this.pos = p;
  }

  private need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** unsigned LEB128 of a non-negative safe integer */
  private uv(v: number): void {
    this.need(8);
    const b = this.buf;
    let p = this.pos;
    if (v >>> 0 === v) {
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[p++] = v;
    } else {
      if (!(Number.isSafeInteger(v) && v >= 0))
        throw new RollupFrameError(`rollup frame: ${v} is not a non-negative integer`);
      while (v >= 0x80) {
        b[p++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      b[p++] = v;
    }
    this.pos = p;
  }

  /** epoch ms: zigzag varint from the frame's base (the first ms written) */
  private ms(v: number): void {
    if (!Number.isSafeInteger(v))
      throw new RollupFrameError(`rollup frame: ${v} is not an integer ms`);
    if (Number.isNaN(this.base)) {
      this.base = v;
      this.buf.writeDoubleLE(v, 6);
    }
    const d = v - this.base;
    const z = d >= 0 ? d * 2 : -d * 2 - 1;
    if (z > Number.MAX_SAFE_INTEGER)
      throw new RollupFrameError(`rollup frame: ${v} too far from the frame's base ${this.base}`);
    this.uv(z);
  }

  private str(s: string, intern: boolean): void {
    if (intern) {
      const i = this.table.get(s);
      if (i !== undefined) {
        this.uv(i * 2 + 1);
        return;
      }
      this.table.set(s, this.entries);
    }
    this.entries++;
    const n = s.length;
    if (n <= SHORT) {
      // ASCII: as many bytes as units; the prefix is one byte below 64 bytes
      this.need(n + 2);
      const b = this.buf;
      const at = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[at + i] = c;
      }
      if (i === n) {
        b[this.pos] = n * 2;
        this.pos = at + n;
        return;
      }
    }
    if (LONE_SURROGATE.test(s))
      throw new RollupFrameError(
        `rollup frame: a string with a lone surrogate (${JSON.stringify(s)})`,
      );
    const len = Buffer.byteLength(s, 'utf8');
    this.uv(len * 2);
    this.need(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }
}

type Utf8Buffer = Buffer & { utf8Slice(start: number, end: number): string };
const EMPTY = Buffer.alloc(0) as Utf8Buffer;

/** Reads one frame; one reader serves a process (decodeRollupRecord). */
class FrameReader {
  private b: Utf8Buffer = EMPTY;
  private p = 0;
  private end = 0;
  private base = 0;
  private table: string[] = [];

  read(b: Buffer): RollupRecord {
    this.end = b.length;
    if (b.length < HEADER)
      throw this.fail(`a frame of ${b.length} bytes is shorter than its header`);
    if (b[1] !== ROLLUP_FRAME_VERSION)
      throw new RollupFrameError(
        `rollup frame version ${b[1]} (this processor reads ${ROLLUP_FRAME_VERSION}): written by a newer processor?`,
      );
    this.b = b as Utf8Buffer;
    const count = b.readUInt32LE(2);
    this.base = b.readDoubleLE(6);
    if (!Number.isSafeInteger(this.base))
      throw this.fail(`base ${this.base} is not an integer ms`, 6);
    this.p = HEADER;
    this.table = [];
    if (count > this.end - HEADER) throw this.fail(`${count} records in ${this.end} bytes`, 2);
    const r = new Array<PartialRecord | TickRecord | LocalAlertRecord>(count);
    try {
      for (let i = 0; i < count; i++) {
        const tag = this.byte();
        if (tag === TAG_P) r[i] = this.partial();
        else if (tag === TAG_T) r[i] = this.tick();
        else if (tag === TAG_X) r[i] = this.alert();
        else throw this.fail(`unknown record tag 0x${tag.toString(16)}`, this.p - 1);
      }
      if (this.p !== this.end)
        throw this.fail(`${this.end - this.p} bytes after the header's ${count} records`);
    } finally {
      this.b = EMPTY;
      this.table = [];
    }
    return { k: 'b', r };
  }

  private fail(what: string, at = this.p): RollupFrameError {
    return new RollupFrameError(`bad rollup frame at byte ${at} of ${this.end}: ${what}`);
  }

  private byte(): number {
    if (this.p >= this.end) throw this.fail('truncated');
    return this.b[this.p++]!;
  }

  private uv(): number {
    const b = this.b;
    if (this.p >= this.end) throw this.fail('truncated');
    let x = b[this.p++]!;
    if (x < 0x80) return x;
    let v = x & 0x7f;
    let mul = 0x80;
    for (;;) {
      if (this.p >= this.end) throw this.fail('truncated');
      x = b[this.p++]!;
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 0x80;
      if (mul > 2 ** 49) throw this.fail('varint longer than 8 bytes');
    }
  }

  private ms(): number {
    const z = this.uv();
    return this.base + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
  }

  private str(): string {
    const h = this.uv();
    if (h % 2 === 1) {
      const i = (h - 1) / 2;
      if (i >= this.table.length) throw this.fail(`string reference ${i} of ${this.table.length}`);
      return this.table[i]!;
    }
    const n = h / 2;
    const at = this.p;
    if (at + n > this.end) throw this.fail(`truncated: a string of ${n} bytes`);
    this.p = at + n;
    const s = n === 0 ? '' : this.b.utf8Slice(at, at + n);
    this.table.push(s);
    return s;
  }

  private counts(): number[] {
    const n = this.uv();
    if (n > this.end - this.p) throw this.fail(`truncated: ${n} counters`);
    const c = new Array<number>(n);
    const b = this.b;
    for (let i = 0; i < n; i++) {
      const x = b[this.p]!;
      if (x < 0x80 && this.p < this.end) {
        this.p++;
        c[i] = x;
      } else c[i] = this.uv();
    }
    return c;
  }

  private count(): number {
    const n = this.uv();
    if (n > this.end - this.p) throw this.fail(`truncated: a list of ${n}`);
    return n;
  }

  private partial(): PartialRecord {
    const src = this.uv();
    const si = this.byte();
    const s = SCOPES[si];
    if (s === undefined) throw this.fail(`unknown scope ${si}`, this.p - 1);
    const key = this.str();
    const pane = this.ms();
    const c = this.counts();
    const rec: PartialRecord = { k: 'p', src, s, key, pane, c };
    const flags = this.byte();
    if (flags & ~(P_F | P_A | P_Q))
      throw this.fail(`unknown partial flags 0x${flags.toString(16)}`, this.p - 1);
    if (flags & P_F) {
      const n = this.count();
      const f = new Array<FailureTuple>(n);
      for (let i = 0; i < n; i++) {
        f[i] = [
          this.str(),
          this.ms(),
          this.str(),
          this.str(),
          this.str(),
          this.str(),
          this.str(),
          this.str(),
          this.uv(),
          this.str(),
        ];
      }
      rec.f = f;
    }
    if (flags & P_A) {
      const n = this.count();
      const a = new Array<PresenceTuple>(n);
      for (let i = 0; i < n; i++) {
        const t = this.str();
        const m = this.str();
        const r = this.str();
        const fw = this.str();
        const ts = this.ms();
        const net = this.byte();
        if (net === NET_NONE) a[i] = [t, m, r, fw, ts];
        else if (net === NET_STR) a[i] = [t, m, r, fw, ts, this.str()];
        else if (net === NET_NULL) a[i] = [t, m, r, fw, ts, null as unknown as undefined];
        else throw this.fail(`unknown network form ${net}`, this.p - 1);
      }
      rec.a = a;
    }
    if (flags & P_Q) {
      const n = this.count();
      const q = new Array<SilenceTuple>(n);
      for (let i = 0; i < n; i++) {
        q[i] = [
          this.str(),
          this.str(),
          this.str(),
          this.str(),
          this.ms(),
          this.uv() as SilenceTuple[5],
        ];
      }
      rec.q = q;
    }
    return rec;
  }

  private tick(): TickRecord {
    const src = this.uv();
    const n = this.uv();
    const wm = this.ms();
    const rec: TickRecord = { k: 't', src, n, wm };
    const flags = this.byte();
    if (flags & ~(T_C | T_IDLE))
      throw this.fail(`unknown tick flags 0x${flags.toString(16)}`, this.p - 1);
    if (flags & T_C) rec.c = this.counts();
    if (flags & T_IDLE) rec.idle = true;
    return rec;
  }

  private alert(): LocalAlertRecord {
    const src = this.uv();
    const at = this.p;
    const json = this.str();
    try {
      return { k: 'x', src, a: JSON.parse(json) as LocalAlertRecord['a'] };
    } catch (e) {
      throw this.fail(`alert: ${(e as Error).message}`, at);
    }
  }
}

const writer = new RollupFrameWriter();
const reader = new FrameReader();

/** One frame of these records, in order (a bundle of them: decodeRollupRecord gives `{k:'b', r}`). */
export function encodeRollups(records: readonly RollupRecord[]): Buffer {
  writer.reset();
  for (const r of records) writer.add(r);
  return writer.finish();
}

/** True when a pos.rollups value is a binary frame (not the legacy JSON, which starts with `{`). */
export function isRollupFrame(value: Uint8Array): boolean {
  return value[0] === ROLLUP_FRAME_MAGIC;
}

/**
 * A pos.rollups value, binary frame or legacy JSON, as the record the rollup stage handles: a
 * frame is a bundle `{k:'b', r}` of what was written, field for field as JSON would give it back.
 * Throws RollupFrameError (or JSON.parse's SyntaxError for bad legacy JSON) on anything else.
 */
export function decodeRollupRecord(value: Buffer): RollupRecord {
  const first = value[0];
  if (first === ROLLUP_FRAME_MAGIC) return reader.read(value);
  if (first === 0x7b) return JSON.parse(value.toString('utf8')) as RollupRecord;
  throw new RollupFrameError(
    first === undefined
      ? 'empty rollups value'
      : `not a rollup frame nor JSON: first byte 0x${first.toString(16)}`,
  );
}
