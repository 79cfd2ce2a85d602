import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FailureRing, Tracker, type Failure, type TerminalState } from './tracker';

const failure = (ts: number): Failure => ({
  ts,
  code: '91',
  cat: 'issuer',
  txnId: `x${ts}`,
  amount: 100,
});

describe('FailureRing', () => {
  // failuresSince skips the scan when the newest failure ever pushed is before `from`; out of
  // order and overwritten items must not make it skip one that is in the ring
  it('failuresSince equals a filter of the ring, pushes in any order and past its capacity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 40 }),
        fc.integer({ min: -10, max: 1_010 }),
        (capacity, times, from) => {
          const ring = new FailureRing(capacity);
          for (const ts of times) ring.push(failure(ts));
          const t = { failures: ring } as unknown as TerminalState;
          const got = Tracker.prototype.failuresSince.call({}, t, from);
          expect(got).toEqual(ring.toArray().filter((f) => f.ts >= from));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('knows the newest time pushed, even once that item is overwritten', () => {
    const ring = new FailureRing(2);
    ring.push(failure(50));
    ring.push(failure(10));
    ring.push(failure(20));
    expect(ring.latest).toBe(50);
    expect(ring.toArray().map((f) => f.ts)).toEqual([10, 20]);
  });
});
