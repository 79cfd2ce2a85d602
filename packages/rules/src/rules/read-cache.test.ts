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
});
