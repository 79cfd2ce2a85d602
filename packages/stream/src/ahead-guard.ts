import type { TerminalEvent } from '@tillwatch/contracts';

/**
 * One terminal with a wrong clock must not move a partition's time. An event more than
 * `maxAheadMs` past the latest event time the partition has let through is held, not ingested:
 * were it taken, its time would become the partition's, every boundary up to it would close,
 * and every true event after it would be late (one heartbeat stamped 2100 turned a day's
 * alerts into none). A held event goes in when
 *  - the partition's own time catches up with it (a terminal whose clock runs a little fast), or
 *  - a second terminal's event lands within `maxAheadMs` of it (time really moved: the end of a
 *    quiet night, a backlog after an outage): then the held events up to there go in, in time
 *    order, and the partition's time follows them.
 * At most `capacity` events are held; past that the oldest are dropped and counted.
 */
export class AheadGuard {
  /** the latest event time let through (NaN before the first event) */
  high = Number.NaN;
  /** held events, in time order */
  private held: TerminalEvent[] = [];
  dropped = 0;

  constructor(
    readonly maxAheadMs: number,
    private readonly capacity = 1_000,
  ) {}

  get holding(): number {
    return this.held.length;
  }

  /** True: process `ev` now. False: it is held (see release()). */
  admit(ev: TerminalEvent): boolean {
    if (Number.isNaN(this.high) || ev.ts <= this.high + this.maxAheadMs) {
      if (!(ev.ts <= this.high)) this.high = ev.ts;
      return true;
    }
    let i = this.held.length;
    while (i > 0 && this.held[i - 1]!.ts > ev.ts) i--;
    this.held.splice(i, 0, ev);
    if (this.held.length > this.capacity) {
      this.held.shift();
      this.dropped++;
    }
    return false;
  }

  /**
   * Held events that may go in now, in time order (empty, and no allocation, when none): those
   * the partition's time has caught up with, and those a second terminal vouches for.
   */
  release(): TerminalEvent[] {
    const held = this.held;
    if (held.length === 0) return EMPTY;
    let upTo = 0;
    while (upTo < held.length && held[upTo]!.ts <= this.high + this.maxAheadMs) upTo++;
    // a second terminal within maxAheadMs of a held event: time moved there
    for (let i = upTo; i < held.length; i++) {
      const from = held[i]!;
      for (let j = i + 1; j < held.length && held[j]!.ts - from.ts <= this.maxAheadMs; j++) {
        if (held[j]!.terminalId !== from.terminalId) {
          upTo = j + 1;
          while (upTo < held.length && held[upTo]!.ts - from.ts <= this.maxAheadMs) upTo++;
          i = held.length;
          break;
        }
      }
    }
    if (upTo === 0) return EMPTY;
    const out = held.slice(0, upTo);
    this.held = held.slice(upTo);
    for (const e of out) if (!(e.ts <= this.high)) this.high = e.ts;
    return out;
  }
}

const EMPTY: TerminalEvent[] = [];
