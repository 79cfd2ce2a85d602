import { isUtf8 } from 'node:buffer';
import type { RowChunks } from './store';

/** TabSeparated escaping (ClickHouse text formats): backslash, tab, newline. */
export function tsvEscape(v: string): string {
  return /[\\\t\n\r]/.test(v)
    ? v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : v;
}

const TAB = 9;
const NL = 10;
const CR = 13;
const BACKSLASH = 92;
/** 10^i for i < 17: digit counts by comparison (2^53 has 16 digits) */
const POW10 = Array.from({ length: 17 }, (_, i) => 10 ** i);

/**
 * Rows written straight into Buffers, in chunks that go to the ClickHouse insert as they are:
 * the chunk handling shared by TsvWriter (events_raw) and RowBinaryWriter (pane_ticks).
 */
export abstract class ByteRows {
  private readonly chunks: Buffer[] = [];
  protected buf: Buffer;
  protected pos = 0;
  private lines = 0;

  constructor(private chunkBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** room for n more bytes at buf[pos] */
  protected ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    // chunks grow to 4 MiB: few Buffers for a large batch, little slack for a small one
    this.chunkBytes = Math.min(4 * 1024 * 1024, this.chunkBytes * 2);
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, n));
    this.pos = 0;
  }

  /** one more row done */
  protected row(): void {
    this.lines++;
  }

  get count(): number {
    return this.lines;
  }

  /** The rows so far, appended to `t`; the writer starts empty again. */
  drainInto(t: RowChunks): void {
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    t.chunks.push(...this.chunks);
    t.count += this.lines;
    this.chunks.length = 0;
    this.buf = this.buf.subarray(this.pos);
    this.pos = 0;
    this.lines = 0;
    if (this.buf.length < 1024) this.buf = Buffer.allocUnsafe(this.chunkBytes);
  }
}

/**
 * TabSeparated rows as bytes. The processor writes one raw-event row per event; built as
 * template strings a row was ~20 concatenations (cons strings), then joined, then encoded, and
 * GC took 18% of the processor's CPU in the bench profile.
 *
 * The output is byte for byte what the template strings gave (String(x) for every number, the
 * same escaping): tsv.test.ts holds the two equal.
 */
export class TsvWriter extends ByteRows {
  /** a string that needs no escaping (validated ids, labels) or is escaped already */
  str(s: string): this {
    const n = s.length;
    this.ensure(n * 3);
    const buf = this.buf;
    const p = this.pos;
    // Short ASCII strings byte by byte: Buffer#write is a native call per string, and most
    // fields are ids of 2 to 32 characters.
    if (n <= 64) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 128) break;
        buf[p + i] = c;
      }
      if (i === n) {
        this.pos = p + n;
        return this;
      }
    }
    this.pos = p + buf.write(s, p, 'utf8');
    return this;
  }

  /** a free-text field: TabSeparated-escaped (as tsvEscape) */
  text(s: string): this {
    const n = s.length;
    if (n > 64) return this.str(tsvEscape(s));
    this.ensure(n * 2);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128) return this.str(tsvEscape(s)); // nothing written yet at this.pos
      if (c === BACKSLASH || c === TAB || c === NL || c === CR) {
        buf[p++] = BACKSLASH;
        buf[p++] = c === BACKSLASH ? BACKSLASH : c === TAB ? 116 : c === NL ? 110 : 114;
      } else buf[p++] = c;
    }
    this.pos = p;
    return this;
  }

  /**
   * Bytes as one escaped field, exactly as text(b.toString('utf8')) writes them (the event's
   * JSON as received). Valid UTF-8 (checked natively) decodes and encodes back to the same
   * bytes, and the bytes of a multi-byte character are all >= 0x80, so its field is the bytes
   * with the four escapes (mostly none: one copy); anything else goes through the string, so
   * bytes that are not UTF-8 are stored as U+FFFD, as readers decode them. (A byte loop over
   * every event's JSON was 3 % of the processor's CPU in a profile.)
   */
  bytes(b: Buffer): this {
    if (!isUtf8(b)) return this.text(b.toString('utf8'));
    this.ensure(b.length * 2);
    const out = this.buf;
    let p = this.pos;
    if (b.indexOf(BACKSLASH) < 0 && b.indexOf(TAB) < 0 && b.indexOf(NL) < 0 && b.indexOf(CR) < 0) {
      this.pos = p + b.copy(out, p);
      return this;
    }
    let from = 0;
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c !== BACKSLASH && c !== TAB && c !== NL && c !== CR) continue;
      p += b.copy(out, p, from, i);
      out[p++] = BACKSLASH;
      out[p++] = c === BACKSLASH ? BACKSLASH : c === TAB ? 116 : c === NL ? 110 : 114;
      from = i + 1;
    }
    p += b.copy(out, p, from, b.length);
    this.pos = p;
    return this;
  }

  /** a number as String(x) writes it (digits directly for non-negative safe integers) */
  num(x: number): this {
    if (!(x >= 0 && x <= Number.MAX_SAFE_INTEGER && Math.floor(x) === x))
      return this.str(String(x));
    if (x < 10) {
      this.ensure(1);
      this.buf[this.pos++] = 48 + x;
      return this;
    }
    let len = 2;
    while (len < 16 && x >= POW10[len]!) len++;
    this.ensure(len);
    let p = this.pos + len;
    let n = x;
    do {
      const q = Math.floor(n / 10);
      this.buf[--p] = 48 + (n - q * 10);
      n = q;
    } while (n > 0);
    this.pos += len;
    return this;
  }

  tab(): this {
    this.ensure(1);
    this.buf[this.pos++] = TAB;
    return this;
  }

  /** end of a row */
  end(): this {
    this.ensure(1);
    this.buf[this.pos++] = NL;
    this.row();
    return this;
  }

  /** `\N`, ClickHouse's NULL */
  nul(): this {
    return this.str('\\N');
  }
}

/**
 * ClickHouse RowBinary rows: strings as a LEB128 length and their UTF-8 bytes, integers and
 * floats little-endian, Nullable as a 0/1 byte before the value. Window stats are ~6 rows per
 * event, 30 columns each: as text every number was formatted by node (String(x) for the rates)
 * and parsed again by the server; in RowBinary both sides copy fixed-width values.
 */
export class RowBinaryWriter extends ByteRows {
  /** String */
  str(s: string): this {
    const n = s.length;
    if (n < 128) {
      this.ensure(1 + n);
      const buf = this.buf;
      const p = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 128) break;
        buf[p + 1 + i] = c;
      }
      if (i === n) {
        buf[p] = n;
        this.pos = p + 1 + n;
        return this;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.ensure(10 + bytes);
    let len = bytes;
    while (len >= 0x80) {
      this.buf[this.pos++] = (len & 0x7f) | 0x80;
      len >>>= 7;
    }
    this.buf[this.pos++] = len;
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }

  /** An Array's length (LEB128, as String lengths): its elements follow */
  len(n: number): this {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
    return this;
  }

  /** UInt32 (also DateTime: seconds); bytes by hand, Buffer#writeUInt32LE was 4% of the tasks */
  u32(x: number): this {
    if (!(x >= 0 && x <= 0xffffffff && Math.floor(x) === x))
      throw new RangeError(`not a UInt32: ${x}`);
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = x & 0xff;
    b[p + 1] = (x >>> 8) & 0xff;
    b[p + 2] = (x >>> 16) & 0xff;
    b[p + 3] = x >>> 24;
    this.pos = p + 4;
    return this;
  }

  /** UInt64 of a non-negative safe integer */
  u64(x: number): this {
    if (!(x >= 0 && x <= Number.MAX_SAFE_INTEGER && Math.floor(x) === x))
      throw new RangeError(`not a UInt64 this writer takes: ${x}`);
    const hi = Math.floor(x / 4294967296);
    return this.u32(x - hi * 4294967296).u32(hi);
  }

  f64(x: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(x, this.pos);
    this.pos += 8;
    return this;
  }

  /** Nullable(Float64) */
  nullableF64(x: number | null): this {
    this.ensure(9);
    if (x === null) {
      this.buf[this.pos++] = 1;
      return this;
    }
    this.buf[this.pos++] = 0;
    return this.f64(x);
  }

  /** end of a row */
  end(): this {
    this.row();
    return this;
  }
}
