import { EngineError } from './engine-error';
import { MAX_REL_TICK } from './engine-layout';
import { METRIC_COUNT, type EngineConfig } from './types';

/**
 * Pane geometry derived from the config, and the engine's position in it: the newest pane
 * per window (the head of every dense ring), the panes of the time being applied, and the
 * base that record ticks are stored relative to. The heads only move forward: to an event's
 * or a firing timer's pane in setTime(), to the watermark's in advanceTick().
 */
export class PaneClock {
  readonly nW: number;
  readonly paneMs: Float64Array;
  readonly winMs: Float64Array;
  /** tick (ms): gcd of the pane sizes */
  readonly g: number;
  /** ticks per pane, per window */
  readonly q: Float64Array;
  readonly winPanes: Float64Array;
  readonly winTicks: Float64Array;
  /** ring panes per window in a dense block */
  readonly ringN: Int32Array;
  readonly winOff: Int32Array;
  readonly blockWords: number;
  /** ticks a record must stay addressable: lateness + longest window + largest pane */
  readonly horizonTicks: number;
  readonly lateness: number;

  /** oldest tick any window can still read (absolute ticks) */
  minStartTick = Number.NEGATIVE_INFINITY;
  wmTick = Number.NaN;
  /** records store tick - base */
  base = 0;
  hasBase = false;
  /** per window: newest pane number (max over event times and the watermark) and its ring slot */
  readonly headPane: Float64Array;
  readonly headSlot: Int32Array;
  hasHead = false;
  /** panes of the time being applied (curTickAbs) */
  readonly curPane: Float64Array;
  /** ring slot of curPane per window, or -1 when that pane is too old for any window */
  readonly curSlot: Int32Array;
  curTickAbs = Number.NaN;

  constructor(c: EngineConfig) {
    const nW = c.windowsMs.length;
    this.nW = nW;
    this.paneMs = Float64Array.from(c.panesMs);
    this.winMs = Float64Array.from(c.windowsMs);
    let g = 0;
    for (const p of c.panesMs) {
      if (!Number.isSafeInteger(p)) {
        throw new EngineError('TW_ENGINE_CONFIG', `engine: pane ${p} ms must be a whole number`);
      }
      g = gcd(g, p);
    }
    this.g = g;
    this.q = new Float64Array(nW);
    this.winPanes = new Float64Array(nW);
    this.winTicks = new Float64Array(nW);
    this.ringN = new Int32Array(nW);
    this.winOff = new Int32Array(nW);
    this.lateness = c.allowedLatenessMs;
    let words = 0;
    for (let w = 0; w < nW; w++) {
      const P = this.paneMs[w]!;
      this.q[w] = P / g;
      this.winPanes[w] = this.winMs[w]! / P;
      this.winTicks[w] = this.winMs[w]! / g;
      this.ringN[w] = this.winPanes[w]! + Math.ceil(this.lateness / P) + 2;
      this.winOff[w] = words;
      words += this.ringN[w]! * METRIC_COUNT;
    }
    this.blockWords = words;
    const maxPane = Math.max(...c.panesMs);
    const maxWin = Math.max(...c.windowsMs);
    this.horizonTicks = Math.ceil((this.lateness + maxWin + maxPane) / g) + 2;
    if (this.horizonTicks * 4 > MAX_REL_TICK || words > 1 << 24) {
      throw new EngineError(
        'TW_ENGINE_CONFIG',
        `engine: windows of ${maxWin} ms over a ${g} ms pane gcd need too many ticks; use coarser panes`,
      );
    }
    this.headPane = new Float64Array(nW);
    this.headSlot = new Int32Array(nW);
    this.curPane = new Float64Array(nW);
    this.curSlot = new Int32Array(nW);
  }

  /** Sets the tick and per-window panes of the time being applied. */
  setTime(t: number): void {
    const tick = Math.floor(t / this.g);
    if (tick === this.curTickAbs) return;
    this.curTickAbs = tick;
    const nW = this.nW;
    for (let w = 0; w < nW; w++) this.curPane[w] = Math.floor(tick / this.q[w]!);
    if (!this.hasHead) {
      this.hasHead = true;
      for (let w = 0; w < nW; w++) this.headPane[w] = this.curPane[w]!;
    } else {
      for (let w = 0; w < nW; w++) {
        if (this.curPane[w]! > this.headPane[w]!) this.moveHead(w, this.curPane[w]!);
      }
    }
    this.curTickAbs = tick; // moveHead cleared it
    for (let w = 0; w < nW; w++) {
      const n = this.ringN[w]!;
      const back = this.headPane[w]! - this.curPane[w]!;
      if (back >= n) this.curSlot[w] = -1;
      else {
        const sl = this.headSlot[w]! - back;
        this.curSlot[w] = sl < 0 ? sl + n : sl;
      }
    }
  }

  /** The watermark reached `tick`: moves the heads and the oldest readable tick. */
  advanceTick(tick: number): void {
    if (tick === this.wmTick) return;
    this.wmTick = tick;
    let min = Number.POSITIVE_INFINITY;
    for (let w = 0; w < this.nW; w++) {
      const q = this.q[w]!;
      const endPane = Math.floor(tick / q);
      const start = (endPane - this.winPanes[w]!) * q;
      if (start < min) min = start;
      if (this.hasHead && endPane > this.headPane[w]!) this.moveHead(w, endPane);
    }
    this.minStartTick = min;
  }

  private moveHead(w: number, pane: number): void {
    const n = this.ringN[w]!;
    const delta = pane - this.headPane[w]!;
    let s = delta >= n ? (this.headSlot[w]! + (delta % n)) % n : this.headSlot[w]! + delta;
    if (s >= n) s -= n;
    this.headSlot[w] = s;
    this.headPane[w] = pane;
    this.curTickAbs = Number.NaN; // curSlot is relative to the head
  }

  /** [start, end) of window w at the watermark, in record ticks (relative to base). */
  windowRel(w: number): [number, number] {
    const end = this.windowEndRel(w);
    return [end - this.winTicks[w]!, end];
  }

  /** the end of window w at the watermark, in record ticks (relative to base); its start is
   *  `winTicks[w]` before (windowRel without the pair it allocates, for the reads) */
  windowEndRel(w: number): number {
    return Math.floor(this.wmTick / this.q[w]!) * this.q[w]! - this.base;
  }
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
