import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentList } from './recent';
import { DIRTY } from './tracker';

/** the recheck as it was: every id walked, stamped or dropped, and all of them sorted */
function walkAndSort(recent: Map<string, number>, now: number, span: number): string[] {
  const out: string[] = [];
  recent.forEach((at, k) => {
    if (at === DIRTY) {
      recent.set(k, now);
      out.push(k);
    } else if (at < now - span) recent.delete(k);
    else out.push(k);
  });
  return out.sort();
}

describe('RecentList', () => {
  it('takes what a walk and a sort of every id take, evaluation after evaluation', () => {
    const id = fc.constantFrom(
      ...Array.from({ length: 40 }, (_, i) => `T${(i * 7919) % 97}_${i % 3}`),
      'é',
      'Z',
      'a',
    );
    const step = fc.record({
      marked: fc.array(id, { maxLength: 15 }),
      dt: fc.integer({ min: 0, max: 25_000 }),
    });
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 40 }),
        fc.integer({ min: 0, max: 60_000 }),
        (steps, span) => {
          const a = new Map<string, number>();
          const b = new Map<string, number>();
          const list = new RecentList();
          let now = 1_000_000;
          for (const s of steps) {
            for (const k of s.marked) {
              a.set(k, DIRTY);
              b.set(k, DIRTY);
            }
            now += s.dt;
            expect(list.take(a, now, span)).toEqual(walkAndSort(b, now, span));
            expect([...a]).toEqual([...b]);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
