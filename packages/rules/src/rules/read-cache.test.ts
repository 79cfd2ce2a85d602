import { METRIC_COUNT, SCOPE, type WindowEngine } from '@tillwatch/core';
import { describe, expect, it } from 'vitest';
import { ReadCache } from './read-cache';

/** An engine whose windows are `value(key, w)` in every counter; it counts its reads. */
function fakeEngine(value: (key: string, w: number) => number | undefined) {
  const reads: string[] = [];
  const engine = {
    read(scope: number, key: string, w: number, out: Float64Array) {
      reads.push(`${scope}|${w}|${key}`);
      const v = value(key, w);
      if (v === undefined) return false;
      out.fill(v);
      return true;
    },
  } as unknown as WindowEngine;
  return { engine, reads };
}

describe('ReadCache', () => {
  it('reads each scope/window/key from the engine once per evaluation, and again after reset', () => {
    let base = 1;
    const { engine, reads } = fakeEngine((key, w) => (key === 'gone' ? undefined : base + w));
    const cache = new ReadCache();
    const buf = new Float64Array(METRIC_COUNT);
    expect(cache.read(engine, 'terminal', 'T1', 2, buf)).toBe(true);
    expect(buf[0]).toBe(3);
    buf.fill(0);
    expect(cache.read(engine, 'terminal', 'T1', 2, buf)).toBe(true);
    expect(buf[0]).toBe(3); // from the cache
    expect(cache.read(engine, 'merchant', 'T1', 2, buf)).toBe(true); // another scope: own entry
    expect(cache.read(engine, 'terminal', 'T1', 3, buf)).toBe(true);
    expect(buf[0]).toBe(4);
    expect(cache.read(engine, 'terminal', 'gone', 0, buf)).toBe(false);
    expect(cache.read(engine, 'terminal', 'gone', 0, buf)).toBe(false);
    expect(reads).toEqual([
      `${SCOPE.terminal}|2|T1`,
      `${SCOPE.merchant}|2|T1`,
      `${SCOPE.terminal}|3|T1`,
      `${SCOPE.terminal}|0|gone`,
    ]);

    cache.reset();
    base = 10; // the engine moved on: the next evaluation reads again
    expect(cache.read(engine, 'terminal', 'T1', 2, buf)).toBe(true);
    expect(buf[0]).toBe(12);
    expect(reads).toHaveLength(5);
  });

  it('keeps a read with counts past its evaluation while the window ends where it did', () => {
    let end = 60_000;
    const value = new Map<string, number>([
      ['T1', 4],
      ['EMPTY', 0],
    ]);
    const { engine, reads } = fakeEngine((key) => value.get(key));
    const withEnd = Object.assign(engine, { windowEnd: () => end });
    const cache = new ReadCache();
    const buf = new Float64Array(METRIC_COUNT);
    for (const key of ['T1', 'EMPTY', 'NEW']) cache.read(withEnd, 'terminal', key, 3, buf);
    expect(reads).toHaveLength(3);

    cache.reset(); // the next evaluation, the window's end the same
    value.set('NEW', 1); // a key untracked before is tracked now: read again
    expect(cache.read(withEnd, 'terminal', 'T1', 3, buf)).toBe(true);
    expect(buf[0]).toBe(4); // kept: the engine was not asked
    expect(cache.read(withEnd, 'terminal', 'EMPTY', 3, buf)).toBe(true); // empty: asked again
    expect(cache.read(withEnd, 'terminal', 'NEW', 3, buf)).toBe(true);
    expect(buf[0]).toBe(1);
    expect(reads.slice(3)).toEqual([`${SCOPE.terminal}|3|EMPTY`, `${SCOPE.terminal}|3|NEW`]);

    cache.reset();
    end = 180_000; // the window moved: everything is read again
    value.set('T1', 5);
    expect(cache.read(withEnd, 'terminal', 'T1', 3, buf)).toBe(true);
    expect(buf[0]).toBe(5);
    expect(reads).toHaveLength(6);

    // an engine that promises nothing (NaN, as the rollup's merged windows give none): per evaluation
    const { engine: plain, reads: plainReads } = fakeEngine(() => 2);
    const nan = Object.assign(plain, { windowEnd: () => Number.NaN });
    const c2 = new ReadCache();
    c2.read(nan, 'region', 'R', 1, buf);
    c2.reset();
    c2.read(nan, 'region', 'R', 1, buf);
    expect(plainReads).toHaveLength(2);
  });

  it('keeps every read of an evaluation apart when it holds many keys', () => {
    const { engine } = fakeEngine((key) => Number(key.slice(1)));
    const cache = new ReadCache();
    const buf = new Float64Array(METRIC_COUNT);
    for (let round = 0; round < 3; round++) {
      cache.reset();
      for (let i = 0; i < 2000; i++) cache.read(engine, 'terminal', `k${i + round}`, 1, buf);
      for (let i = 0; i < 2000; i++) {
        expect(cache.read(engine, 'terminal', `k${i + round}`, 1, buf)).toBe(true);
        expect(buf[METRIC_COUNT - 1]).toBe(i + round);
      }
    }
  });

  it('stays right after it drops its key table (more keys than it keeps)', () => {
    const { engine, reads } = fakeEngine((key) => key.length);
    const cache = new ReadCache();
    const buf = new Float64Array(METRIC_COUNT);
    for (let i = 0; i < (1 << 18) + 10; i++) cache.read(engine, 'terminal', `t${i}`, 0, buf);
    cache.reset(); // past the bound: the table is dropped
    const before = reads.length;
    expect(cache.read(engine, 'terminal', 't7', 0, buf)).toBe(true);
    expect(buf[0]).toBe(2);
    expect(cache.read(engine, 'terminal', 't7', 0, buf)).toBe(true);
    expect(reads.length).toBe(before + 1);
  });

  it('keeps each key and window apart across keys read in turn, scopes, and more windows than its rows had', () => {
    const { engine, reads } = fakeEngine((key, w) => Number(key.slice(1)) * 100 + w);
    const cache = new ReadCache();
    const buf = new Float64Array(METRIC_COUNT);
    const expectRead = (scope: 'terminal' | 'merchant', key: string, w: number) => {
      expect(cache.read(engine, scope, key, w, buf)).toBe(true);
      expect(buf[0]).toBe(Number(key.slice(1)) * 100 + w);
    };
    // a key's windows in a row (the last key remembered), then others, then back
    for (const key of ['k1', 'k2', 'k3'])
      for (const w of [0, 1, 2, 3]) expectRead('terminal', key, w);
    expectRead('merchant', 'k3', 1); // the same key in another scope: its own entry
    expectRead('terminal', 'k1', 2);
    // a window past the rows' width: the rows widen, the reads made stay cached
    expectRead('terminal', 'k2', 9);
    const before = reads.length;
    for (const key of ['k1', 'k2', 'k3'])
      for (const w of [0, 1, 2, 3]) expectRead('terminal', key, w);
    expectRead('terminal', 'k2', 9);
    expectRead('merchant', 'k3', 1);
    expect(reads.length).toBe(before);
    expect(reads).toHaveLength(3 * 4 + 1 + 1);
  });

  // readAt: the same counters as read() gives, in place, through the pool's growth (offsets
  // kept across it), for reads from the engine and from the cache alike; -1 when untracked
  it('readAt points at the counters read() copies, while the pool grows', () => {
    const { engine } = fakeEngine((key, w) =>
      key.startsWith('x') ? undefined : Number(key.slice(1)) * 10 + w,
    );
    const cache = new ReadCache();
    const buf = new Float64Array(METRIC_COUNT);
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < 300; k++) {
        for (let w = 0; w < 4; w++) {
          const at = cache.readAt(engine, 'terminal', `T${k}`, w);
          expect(at).toBeGreaterThanOrEqual(0);
          const got = Array.from(cache.counters.subarray(at, at + METRIC_COUNT));
          expect(cache.read(engine, 'terminal', `T${k}`, w, buf)).toBe(true);
          expect(got).toEqual(Array.from(buf));
          expect(got[0]).toBe(k * 10 + w);
        }
        expect(cache.readAt(engine, 'terminal', `x${k}`, 0)).toBe(-1);
      }
      cache.reset();
    }
  });
});
