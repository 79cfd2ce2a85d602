import { TimerFifo, TimerHeap } from './due-queue';
import * as L from './engine-layout';
import type { Entities } from './entities';
import type { PaneClock } from './pane-clock';
import type { RecordStore } from './record-store';
import type { ScopeFan } from './scope-fan';
import { UnsettledLog } from './unsettled-log';

// Module-local copies of the layout constants (why: engine-layout.ts).
const K_DUE = L.K_DUE;
const K_UNREVERSED = L.K_UNREVERSED;
const K_UNSETTLED = L.K_UNSETTLED;
const T_KIND = L.T_KIND;
const T_REVERSED = L.T_REVERSED;
const T_REVERSE = L.T_REVERSE;
const T_SETTLE = L.T_SETTLE;
const T_SETTLED = L.T_SETTLED;
const TS = L.TS;

/**
 * Pending timers (settlement deadline, reversal grace): an open-addressing table keyed by the
 * 64-bit hash of txnId, and per timer its due time, meta (T_* flags), generation and the TS
 * scope slots it counts in. A FIFO per kind feeds the due heap (see due-queue.ts); a timer
 * that is replaced or cancelled bumps its generation so its queued entries are skipped.
 */
export class TimerTable {
  private readonly clock: PaneClock;
  private readonly store: RecordStore;
  private readonly ents: Entities;
  private readonly fan: ScopeFan;
  tH1: Int32Array;
  tH2: Int32Array;
  tDue: Float64Array;
  tMeta: Int32Array;
  tGen: Int32Array;
  tSlots: Int32Array;
  tTop = 0;
  /** free list of timer indexes, linked through tMeta */
  tFree = -1;
  /** timer index + 1; 0 = empty */
  tTable: Int32Array;
  tMask: number;
  tCount = 0;
  readonly settleQ = new TimerFifo();
  readonly reverseQ = new TimerFifo();
  readonly dueHeap = new TimerHeap();
  nSettle = 0;
  nReverse = 0;
  /** every unsettled record the timers added within the horizon (unsettled-log.ts) */
  readonly unsettled: UnsettledLog;

  constructor(clock: PaneClock, store: RecordStore, ents: Entities, fan: ScopeFan) {
    this.clock = clock;
    this.unsettled = new UnsettledLog(clock.horizonTicks * clock.g);
    this.fan = fan;
    this.store = store;
    this.ents = ents;
    const tcap = 256;
    this.tH1 = new Int32Array(tcap);
    this.tH2 = new Int32Array(tcap);
    this.tDue = new Float64Array(tcap);
    this.tMeta = new Int32Array(tcap);
    this.tGen = new Int32Array(tcap);
    this.tSlots = new Int32Array(tcap * TS);
    this.tTable = new Int32Array(tcap * 2);
    this.tMask = this.tTable.length - 1;
  }

  find(lo: number, hi: number): number {
    const table = this.tTable;
    const mask = this.tMask;
    let p = lo & mask;
    for (;;) {
      const v = table[p]!;
      if (v === 0) return -1;
      if (this.tH1[v - 1] === lo && this.tH2[v - 1] === hi) return v - 1;
      p = (p + 1) & mask;
    }
  }

  /** A new timer for the hash (lo, hi), in the table; arm() gives it a due time. */
  create(lo: number, hi: number): number {
    let i = this.tFree;
    if (i >= 0) this.tFree = this.tMeta[i]!;
    else {
      if (this.tTop === this.tH1.length) this.grow();
      i = this.tTop++;
    }
    this.tH1[i] = lo;
    this.tH2[i] = hi;
    if ((this.tCount + 1) * 2 > this.tTable.length) this.growTable();
    const mask = this.tMask;
    let p = lo & mask;
    while (this.tTable[p] !== 0) p = (p + 1) & mask;
    this.tTable[p] = i + 1;
    this.tCount++;
    return i;
  }

  /**
   * Timer i is due at `due` (settlement if `settle`, else reversal) and counts in the fan-out's
   * slots, each held by a ref until release().
   */
  arm(i: number, due: number, settle: boolean): void {
    this.tDue[i] = due;
    this.tMeta[i] = settle ? T_SETTLE : T_REVERSE;
    const o = i * TS;
    const ts = this.tSlots;
    this.fan.toTimer(ts, o);
    // written out, not a loop over TS words: once per approved auth (see ScopeFan.contribute)
    const ents = this.ents;
    const t = ts[o]!;
    const m = ts[o + 1]!;
    const r = ts[o + 2]!;
    const f = ts[o + 3]!;
    const iss = ts[o + 4]!;
    if (t >= 0) ents.ref(t);
    if (m >= 0) ents.ref(m);
    if (r >= 0) ents.ref(r);
    if (f >= 0) ents.ref(f);
    if (iss >= 0) ents.ref(iss);
    if (settle) {
      this.nSettle++;
      this.settleQ.push(i, this.tGen[i]!);
    } else {
      this.nReverse++;
      this.reverseQ.push(i, this.tGen[i]!);
    }
  }

  /** A succeeded reversal at ts of the txn hashed (lo, hi): its timer, if due later, is void. */
  markReversed(lo: number, hi: number, ts: number): void {
    const i = this.find(lo, hi);
    if (i >= 0 && ts < this.tDue[i]!) this.tMeta[i]! |= T_REVERSED;
  }

  /** A settlement at ts of the txn hashed (lo, hi): its settlement timer, if due later, is met. */
  markSettled(lo: number, hi: number, ts: number): void {
    const i = this.find(lo, hi);
    if (i >= 0 && (this.tMeta[i]! & T_KIND) === T_SETTLE && ts < this.tDue[i]!) {
      this.tMeta[i]! |= T_SETTLED;
    }
  }

  /** Fires every timer due before the watermark, in due order (as ReferenceEngine does). */
  fire(wm: number): void {
    const h = this.dueHeap;
    while (h.len > 0 && h.due[0]! < wm) {
      const i = h.idx[0]!;
      const gen = h.gen[0]!;
      h.pop();
      if (this.tGen[i] !== gen) continue; // replaced or cancelled
      const meta = this.tMeta[i]!;
      if ((meta & T_KIND) === T_SETTLE) {
        if (!(meta & T_REVERSED)) {
          this.contribute(i, K_DUE);
          if (!(meta & T_SETTLED)) {
            this.contribute(i, K_UNSETTLED);
            this.unsettled.note(this.tDue[i]!, this.tSlots, i * TS, this.ents.names);
          }
        }
      } else if (!(meta & T_REVERSED)) {
        this.contribute(i, K_UNREVERSED);
      }
      this.release(i);
      this.drop(i);
    }
  }

  /** Timer i's record of `kind` at its due time, to the fleet and every slot it holds. */
  private contribute(i: number, kind: number): void {
    const due = this.tDue[i]!;
    this.clock.setTime(due);
    const rec = this.store.recordFor(kind);
    this.fan.fromTimer(this.tSlots, i * TS);
    this.fan.contributeDue(due, rec, kind);
  }

  /** Undoes a live timer's refs and counts (it fired, was replaced or cancelled). */
  release(i: number): void {
    if ((this.tMeta[i]! & T_KIND) === T_SETTLE) this.nSettle--;
    else this.nReverse--;
    this.tGen[i] = (this.tGen[i]! + 1) | 0;
    const o = i * TS;
    const ts = this.tSlots;
    const ents = this.ents;
    for (let k = 0; k < TS; k++) {
      const s = ts[o + k]!;
      if (s >= 0) ents.unref(s);
    }
  }

  /** Removes timer i from the table (backward-shift deletion) and frees its index. */
  drop(i: number): void {
    const table = this.tTable;
    const mask = this.tMask;
    let h = this.tH1[i]! & mask;
    while (table[h] !== i + 1) h = (h + 1) & mask;
    let j = h;
    for (;;) {
      j = (j + 1) & mask;
      const v = table[j]!;
      if (v === 0) break;
      const home = this.tH1[v - 1]! & mask;
      if (h <= j ? home <= h || home > j : home <= h && home > j) {
        table[h] = v;
        h = j;
      }
    }
    table[h] = 0;
    this.tCount--;
    this.tMeta[i] = this.tFree;
    this.tFree = i;
  }

  /** Moves timers due before `limit` from both FIFOs to the heap. */
  stage(limit: number): void {
    if (this.settleQ.len > 0) this.stageFrom(this.settleQ, limit);
    if (this.reverseQ.len > 0) this.stageFrom(this.reverseQ, limit);
  }

  /** Moves timers due before `limit` (and stale entries) from the FIFO head to the heap. */
  private stageFrom(q: TimerFifo, limit: number): void {
    while (q.len > 0) {
      const i = q.idx[q.head]!;
      const gen = q.gen[q.head]!;
      if (this.tGen[i] === gen) {
        const due = this.tDue[i]!;
        if (!(due < limit)) return;
        this.dueHeap.push(due, i, gen);
      }
      q.shift();
    }
  }

  private grow(): void {
    const n = this.tH1.length * 2;
    this.tH1 = growI32(this.tH1, n);
    this.tH2 = growI32(this.tH2, n);
    this.tMeta = growI32(this.tMeta, n);
    this.tGen = growI32(this.tGen, n);
    this.tSlots = growI32(this.tSlots, n * TS);
    const d = new Float64Array(n);
    d.set(this.tDue);
    this.tDue = d;
  }

  private growTable(): void {
    const old = this.tTable;
    this.tTable = new Int32Array(old.length * 2);
    this.tMask = this.tTable.length - 1;
    for (let k = 0; k < old.length; k++) {
      const v = old[k]!;
      if (v === 0) continue;
      let p = this.tH1[v - 1]! & this.tMask;
      while (this.tTable[p] !== 0) p = (p + 1) & this.tMask;
      this.tTable[p] = v;
    }
  }

  byteLength(): number {
    return (
      this.tH1.byteLength +
      this.tH2.byteLength +
      this.tDue.byteLength +
      this.tMeta.byteLength +
      this.tGen.byteLength +
      this.tSlots.byteLength +
      this.tTable.byteLength +
      this.settleQ.byteLength() +
      this.reverseQ.byteLength() +
      this.dueHeap.byteLength()
    );
  }
}

function growI32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
