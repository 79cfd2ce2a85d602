import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, type Category, type TerminalEvent } from '@tillwatch/contracts';
import { RULE_CATS } from './rules/context';
import {
  FailureRing,
  OUTAGE_CATS,
  Tracker,
  isOutage,
  type Failure,
  type TerminalState,
} from './tracker';

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

describe('outage bounds', () => {
  it('isOutage and FailureRing.push test OUTAGE_CATS, and regional_outage counts those', () => {
    for (const cat of CATEGORIES) {
      expect([cat, isOutage(cat)]).toEqual([cat, OUTAGE_CATS.includes(cat)]);
      const ring = new FailureRing(4);
      ring.push({ ...failure(7), cat });
      expect([cat, ring.outage1]).toEqual([
        cat,
        OUTAGE_CATS.includes(cat) ? 7 : Number.NEGATIVE_INFINITY,
      ]);
    }
    expect(RULE_CATS.regional_outage).toEqual(OUTAGE_CATS);
  });

  // regional_outage passes over a region when outageSince says no: it must never say no while a
  // terminal of the region (byRegion, as the rules walk it) has n outage failures in its ring
  // since `from`, whatever the order of events, moves between regions and ring overwrites
  it('outageSince(region, from, n) is false only when no terminal of the region has n since', () => {
    const codeOf: Record<Category, string> = {
      approved: '00',
      cardholder: '51',
      issuer: '91',
      terminal: '58',
      security: '04',
      timeout: 'TO',
      other: 'ZZ',
    };
    const ev = fc.record({
      t: fc.integer({ min: 0, max: 5 }),
      region: fc.integer({ min: 0, max: 2 }),
      ts: fc.integer({ min: 0, max: 1_000 }),
      cat: fc.constantFrom(...CATEGORIES),
    });
    let saidNo = 0;
    fc.assert(
      fc.property(
        fc.array(ev, { maxLength: 120 }),
        fc.integer({ min: -10, max: 1_010 }),
        (evs, from) => {
          const tracker = new Tracker(60_000);
          evs.forEach((e, i) => {
            const auth: TerminalEvent = {
              type: 'auth',
              eventId: `e${i}`,
              terminalId: `T${e.t}`,
              merchantId: `M${e.t}`,
              region: `R${e.region}`,
              ts: e.ts,
              txnId: `x${i}`,
              amount: 100,
              currency: 'CNY',
              responseCode: codeOf[e.cat],
            };
            tracker.observe(auth);
          });
          for (const region of ['R0', 'R1', 'R2']) {
            for (const n of [1, 2] as const) {
              if (tracker.outageSince(region, from, n)) continue;
              saidNo++;
              for (const id of tracker.byRegion.get(region) ?? []) {
                const got = tracker
                  .failuresSince(tracker.terminals.get(id), from)
                  .filter((f) => OUTAGE_CATS.includes(f.cat));
                expect(got.length).toBeLessThan(n);
              }
            }
          }
        },
      ),
      { numRuns: 1_000 },
    );
    expect(saidNo).toBeGreaterThan(0);
  });

  // statesOf caches a set's states until the set changes: moves, new terminals and forgotten
  // ones must show at the next call, in the set's order and in id order
  it('statesOf follows byRegion and byMerchant through moves and forgetting', () => {
    const step = fc.oneof(
      fc.record({
        t: fc.integer({ min: 0, max: 6 }),
        region: fc.integer({ min: 0, max: 2 }),
        merchant: fc.integer({ min: 0, max: 2 }),
        dt: fc.integer({ min: 0, max: 3 * 24 * 3_600_000 }),
      }),
      fc.constant('forget' as const),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const tracker = new Tracker(60_000, undefined, 24 * 3_600_000);
        let now = 0;
        const check = (): void => {
          for (const map of [tracker.byRegion, tracker.byMerchant]) {
            for (const ids of map.values()) {
              const want = [...ids].map((id) => tracker.terminals.get(id)!);
              expect(tracker.statesOf(ids, false)).toEqual(want);
              const sorted = [...ids].sort().map((id) => tracker.terminals.get(id)!);
              expect(tracker.statesOf(ids, true)).toEqual(sorted);
              for (const t of tracker.statesOf(ids, true))
                expect(t).toBe(tracker.terminals.get(t.id));
            }
          }
        };
        steps.forEach((x, i) => {
          if (x === 'forget') tracker.forgetIdle(now);
          else {
            now += x.dt;
            tracker.observe({
              type: 'heartbeat',
              eventId: `h${i}`,
              ts: now,
              terminalId: `T${x.t}`,
              merchantId: `M${x.merchant}`,
              region: `R${x.region}`,
            });
          }
          check();
        });
      }),
      { numRuns: 300 },
    );
  });
});
