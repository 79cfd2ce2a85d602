import { METRIC_COUNT, SCOPE, type ScopeName, type WindowEngine } from '@tillwatch/core';

/**
 * The counters read in one evaluation: six terminal rules look at the same 15m and 1h windows
 * of a terminal, so each scope/window/key is read from the engine once. Keyed by the key string
 * in one map per scope and window (a `${scope}|${w}|${key}` string per lookup cost a concat and
 * a fresh hash every time), counters in one reused array (no Float64Array per read).
 *
 * The maps outlive an evaluation: a key keeps its slot, and a slot's read counts only in the
 * evaluation that made it (its generation). Clearing the maps at every evaluation made them
 * grow their tables again each time, the largest share of the rules' Map allocation. They are
 * cleared only when they pass MAX_KEYS (keys that left the fleet).
 */
const MAX_KEYS = 1 << 18;

export class ReadCache {
  private readonly maps = new Map<number, Map<string, number>>();
  /** per slot: the generation of its read, and where its counters are (-1: no window) */
  private gen = new Int32Array(1024);
  private at = new Int32Array(1024);
  private slots = 0;
  private generation = 1;
  private pool = new Float64Array(256 * METRIC_COUNT);
  private used = 0;

  /** forget the previous evaluation's reads */
  reset(): void {
    this.generation++;
    this.used = 0;
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
      if (this.slots === this.gen.length) {
        this.gen = grow(this.gen);
        this.at = grow(this.at);
      }
      slot = this.slots++;
      this.gen[slot] = 0;
      map.set(key, slot);
    }
    if (this.gen[slot] !== this.generation) {
      this.gen[slot] = this.generation;
      if (!engine.read(SCOPE[scope], key, w, buf)) {
        this.at[slot] = -1;
        return false;
      }
      if ((this.used + 1) * METRIC_COUNT > this.pool.length) {
        const grown = new Float64Array(this.pool.length * 2);
        grown.set(this.pool);
        this.pool = grown;
      }
      const at = this.used++ * METRIC_COUNT;
      this.pool.set(buf, at);
      this.at[slot] = at;
      return true;
    }
    const at = this.at[slot]!;
    if (at < 0) return false;
    const pool = this.pool;
    for (let i = 0; i < METRIC_COUNT; i++) buf[i] = pool[at + i]!;
    return true;
  }
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
