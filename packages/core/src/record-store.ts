import type { DensePanes } from './dense-panes';
import * as L from './engine-layout';
import type { PaneClock } from './pane-clock';

// Module-local copies of the layout constants (why: engine-layout.ts).
const KIND_BITS = L.KIND_BITS;
const KIND_COUNT = L.KIND_COUNT;
const KIND_MASK = L.KIND_MASK;
const KMETRICS = L.KMETRICS;
const KM_START = L.KM_START;
const MAX_REL_TICK = L.MAX_REL_TICK;
const O_CAP = L.O_CAP;
const O_CCAP = L.O_CCAP;
const O_CLEN = L.O_CLEN;
const O_COFF = L.O_COFF;
const O_DENSE = L.O_DENSE;
const O_LEN = L.O_LEN;
const O_LOG = L.O_LOG;
const O_STATE = L.O_STATE;
const ST_LIVE = L.ST_LIVE;
const SW = L.SW;

/**
 * The entity slots and what they point into. Who a slot belongs to (names, lifecycle,
 * eviction) is Entities' part.
 * - A slot is 64 bytes in one ArrayBuffer (lastSeen, lastActive as f64; log, dense, card and
 *   cache words as i32), so touching an entity is one cache line, not one per field.
 * - An entity starts *sparse*: a log of 4-byte records in a shared arena of 2^k-word chunks,
 *   one record per contribution: (tick << 6 | kind). A tick is the gcd of the pane sizes (5 s
 *   by default), so one record serves every window; the kind (42 of them) says which metrics
 *   it adds (an auth adds auths, its category, and maybe inputErrors/smallAuths/smallDeclines).
 *   A terminal with 30 events an hour keeps ~30-60 records: 120-240 B instead of the ~9 KB
 *   that 22 counters x (12+30+30+30) panes would cost.
 * - A busy entity (its log would pass `promoteAt` records) is promoted to dense panes
 *   (dense-panes.ts).
 * - Declined cards (terminal and merchant scopes) are a second log of (tick, 32-bit card hash).
 */
export class RecordStore {
  private readonly clock: PaneClock;
  private readonly dense: DensePanes;
  private readonly promoteAt: number;

  slotBuf: ArrayBuffer;
  si: Int32Array;
  sf: Float64Array;
  slotTop = 0;
  /**
   * Per slot [highest rel tick in its record log, how far below that highest rel a record was
   * ever appended]: a log is in arrival order, nearly event-time order. Every record before the
   * one at k is at most `disorder` ticks above it, so a read walking back from the newest
   * record stops at the first one more than `disorder` ticks before the window: a 1-minute read
   * no longer walks an hour of records (the stats rows read a 1m window at every 5 s pane).
   */
  logOrder: Int32Array;

  // record arena: chunks of 2^k words, free lists per size class
  arena: Int32Array;
  arenaTop = 0;
  readonly freeHead = new Int32Array(32).fill(-1);

  private readonly scratchPane: Float64Array;
  private readonly kindCounts = new Int32Array(KIND_COUNT);
  private cardScratch = new Int32Array(64);

  constructor(clock: PaneClock, dense: DensePanes, promoteAt: number) {
    this.clock = clock;
    this.dense = dense;
    this.promoteAt = promoteAt;
    this.slotBuf = new ArrayBuffer(64 * SW * 4);
    this.si = new Int32Array(this.slotBuf);
    this.sf = new Float64Array(this.slotBuf);
    this.logOrder = new Int32Array(64 * 2);
    this.arena = new Int32Array(1024);
    this.scratchPane = new Float64Array(clock.nW);
  }

  /** A slot past the top (its words are Entities' to set). */
  newSlot(): number {
    if ((this.slotTop + 1) * SW * 4 > this.slotBuf.byteLength) this.growSlots();
    return this.slotTop++;
  }

  private growSlots(): void {
    const buf = new ArrayBuffer(this.slotBuf.byteLength * 2);
    new Uint8Array(buf).set(new Uint8Array(this.slotBuf));
    this.slotBuf = buf;
    this.si = new Int32Array(buf);
    this.sf = new Float64Array(buf);
    const lo = new Int32Array(this.logOrder.length * 2);
    lo.set(this.logOrder);
    this.logOrder = lo;
  }

  /** Drops the slot's data: it reads as empty from now on (lastSeen, lastActive -Infinity). */
  clear(s: number): void {
    const b = s * SW;
    const si = this.si;
    if (si[b + O_CAP]! > 0) this.freeChunk(si[b + O_LOG]!, si[b + O_CAP]!);
    if (si[b + O_CCAP]! > 0) this.freeChunk(si[b + O_COFF]!, si[b + O_CCAP]!);
    if (si[b + O_DENSE]! >= 0) this.dense.free(si[b + O_DENSE]!);
    si[b + O_LOG] = 0;
    si[b + O_LEN] = 0;
    si[b + O_CAP] = 0;
    si[b + O_DENSE] = -1;
    this.logOrder[s * 2] = -1;
    this.logOrder[s * 2 + 1] = 0;
    si[b + O_COFF] = 0;
    si[b + O_CLEN] = 0;
    si[b + O_CCAP] = 0;
    this.sf[s * 8] = Number.NEGATIVE_INFINITY;
    this.sf[s * 8 + 1] = Number.NEGATIVE_INFINITY;
  }

  /** The packed record for `kind` at the clock's current tick, or -1 if it can never be read. */
  recordFor(kind: number): number {
    const c = this.clock;
    const tick = c.curTickAbs;
    if (tick < c.minStartTick) return -1;
    if (!c.hasBase) {
      c.hasBase = true;
      c.base = tick - c.horizonTicks - 2;
    }
    let rel = tick - c.base;
    if (rel >= MAX_REL_TICK) {
      this.rebase(tick);
      rel = tick - c.base;
    }
    if (rel < 0) return -1;
    return (rel << KIND_BITS) | kind;
  }

  addRecord(s: number, rec: number, kind: number): void {
    if (rec < 0) return;
    const b = s * SW;
    const si = this.si;
    const d = si[b + O_DENSE]!;
    if (d >= 0) {
      this.dense.addCur(d, kind);
      return;
    }
    const len = si[b + O_LEN]!;
    if (len === si[b + O_CAP]! && !this.makeRoom(s)) {
      this.dense.addCur(si[b + O_DENSE]!, kind);
      return;
    }
    this.arena[si[b + O_LOG]! + si[b + O_LEN]!] = rec;
    si[b + O_LEN] = si[b + O_LEN]! + 1;
    const lo = this.logOrder;
    const rel = rec >> KIND_BITS;
    const hi = lo[s * 2]!;
    if (rel > hi) lo[s * 2] = rel;
    else if (hi - rel > lo[s * 2 + 1]!) lo[s * 2 + 1] = hi - rel;
  }

  addCard(s: number, hash: number): void {
    const c = this.clock;
    const tick = c.curTickAbs;
    if (tick < c.minStartTick || !c.hasBase) return;
    const rel = tick - c.base;
    if (rel < 0) return;
    const b = s * SW;
    const si = this.si;
    if (si[b + O_CLEN]! + 2 > si[b + O_CCAP]!) this.growCards(s);
    const at = si[b + O_COFF]! + si[b + O_CLEN]!;
    this.arena[at] = rel;
    this.arena[at + 1] = hash;
    si[b + O_CLEN] = si[b + O_CLEN]! + 2;
  }

  /** Window w's closed panes at the watermark for slot s, added to out (zeroed by the caller). */
  read(s: number, w: number, out: Float64Array): void {
    const d = this.si[s * SW + O_DENSE]!;
    if (d >= 0) {
      this.dense.read(d, w, out);
      return;
    }
    const kc = this.kindCounts;
    kc.fill(0);
    const [startRel, endRel] = this.clock.windowRel(w);
    const off = this.si[s * SW + O_LOG]!;
    const len = this.si[s * SW + O_LEN]!;
    const arena = this.arena;
    const stop = startRel - this.logOrder[s * 2 + 1]!;
    for (let k = off + len - 1; k >= off; k--) {
      const r = arena[k]!;
      const rel = r >> KIND_BITS;
      if (rel < startRel) {
        if (rel < stop) break; // every older record is before the window too (logOrder)
      } else if (rel < endRel) kc[r & KIND_MASK]!++;
    }
    for (let kind = 0; kind < KIND_COUNT; kind++) {
      const c = kc[kind]!;
      if (c === 0) continue;
      for (let k = KM_START[kind]!; k < KM_START[kind + 1]!; k++) out[KMETRICS[k]!]! += c;
    }
  }

  distinctCards(s: number, w: number): number {
    const [startRel, endRel] = this.clock.windowRel(w);
    const off = this.si[s * SW + O_COFF]!;
    const len = this.si[s * SW + O_CLEN]!;
    if (this.cardScratch.length < len) this.cardScratch = new Int32Array(len * 2);
    const scratch = this.cardScratch;
    let n = 0;
    for (let k = off; k < off + len; k += 2) {
      const rel = this.arena[k]!;
      if (rel >= startRel && rel < endRel) scratch[n++] = this.arena[k + 1]!;
    }
    const sorted = scratch.subarray(0, n).sort();
    let distinct = 0;
    for (let k = 0; k < n; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) distinct++;
    return distinct;
  }

  /** logOrder of a slot from the records in its log (restore, rebase). */
  measureLogOrder(s: number): void {
    const b = s * SW;
    const off = this.si[b + O_LOG]!;
    const len = this.si[b + O_LEN]!;
    let hi = -1;
    let dis = 0;
    for (let k = off; k < off + len; k++) {
      const rel = this.arena[k]! >> KIND_BITS;
      if (rel > hi) hi = rel;
      else if (hi - rel > dis) dis = hi - rel;
    }
    this.logOrder[s * 2] = hi;
    this.logOrder[s * 2 + 1] = dis;
  }

  private allocChunk(words: number): number {
    const c = 31 - Math.clz32(words);
    const f = this.freeHead[c]!;
    if (f >= 0) {
      this.freeHead[c] = this.arena[f]!;
      return f;
    }
    if (this.arenaTop + words > this.arena.length) {
      let n = this.arena.length * 2;
      while (n < this.arenaTop + words) n *= 2;
      const a = new Int32Array(n);
      a.set(this.arena.subarray(0, this.arenaTop));
      this.arena = a;
    }
    const off = this.arenaTop;
    this.arenaTop += words;
    return off;
  }

  private freeChunk(off: number, words: number): void {
    const c = 31 - Math.clz32(words);
    this.arena[off] = this.freeHead[c]!;
    this.freeHead[c] = off;
  }

  /** The log is full: drop records no window can read, else grow it, else go dense. */
  private makeRoom(s: number): boolean {
    const b = s * SW;
    const si = this.si;
    const off = si[b + O_LOG]!;
    const cap = si[b + O_CAP]!;
    let len = si[b + O_LEN]!;
    if (cap > 0) {
      const minRel = this.clock.minStartTick - this.clock.base;
      const a = this.arena;
      let j = off;
      for (let k = off; k < off + len; k++) {
        const r = a[k]!;
        if (r >> KIND_BITS >= minRel) a[j++] = r;
      }
      len = j - off;
      si[b + O_LEN] = len;
      // keep the size while compaction frees a quarter; else every append would compact
      if (len <= cap - (cap >> 2)) return true;
    }
    const want = cap === 0 ? 4 : cap * 2;
    if (want > this.promoteAt && cap > 0) {
      this.promote(s);
      return false;
    }
    const n = this.allocChunk(want);
    if (cap > 0) {
      this.arena.copyWithin(n, off, off + len);
      this.freeChunk(off, cap);
    }
    si[b + O_LOG] = n;
    si[b + O_CAP] = want;
    return true;
  }

  private growCards(s: number): void {
    const b = s * SW;
    const si = this.si;
    const off = si[b + O_COFF]!;
    const cap = si[b + O_CCAP]!;
    let len = si[b + O_CLEN]!;
    if (cap > 0) {
      const minRel = this.clock.minStartTick - this.clock.base;
      const a = this.arena;
      let j = off;
      for (let k = off; k < off + len; k += 2) {
        if (a[k]! >= minRel) {
          a[j] = a[k]!;
          a[j + 1] = a[k + 1]!;
          j += 2;
        }
      }
      len = j - off;
      si[b + O_CLEN] = len;
      if (len + 2 <= cap - (cap >> 2)) return;
    }
    const want = cap === 0 ? 4 : cap * 2;
    const n = this.allocChunk(want);
    if (cap > 0) {
      this.arena.copyWithin(n, off, off + len);
      this.freeChunk(off, cap);
    }
    si[b + O_COFF] = n;
    si[b + O_CCAP] = want;
  }

  /** Replays the slot's log into a fresh dense block and frees the log. */
  private promote(s: number): void {
    const block = this.dense.alloc();
    const c = this.clock;
    const b = s * SW;
    const si = this.si;
    const off = si[b + O_LOG]!;
    const len = si[b + O_LEN]!;
    const panes = this.scratchPane;
    for (let k = off; k < off + len; k++) {
      const r = this.arena[k]!;
      const tick = (r >> KIND_BITS) + c.base;
      for (let w = 0; w < c.nW; w++) panes[w] = Math.floor(tick / c.q[w]!);
      this.dense.add(block, r & KIND_MASK, panes);
    }
    this.freeChunk(off, si[b + O_CAP]!);
    si[b + O_LOG] = 0;
    si[b + O_LEN] = 0;
    si[b + O_CAP] = 0;
    si[b + O_DENSE] = block;
  }

  /** Record ticks are relative to `base` in 25 bits: move base when time runs past it. */
  private rebase(tick: number): void {
    const c = this.clock;
    const nb = tick - c.horizonTicks - 2;
    const delta = nb - c.base;
    c.base = nb;
    const si = this.si;
    const a = this.arena;
    const shift = delta * (1 << KIND_BITS);
    for (let s = 0; s < this.slotTop; s++) {
      const b = s * SW;
      if ((si[b + O_STATE]! & 15) !== ST_LIVE) continue;
      const off = si[b + O_LOG]!;
      for (let k = off; k < off + si[b + O_LEN]!; k++) {
        const r = a[k]! - shift;
        // a record pushed below 0 is older than any window can read: keep it at tick 0
        a[k] = r < 0 ? a[k]! & KIND_MASK : r;
      }
      const coff = si[b + O_COFF]!;
      for (let k = coff; k < coff + si[b + O_CLEN]!; k += 2) a[k] = Math.max(0, a[k]! - delta);
      this.measureLogOrder(s);
    }
  }

  /** Typed-array bytes (capacity): the slot buffer and the arena. */
  byteLength(): number {
    return this.slotBuf.byteLength + this.arena.byteLength;
  }
}
