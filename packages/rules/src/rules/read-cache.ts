import { anyCount, METRIC_COUNT, SCOPE, type ScopeName, type WindowEngine } from '@tillwatch/core';

/**
 * The counters read in one evaluation: six terminal rules look at the same 15m and 1h
 * windows of a terminal, so each scope/window/key is read from the engine once. Keyed by the
 * key string in one map per scope and window (a `${scope}|${w}|${key}` string per lookup
 * cost a concat and a fresh hash every time), counters in one array, a slot's at slot x
 * METRIC_COUNT (no Float64Array per read).
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

export class ReadCache {
  private readonly maps = new Map<number, Map<string, number>>();
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
      for (const m of this.maps.values()) m.clear();
      this.slots = 0;
    }
  }

  read(engine: WindowEngine, scope: ScopeName, key: string, w: number, buf: Float64Array): boolean {
    const id = SCOPE[scope] * 64 + w;
    let map = this.maps.get(id);
    if (!map) this.maps.set(id, (map = new Map()));
    let slot = map.get(key);
    if (slot === undefined) {
      if (this.slots === this.gen.length) this.grow();
      slot = this.slots++;
      this.gen[slot] = 0;
      this.end[slot] = Number.NaN;
      map.set(key, slot);
    }
    const at = slot * METRIC_COUNT;
    const pool = this.pool;
    if (this.gen[slot] !== this.generation) {
      const end = engine.windowEnd ? engine.windowEnd(w) : Number.NaN;
      if (!(this.found[slot] === COUNTED && end === this.end[slot])) {
        this.gen[slot] = this.generation;
        this.end[slot] = end;
        if (!engine.read(SCOPE[scope], key, w, buf)) {
          this.found[slot] = UNTRACKED;
          return false;
        }
        this.found[slot] = anyCount(buf) ? COUNTED : EMPTY;
        pool.set(buf, at);
        return true;
      }
      this.gen[slot] = this.generation;
    } else if (this.found[slot] === UNTRACKED) return false;
    for (let i = 0; i < METRIC_COUNT; i++) buf[i] = pool[at + i]!;
    return true;
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
