import { anyCount, METRIC_COUNT, SCOPE, type ScopeName, type WindowEngine } from '@tillwatch/core';

/**
 * The counters read in one evaluation: six terminal rules look at the same 15m and 1h
 * windows of a terminal, so each scope/window/key is read from the engine once. Keyed by the
 * key string in one map per scope (a `${scope}|${w}|${key}` string per lookup cost a concat
 * and a fresh hash every time), a key's row holding a slot per window; the last key looked up
 * is remembered, so the rules' reads of several windows of one key in a row (the screen's
 * three, judgeWindows' per rule) make one map lookup (one per window before, with a map per
 * scope and window). Counters in one array, a slot's at slot x METRIC_COUNT (no Float64Array
 * per read).
 *
 * The maps outlive an evaluation: a key keeps its slot, and a slot's read counts in the
 * evaluation that made it (its generation), and in later ones while the engine's window
 * still ends where it ended then (WindowEngine.windowEnd: the core Engine's counts before
 * that end are final). A key is judged at the 4 evaluations of its 40 s recheck span, and a
 * 1 h window (2 min panes) ends at the same place at 11 of 12 evaluations: its read, the
 * longest scan of a terminal's records, is made about once instead of 4 times. A key read
 * with nothing in the window, or not tracked, is read again at the next evaluation. Clearing
 * the maps at every evaluation made them grow their tables again each time, the largest
 * share of the rules' Map allocation; they are cleared only when they pass MAX_KEYS (keys
 * that left the fleet).
 */
const MAX_KEYS = 1 << 18;
/**
 * A slot's read: the key was not tracked; tracked with nothing in the window; tracked with
 * counts. Only the last is kept past its evaluation: a key with counts before the window's end
 * has been seen since the window's start, so it cannot be evicted as idle while the end stays
 * (windowEnd); an empty one could, and would then read as untracked.
 */
const UNTRACKED = 0;
const EMPTY = 1;
const COUNTED = 2;
/** slotRead: read from the engine into the caller's buffer just now */
const FRESH = -2;

export class ReadCache {
  /** per scope index: key -> its row in `slotOf`: `width` slots, one per window, -1 until read */
  private readonly maps: (Map<string, number> | undefined)[] = [];
  private width = 4; // the default engine's windows; widened if a read asks for more
  private slotOf = new Int32Array(256 * 4).fill(-1);
  private rows = 0;
  /** the last key looked up: the rules read several windows of a key in a row (the screen
   *  three, judgeWindows each of a rule's), one map lookup for all of them */
  private lastKey: string | undefined;
  private lastScope = -1;
  private lastRow = 0;
  /** per slot: the generation of its read, the window end it was read at (NaN: none kept), and
   *  whether the key was tracked (its counters are in `pool`) */
  private gen = new Int32Array(1024);
  private end = new Float64Array(1024);
  private found = new Uint8Array(1024);
  private pool = new Float64Array(1024 * METRIC_COUNT);
  private slots = 0;
  private generation = 1;

  /** a new evaluation: the previous one's reads count only where their window has not moved */
  reset(): void {
    this.generation++;
    if (this.slots > MAX_KEYS) {
      for (const m of this.maps) m?.clear();
      this.slotOf.fill(-1);
      this.rows = 0;
      this.slots = 0;
      this.lastKey = undefined;
    }
  }

  read(engine: WindowEngine, scope: ScopeName, key: string, w: number, buf: Float64Array): boolean {
    const at = this.slotRead(engine, scope, key, w, buf);
    if (at === FRESH) return true;
    if (at < 0) return false;
    const pool = this.pool;
    for (let i = 0; i < METRIC_COUNT; i++) buf[i] = pool[at + i]!;
    return true;
  }

  /**
   * The read as an offset into `counters` (its METRIC_COUNT counters from there), or -1 when
   * the key is not tracked: no copy into a buffer (the screen reads three windows of every
   * recent key at every evaluation, and the copy was a third of this cache's own time). Valid
   * until the next read: a read may grow the pool (`counters` is then another array, the
   * offsets the same).
   */
  readAt(engine: WindowEngine, scope: ScopeName, key: string, w: number): number {
    const at = this.slotRead(engine, scope, key, w, this.scratch);
    return at === FRESH ? this.lastAt : at;
  }

  /** the counters readAt's offsets point into */
  get counters(): Float64Array {
    return this.pool;
  }

  private readonly scratch = new Float64Array(METRIC_COUNT);
  /** the slot offset of the last read made from the engine (slotRead's FRESH) */
  private lastAt = 0;

  /**
   * The read of `key`'s window `w`: -1 not tracked; FRESH read from the engine into `buf` now
   * (and kept at lastAt); else the offset of the kept counters in `pool`.
   */
  private slotRead(
    engine: WindowEngine,
    scope: ScopeName,
    key: string,
    w: number,
    buf: Float64Array,
  ): number {
    const si = SCOPE[scope];
    let row: number;
    if (key === this.lastKey && si === this.lastScope) row = this.lastRow;
    else {
      let map = this.maps[si];
      if (!map) this.maps[si] = map = new Map();
      let r = map.get(key);
      if (r === undefined) {
        r = this.rows++;
        if ((r + 1) * this.width > this.slotOf.length) this.growRows();
        map.set(key, r);
      }
      row = r;
      this.lastKey = key;
      this.lastScope = si;
      this.lastRow = r;
    }
    if (w >= this.width) this.widen(w + 1);
    let slot = this.slotOf[row * this.width + w]!;
    if (slot < 0) {
      if (this.slots === this.gen.length) this.grow();
      slot = this.slots++;
      this.gen[slot] = 0;
      this.end[slot] = Number.NaN;
      this.slotOf[row * this.width + w] = slot;
    }
    const at = slot * METRIC_COUNT;
    if (this.gen[slot] !== this.generation) {
      const end = engine.windowEnd ? engine.windowEnd(w) : Number.NaN;
      if (!(this.found[slot] === COUNTED && end === this.end[slot])) {
        this.gen[slot] = this.generation;
        this.end[slot] = end;
        if (!engine.read(si, key, w, buf)) {
          this.found[slot] = UNTRACKED;
          return -1;
        }
        this.found[slot] = anyCount(buf) ? COUNTED : EMPTY;
        this.pool.set(buf, at);
        this.lastAt = at;
        return FRESH;
      }
      this.gen[slot] = this.generation;
    } else if (this.found[slot] === UNTRACKED) return -1;
    return at;
  }

  /** rows of `width` slots: each row's slots copied into the wider row */
  private widen(width: number): void {
    const next = new Int32Array(Math.max(this.slotOf.length / this.width, 1) * width).fill(-1);
    for (let r = 0; r < this.rows; r++) {
      for (let i = 0; i < this.width; i++) next[r * width + i] = this.slotOf[r * this.width + i]!;
    }
    this.slotOf = next;
    this.width = width;
  }

  private growRows(): void {
    const next = new Int32Array(this.slotOf.length * 2).fill(-1);
    next.set(this.slotOf);
    this.slotOf = next;
  }

  private grow(): void {
    const n = this.gen.length * 2;
    const gen = new Int32Array(n);
    gen.set(this.gen);
    this.gen = gen;
    const end = new Float64Array(n);
    end.set(this.end);
    this.end = end;
    const found = new Uint8Array(n);
    found.set(this.found);
    this.found = found;
    const pool = new Float64Array(n * METRIC_COUNT);
    pool.set(this.pool);
    this.pool = pool;
  }
}
