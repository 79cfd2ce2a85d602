/**
 * The tick schedule: the one definition of when windows close and rules run, in event time.
 *
 * Boundaries are the multiples of the smallest pane p0 (5 s by default). At each boundary b a
 * stage advances its engine to b, reads every window ending at b (stats rows, partials) and
 * lets the rules evaluate at b (the Monitor evaluates at its own cadence, `evaluateEvery`,
 * counted in these boundaries). So every driver evaluates at the same instants, whatever the
 * size of its batches or the speed of its input:
 *
 * - an event stage closes b once its watermark reaches it: the latest event time of its
 *   partition less the allowed lateness (an event is never late for a boundary not yet
 *   closed), or a watermark its driver's source hands it (the embedded start's wall clock);
 * - the rollup stage closes b once every source partition has ticked past it (the slowest
 *   one, idle ones excepted): only then are all partials of the panes before b in.
 *
 * Stepping through every boundary, also across gaps, is what gives every boundary its row:
 * the engine reads only the windows ending at the latest closed boundary.
 */
/**
 * A gap in event time longer than this is jumped, not stepped: no window reaches back across
 * it (the longest is 1 h), so the boundaries inside it would close empty windows, and a jump of
 * years (two terminals with the same broken clock) would otherwise mean millions of closes.
 * What was counted before the gap is closed first: the panes of the last events (ingested up to
 * the lateness ahead of the watermark) and those where their timers fall due (a settlement
 * deadline after the last sale), so that every count has its pane row.
 */
export const MAX_STEPPED_GAP_MS = 7 * 86_400_000;

export class PaneSchedule {
  /** the next boundary to close (a multiple of p0), NaN before the first event */
  private next = Number.NaN;

  /** the latest event time counted (counted()) */
  private latest = Number.NEGATIVE_INFINITY;

  constructor(
    readonly p0: number,
    readonly latenessMs: number,
    /** how long after an event its counts can still land (its timers: the settlement
     *  deadline, the reversal grace); a jump waits until those panes are closed */
    readonly carryMs = 0,
  ) {}

  /** An event of time `ts` was counted: a jump closes its pane (and its timers') first. */
  counted(ts: number): void {
    if (ts > this.latest) this.latest = ts;
  }

  /**
   * The first event's pane end: the rules' first boundary. The schedule starts earlier, at the
   * first pane that can hold an event (an event up to the lateness older than the first one
   * still counts); the boundaries before this one close only the panes (their pane rows), so
   * the rules' timeline is the first event's. NaN before the first event.
   */
  first = Number.NaN;

  /** The watermark an event of time `ts` allows; the schedule starts at the first event. */
  watermarkOf(ts: number): number {
    const wm = ts - this.latenessMs;
    if (Number.isNaN(this.next)) {
      this.first = (Math.floor(ts / this.p0) + 1) * this.p0;
      this.next = (Math.floor(wm / this.p0) + 1) * this.p0;
    }
    return wm;
  }

  /**
   * The next boundary at or before `watermark`, taken (NaN when none is due). Drive it as
   * `for (let b = s.take(wm); b === b; b = s.take(wm)) close(b)`: no allocation per event.
   */
  take(watermark: number): number {
    let b = this.next;
    if (!(b <= watermark)) return Number.NaN;
    if (watermark - b > MAX_STEPPED_GAP_MS && !(b <= this.latest + this.carryMs + this.p0)) {
      b = Math.floor(watermark / this.p0) * this.p0;
    }
    this.next = b + this.p0;
    return b;
  }

  /** Boundaries before this one are closed (NaN before the first event). */
  get pending(): number {
    return this.next;
  }
}
