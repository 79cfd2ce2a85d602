import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DedupWindow } from './dedup';

/**
 * The window against a plain model: the last `capacity` distinct ids in arrival order. Ids are
 * drawn from a small set whose low words share few bits (most land in a few table slots, so
 * probe chains wrap, shift back on eviction and cross the table's end), and some ids share
 * their low word with another and differ in the high one (a low match alone is not a
 * duplicate).
 */
const idArb = fc.record({
  lo: fc.constantFrom(0, 1, 2, 3, 1024, 1025, 2048, -1, -1024, 0x7fffffff),
  hi: fc.integer({ min: 0, max: 3 }),
});

function model(capacity: number) {
  const ring: string[] = [];
  const set = new Set<string>();
  return (lo: number, hi: number): boolean => {
    const k = `${lo}:${hi}`;
    if (set.has(k)) return true;
    if (ring.length === capacity) set.delete(ring.shift()!);
    ring.push(k);
    set.add(k);
    return false;
  };
}

describe('DedupWindow', () => {
  it('says seen exactly for the last capacity distinct ids, through growth and eviction', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(idArb, { minLength: 1, maxLength: 400 }),
        (capacity, ids) => {
          const d = new DedupWindow(capacity);
          const m = model(capacity);
          for (const { lo, hi } of ids) expect(d.seenOrAdd(lo, hi)).toBe(m(lo, hi));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('takes an id whose low word matches a remembered one for new when the high word differs', () => {
    const d = new DedupWindow(8);
    expect(d.seenOrAdd(7, 1)).toBe(false);
    expect(d.seenOrAdd(7, 2)).toBe(false);
    expect(d.seenOrAdd(7, 1)).toBe(true);
    expect(d.seenOrAdd(7, 2)).toBe(true);
  });
});
