import { METRIC_COUNT, SCOPE, type ScopeName, type WindowEngine } from '@tillwatch/core';

/**
 * The counters read in one evaluation: six terminal rules look at the same 15m and 1h windows
 * of a terminal, so each scope/window/key is read from the engine once. Keyed by the key string
 * in one map per scope and window (a `${scope}|${w}|${key}` string per lookup cost a concat and
 * a fresh hash every time), counters in one reused array (no Float64Array per read).
 */
export class ReadCache {
  private readonly maps = new Map<number, Map<string, number>>();
  private pool = new Float64Array(256 * METRIC_COUNT);
  private used = 0;

  /** forget the previous evaluation's reads */
  reset(): void {
    for (const m of this.maps.values()) m.clear();
    this.used = 0;
  }

  read(engine: WindowEngine, scope: ScopeName, key: string, w: number, buf: Float64Array): boolean {
    const id = SCOPE[scope] * 64 + w;
    let map = this.maps.get(id);
    if (!map) this.maps.set(id, (map = new Map()));
    let at = map.get(key);
    if (at === undefined) {
      if (!engine.read(SCOPE[scope], key, w, buf)) {
        map.set(key, -1);
        return false;
      }
      if ((this.used + 1) * METRIC_COUNT > this.pool.length) {
        const grown = new Float64Array(this.pool.length * 2);
        grown.set(this.pool);
        this.pool = grown;
      }
      at = this.used++ * METRIC_COUNT;
      this.pool.set(buf, at);
      map.set(key, at);
      return true;
    }
    if (at < 0) return false;
    const pool = this.pool;
    for (let i = 0; i < METRIC_COUNT; i++) buf[i] = pool[at + i]!;
    return true;
  }
}
