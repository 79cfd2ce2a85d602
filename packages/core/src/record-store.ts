import type { DensePanes } from './dense-panes';
import * as L from './engine-layout';
import type { PaneClock } from './pane-clock';

// Module-local copies of the layout constants (why: engine-layout.ts).
const KIND_BITS = L.KIND_BITS;
const KIND_COUNT = L.KIND_COUNT;
const KIND_MASK = L.KIND_MASK;
const KMETRICS = L.KMETRICS;
const KM_START = L.KM_START;
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
 * Words a log of `len` words gets when it is repacked: an eighth spare plus an entry (3 words,
 * a card's); none when it is empty. In steady state about as many records expire as arrive
 * before it fills, so the drop in makeRoom() usually makes room without moving it.
 */
function roomFor(len: number): number {
  return len === 0 ? 0 : len + (len >> 3) + 3;
}

/**
 * The entity slots and what they point into. Who a slot belongs to (names, lifecycle,
 * eviction) is Entities' part.
 * - A slot is 64 bytes in one ArrayBuffer (lastSeen, lastActive as f64; log, dense, card and
 *   cache words as i32), so touching an entity is one cache line, not one per field.
 * - An entity starts *sparse*: a log of records in a shared arena, one record per
 *   contribution: (rel << 6 | kind), rel = tick - base. A tick is the gcd of the pane sizes
 *   (5 s by default), so one record serves every window; the kind (42 of them) says which
 *   metrics it adds (an auth adds auths, its category, and maybe inputErrors/smallAuths/
 *   smallDeclines). With `relBits` <= 10 (the default whenever the horizon fits, as the default
 *   config's 748 ticks do) a record is 2 bytes and the arena a Uint16Array, else 4 bytes in an
 *   Int32Array. A terminal with 30 events an hour keeps ~30 records: ~60 B instead of the
 *   ~9 KB that 22 counters x (12+30+30+30) panes would cost.
 * - When `rel` would reach 2^relBits, base moves up (rebase): every log is shifted, its
 *   records older than any window are dropped, and the arena is repacked. With 10-bit ticks
 *   that is every 2^10 - horizon - 2 ticks (23 min by default).
 * - The arena is a bump allocator without free lists: a log that must grow moves to the top
 *   and leaves its old words behind; so does an evicted one. When the top reaches the end,
 *   repack() copies every live log, minus the records no window can read any more, into a new
 *   array an eighth larger than they need (each log an eighth spare). So the arena stays
 *   within ~1.1-1.3x of the records it holds: no power-of-two logs, no words stranded in
 *   size-class free lists, no doubled array.
 * - A busy entity (its log would pass `promoteAt` records) is promoted to dense panes
 *   (dense-panes.ts).
 * - Declined cards (terminal and merchant scopes) are a second log, 3 words an entry:
 *   (rel, low and high 16 bits of the 32-bit card hash).
 */
export class RecordStore {
  private readonly clock: PaneClock;
  private readonly dense: DensePanes;
  private readonly promoteAt: number;
  /** bits of a record's tick (rel); <= 10: 2-byte records */
  readonly relBits: number;
  /** rel stays below this: 2^relBits */
  private readonly maxRel: number;

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

  /** record and card logs; words [arenaTop, length) are free, below it some are left over */
  arena: Uint16Array | Int32Array;
  arenaTop = 0;

  private readonly scratchPane: Float64Array;
  /** read()'s counts per kind, all zero between reads, and the kinds it counted */
  private readonly kindCounts = new Int32Array(KIND_COUNT);
  private readonly kindsSeen = new Int32Array(KIND_COUNT);
  private cardScratch = new Int32Array(64);

  constructor(clock: PaneClock, dense: DensePanes, promoteAt: number, relBits: number) {
    this.clock = clock;
    this.dense = dense;
    this.promoteAt = promoteAt;
    this.relBits = relBits;
    this.maxRel = 2 ** relBits;
    this.slotBuf = new ArrayBuffer(64 * SW * 4);
    this.si = new Int32Array(this.slotBuf);
    this.sf = new Float64Array(this.slotBuf);
    this.logOrder = new Int32Array(64 * 2);
    this.arena = this.newArena(64);
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

  /**
   * Drops the slot's data: it reads as empty from now on (lastSeen, lastActive -Infinity).
   * Its arena words are left over until the next repack.
   */
  clear(s: number): void {
    const b = s * SW;
    const si = this.si;
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
    if (rel >= this.maxRel) {
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
    if (si[b + O_CLEN]! + 3 > si[b + O_CCAP]!) this.growCards(s);
    const at = si[b + O_COFF]! + si[b + O_CLEN]!;
    const a = this.arena;
    a[at] = rel;
    a[at + 1] = hash & 0xffff;
    a[at + 2] = hash >>> 16;
    si[b + O_CLEN] = si[b + O_CLEN]! + 3;
  }

  /** Window w's closed panes at the watermark for slot s, added to out (zeroed by the caller). */
  read(s: number, w: number, out: Float64Array): void {
    const d = this.si[s * SW + O_DENSE]!;
    if (d >= 0) {
      this.dense.read(d, w, out);
      return;
    }
    // Counts per record kind, then each kind's metrics: only the kinds the window holds are
    // expanded and zeroed again (a window of a sparse key holds a few of the 42 kinds; a fill
    // and a pass over every kind per read were a third of this read's time)
    const kc = this.kindCounts;
    const seen = this.kindsSeen;
    let nSeen = 0;
    const clock = this.clock;
    const endRel = clock.windowEndRel(w);
    const startRel = endRel - clock.winTicks[w]!;
    const off = this.si[s * SW + O_LOG]!;
    const len = this.si[s * SW + O_LEN]!;
    const arena = this.arena;
    const stop = startRel - this.logOrder[s * 2 + 1]!;
    for (let k = off + len - 1; k >= off; k--) {
      const r = arena[k]!;
      const rel = r >> KIND_BITS;
      if (rel < startRel) {
        if (rel < stop) break; // every older record is before the window too (logOrder)
      } else if (rel < endRel) {
        const kind = r & KIND_MASK;
        if (kc[kind]!++ === 0) seen[nSeen++] = kind;
      }
    }
    for (let i = 0; i < nSeen; i++) {
      const kind = seen[i]!;
      const c = kc[kind]!;
      kc[kind] = 0;
      for (let k = KM_START[kind]!; k < KM_START[kind + 1]!; k++) out[KMETRICS[k]!]! += c;
    }
  }

  distinctCards(s: number, w: number): number {
    const [startRel, endRel] = this.clock.windowRel(w);
    const off = this.si[s * SW + O_COFF]!;
    const len = this.si[s * SW + O_CLEN]!;
    if (this.cardScratch.length < len) this.cardScratch = new Int32Array(len * 2);
    const scratch = this.cardScratch;
    const a = this.arena;
    let n = 0;
    for (let k = off; k < off + len; k += 3) {
      const rel = a[k]!;
      if (rel >= startRel && rel < endRel) scratch[n++] = a[k + 1]! | (a[k + 2]! << 16);
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

  private newArena(words: number): Uint16Array | Int32Array {
    return this.relBits <= 16 - KIND_BITS ? new Uint16Array(words) : new Int32Array(words);
  }

  /**
   * `words` at the arena's top. Repacks when they do not fit: every log may move, so callers
   * read their slot's offsets again afterwards.
   */
  private alloc(words: number): number {
    if (this.arenaTop + words > this.arena.length) this.repack(0, words);
    const off = this.arenaTop;
    this.arenaTop += words;
    return off;
  }

  /**
   * Drops from slot s's record log the records below minRel (no window can read them) or
   * below 0, after lowering every rel by `delta` (a rebase); returns the new length.
   */
  private dropOld(s: number, minRel: number, delta: number): number {
    const b = s * SW;
    const si = this.si;
    const off = si[b + O_LOG]!;
    const end = off + si[b + O_LEN]!;
    const a = this.arena;
    const min = Math.max(0, minRel) * (1 << KIND_BITS);
    const shift = delta * (1 << KIND_BITS);
    let j = off;
    for (let k = off; k < end; k++) {
      const r = a[k]! - shift;
      if (r >= min) a[j++] = r;
    }
    si[b + O_LEN] = j - off;
    return j - off;
  }

  /** dropOld() for the slot's card log. */
  private dropOldCards(s: number, minRel: number, delta: number): number {
    const b = s * SW;
    const si = this.si;
    const off = si[b + O_COFF]!;
    const end = off + si[b + O_CLEN]!;
    const a = this.arena;
    const min = Math.max(0, minRel);
    let j = off;
    for (let k = off; k < end; k += 3) {
      const rel = a[k]! - delta;
      if (rel >= min) {
        a[j] = rel;
        a[j + 1] = a[k + 1]!;
        a[j + 2] = a[k + 2]!;
        j += 3;
      }
    }
    si[b + O_CLEN] = j - off;
    return j - off;
  }

  /**
   * Copies every live log into a new arena, in slot order, without the records no window can
   * read (rels lowered by `delta` first, for a rebase): each log gets roomFor() its words,
   * the arena an eighth more than all of them need, and at least `extra` free words on top.
   */
  private repack(delta: number, extra: number): void {
    const si = this.si;
    const minRel = this.clock.minStartTick - this.clock.base;
    let need = 0;
    for (let s = 0; s < this.slotTop; s++) {
      const b = s * SW;
      if ((si[b + O_STATE]! & 15) !== ST_LIVE) continue;
      if (si[b + O_CAP]! > 0) need += roomFor(this.dropOld(s, minRel, delta));
      if (si[b + O_CCAP]! > 0) need += roomFor(this.dropOldCards(s, minRel, delta));
      if (delta !== 0) this.measureLogOrder(s);
    }
    const a = this.arena;
    const na = this.newArena(need + Math.max(need >> 3, 64) + extra);
    let top = 0;
    for (let s = 0; s < this.slotTop; s++) {
      const b = s * SW;
      if ((si[b + O_STATE]! & 15) !== ST_LIVE) continue;
      for (let f = 0; f < 2; f++) {
        const oOff = f === 0 ? b + O_LOG : b + O_COFF;
        const cap = si[oOff + 2]!; // O_CAP / O_CCAP
        if (cap === 0) continue;
        const len = si[oOff + 1]!; // O_LEN / O_CLEN
        const off = si[oOff]!;
        const room = roomFor(len);
        for (let k = 0; k < len; k++) na[top + k] = a[off + k]!;
        si[oOff] = room === 0 ? 0 : top;
        si[oOff + 2] = room;
        top += room;
      }
    }
    this.arena = na;
    this.arenaTop = top;
  }

  /** The log is full: drop records no window can read, else grow it, else go dense. */
  private makeRoom(s: number): boolean {
    const b = s * SW;
    const si = this.si;
    const cap = si[b + O_CAP]!;
    let len = 0;
    if (cap > 0) {
      len = this.dropOld(s, this.clock.minStartTick - this.clock.base, 0);
      // keep the size while dropping frees a sixteenth; else every append would drop
      if (cap - len >= Math.max(1, cap >> 4)) return true;
    }
    const want = cap === 0 ? 4 : len + (len >> 1) + 2;
    if (want > this.promoteAt && cap > 0) {
      this.promote(s);
      return false;
    }
    const n = this.alloc(want);
    // alloc may have repacked: the log has moved (and has room again; its new words win)
    const off = si[b + O_LOG]!;
    len = si[b + O_LEN]!;
    this.arena.copyWithin(n, off, off + len);
    si[b + O_LOG] = n;
    si[b + O_CAP] = want;
    return true;
  }

  private growCards(s: number): void {
    const b = s * SW;
    const si = this.si;
    const cap = si[b + O_CCAP]!;
    let len = 0;
    if (cap > 0) {
      len = this.dropOldCards(s, this.clock.minStartTick - this.clock.base, 0);
      if (len + 3 <= cap - (cap >> 4)) return;
    }
    const want = cap === 0 ? 3 : len + (len >> 1) + 3;
    const n = this.alloc(want);
    const off = si[b + O_COFF]!;
    len = si[b + O_CLEN]!;
    this.arena.copyWithin(n, off, off + len);
    si[b + O_COFF] = n;
    si[b + O_CCAP] = want;
  }

  /** Replays the slot's log into a fresh dense block and drops the log. */
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
    si[b + O_LOG] = 0;
    si[b + O_LEN] = 0;
    si[b + O_CAP] = 0;
    si[b + O_DENSE] = block;
  }

  /**
   * Record ticks are relative to `base` in relBits bits: move base when time runs past it,
   * shifting every log and dropping (repack) what the windows no longer reach.
   */
  private rebase(tick: number): void {
    const c = this.clock;
    const nb = tick - c.horizonTicks - 2;
    const delta = nb - c.base;
    c.base = nb;
    this.repack(delta, 0);
  }

  /** Typed-array bytes (capacity): the slot buffer, the logs' read bounds and the arena. */
  byteLength(): number {
    return this.slotBuf.byteLength + this.logOrder.byteLength + this.arena.byteLength;
  }
}
