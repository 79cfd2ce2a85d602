import * as L from './engine-layout';
import type { PaneClock } from './pane-clock';
import { METRIC_COUNT } from './types';

// Module-local copies of the layout constants (why: engine-layout.ts).
const KMETRICS = L.KMETRICS;
const KM_START = L.KM_START;

const NMETRICS = METRIC_COUNT;

/**
 * Dense blocks for busy entities: per window a ring of R = window/pane + ceil(lateness/pane)
 * + 2 panes x 22 i32 counters, cleared lazily by the block's newest pane (`hi`), so no sweep
 * over all entities when time moves; ring slots are relative to the clock's head pane. Fleet,
 * regions and big merchants end up here; a read sums the ring.
 */
export class DensePanes {
  private readonly clock: PaneClock;
  dense: Int32Array;
  /** per block and window: newest pane written (the ring holds panes hi - ringN + 1 .. hi) */
  denseHi: Float64Array;
  denseTop = 0;
  denseFree: number[] = [];

  constructor(clock: PaneClock) {
    this.clock = clock;
    this.dense = new Int32Array(0);
    this.denseHi = new Float64Array(0);
  }

  /** A cleared block. */
  alloc(): number {
    const c = this.clock;
    let block = this.denseFree.pop();
    if (block === undefined) {
      block = this.denseTop++;
      if (this.denseTop * c.blockWords > this.dense.length) {
        const n = Math.max(this.denseTop * 2, 4);
        const d = new Int32Array(n * c.blockWords);
        d.set(this.dense);
        this.dense = d;
        const h = new Float64Array(n * c.nW);
        h.set(this.denseHi);
        this.denseHi = h;
      }
    }
    this.denseHi.fill(Number.NEGATIVE_INFINITY, block * c.nW, (block + 1) * c.nW);
    return block;
  }

  free(block: number): void {
    this.denseFree.push(block);
  }

  /** add() at the current time, with the ring slots setTime() worked out once. */
  addCur(block: number, kind: number): void {
    const c = this.clock;
    const nW = c.nW;
    const curSlot = c.curSlot;
    const curPane = c.curPane;
    const hiBase = block * nW;
    for (let w = 0; w < nW; w++) {
      // a pane this entity has not reached yet needs clearing first: take the general path
      if (curSlot[w]! >= 0 && curPane[w]! > this.denseHi[hiBase + w]!) {
        this.add(block, kind, curPane);
        return;
      }
    }
    const blockBase = block * c.blockWords;
    const winOff = c.winOff;
    const k0 = KM_START[kind]!;
    const k1 = KM_START[kind + 1]!;
    const dense = this.dense;
    for (let w = 0; w < nW; w++) {
      const sl = curSlot[w]!;
      if (sl < 0) continue;
      const at = blockBase + winOff[w]! + sl * NMETRICS;
      for (let k = k0; k < k1; k++) dense[at + KMETRICS[k]!]!++;
    }
  }

  /** Counts a record of `kind` in the given pane per window, clearing the panes it skips. */
  add(block: number, kind: number, panes: Float64Array): void {
    const c = this.clock;
    const nW = c.nW;
    const dense = this.dense;
    const hiBase = block * nW;
    const blockBase = block * c.blockWords;
    const k0 = KM_START[kind]!;
    const k1 = KM_START[kind + 1]!;
    for (let w = 0; w < nW; w++) {
      const p = panes[w]!;
      const n = c.ringN[w]!;
      const head = c.headPane[w]!;
      if (p <= head - n) continue;
      const hi = this.denseHi[hiBase + w]!;
      const wBase = blockBase + c.winOff[w]!;
      if (p > hi) {
        // clear the panes this entity skips over: their ring slots hold panes n back
        let x = Math.max(hi + 1, p - n + 1, head - n + 1);
        for (; x <= p; x++) {
          let sl = c.headSlot[w]! - (head - x);
          if (sl < 0) sl += n;
          dense.fill(0, wBase + sl * NMETRICS, wBase + sl * NMETRICS + NMETRICS);
        }
        this.denseHi[hiBase + w] = p;
      }
      let sl = c.headSlot[w]! - (head - p);
      if (sl < 0) sl += n;
      const at = wBase + sl * NMETRICS;
      for (let k = k0; k < k1; k++) dense[at + KMETRICS[k]!]!++;
    }
  }

  /** Adds window w's closed panes at the watermark to out. */
  read(block: number, w: number, out: Float64Array): void {
    const c = this.clock;
    const n = c.ringN[w]!;
    const head = c.headPane[w]!;
    const hi = this.denseHi[block * c.nW + w]!;
    const end = Math.floor(c.wmTick / c.q[w]!);
    const last = Math.min(end - 1, hi);
    const wBase = block * c.blockWords + c.winOff[w]!;
    const dense = this.dense;
    for (let x = end - c.winPanes[w]!; x <= last; x++) {
      let sl = c.headSlot[w]! - (head - x);
      if (sl < 0) sl += n;
      const at = wBase + sl * NMETRICS;
      for (let m = 0; m < NMETRICS; m++) out[m]! += dense[at + m]!;
    }
  }

  byteLength(): number {
    return this.dense.byteLength + this.denseHi.byteLength;
  }
}
