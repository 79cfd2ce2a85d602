import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { METRIC_COUNT, SCOPE } from '@tillwatch/core';
import { MergedWindows } from './merged-windows';

const P0 = 5_000;
const WINDOWS = [60_000, 300_000, 900_000, 3_600_000];
const PANES = [5_000, 10_000, 30_000, 120_000];

/** Every add ever made, summed naively: what the prefix sums must answer for finalized ranges. */
function naive(
  log: { key: string; pane: number; c: number[] }[],
  key: string,
  a: number,
  b: number,
) {
  const out = new Float64Array(METRIC_COUNT);
  let any = false;
  for (const e of log) {
    if (e.key !== key || e.pane < a || e.pane >= b) continue;
    any = true;
    for (let i = 0; i < METRIC_COUNT; i++) out[i]! += e.c[i] ?? 0;
  }
  return { out, any };
}

describe('MergedWindows prefix sums', () => {
  it('every window read equals the plain sum of the partials in it', () => {
    // A stream of steps: partials for panes at or ahead of the watermark (as the rollup task
    // hands them over), then the watermark moving one pane or jumping ahead.
    const step = fc.record({
      adds: fc.array(
        fc.record({
          key: fc.constantFrom('CN-31', 'CN-44', 'CN-11'),
          ahead: fc.integer({ min: 0, max: 40 }),
          c: fc.array(fc.integer({ min: 0, max: 9 }), {
            minLength: METRIC_COUNT,
            maxLength: METRIC_COUNT,
          }),
        }),
        { maxLength: 4 },
      ),
      move: fc.oneof(
        fc.constant(1),
        fc.constant(1),
        fc.integer({ min: 2, max: 30 }),
        fc.integer({ min: 700, max: 900 }),
      ),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 400 }), (steps) => {
        const mw = new MergedWindows({ windowsMs: WINDOWS, panesMs: PANES });
        const log: { key: string; pane: number; c: number[] }[] = [];
        let wm = 1_000 * P0;
        mw.advance(wm);
        for (const s of steps) {
          for (const a of s.adds) {
            const pane = wm + a.ahead * P0;
            mw.add(SCOPE.region, a.key, pane, a.c);
            log.push({ key: a.key, pane, c: a.c });
          }
          wm += s.move * P0;
          mw.advance(wm);
          for (const key of ['CN-31', 'CN-44', 'CN-11']) {
            for (let w = 0; w < WINDOWS.length; w++) {
              const end = Math.floor(wm / PANES[w]!) * PANES[w]!;
              const start = end - WINDOWS[w]!;
              const got = new Float64Array(METRIC_COUNT);
              const any = mw.sumInto(SCOPE.region, key, start, end, got);
              const want = naive(log, key, start, end);
              expect([...got]).toEqual([...want.out]);
              expect(any).toBe(want.any);
              expect(mw.touched(SCOPE.region, key, end - PANES[w]!, end)).toBe(
                naive(log, key, end - PANES[w]!, end).any,
              );
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
