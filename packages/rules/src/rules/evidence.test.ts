import fc from 'fast-check';
import { DEFAULT_ENGINE_CONFIG } from '@tillwatch/core';
import { describe, expect, it } from 'vitest';
import { Tracker } from '../tracker';
import type { Ctx } from './context';
import { gatherOnce } from './cross-partition';
import { allFailures, failuresOf, rateEvidence } from './evidence';

const T0 = Date.UTC(2026, 2, 2, 2);
const CODES = ['91', 'TO', '12', '51', '00'];

/**
 * gatherOnce (the spread rules' failures, once per key for all its windows) against gathering
 * again for each window start, on a tracker fed failures in any order (rings wrap, late
 * events): the same lists, in the same order, for the issuer's gather (allFailures) and the
 * firmware's (failuresOf its terminals).
 */
describe('gatherOnce', () => {
  it("gives each start's failures as gathering from that start does", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            t: fc.integer({ min: 0, max: 7 }),
            dt: fc.integer({ min: 0, max: 3_600_000 }),
            code: fc.constantFrom(...CODES),
            issuer: fc.constantFrom('I1', 'I2', 'I3'),
          }),
          { maxLength: 400 },
        ),
        fc.array(
          fc.record({
            key: fc.constantFrom('I1', 'I2', 'I3'),
            starts: fc.array(fc.integer({ min: 0, max: 3_600_000 }), { maxLength: 4 }),
          }),
          { maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 3_600_000 }),
        (events, asks, earliestDt) => {
          const tracker = new Tracker(60_000);
          events.forEach((e, i) =>
            tracker.observe({
              type: 'auth',
              eventId: `e${i}`,
              ts: T0 + e.dt,
              terminalId: `T${e.t}`,
              merchantId: `M${e.t >> 1}`,
              region: 'R1',
              txnId: `x${i}`,
              amount: 100,
              currency: 'CNY',
              responseCode: e.code,
              issuerId: e.issuer,
              firmware: e.t % 2 ? '1.0' : '2.0',
            }),
          );
          const ctx = { tracker } as unknown as Ctx;
          const earliest = T0 + earliestDt;
          const byIssuer = (key: string, from: number) =>
            allFailures(ctx, from, undefined, (f) => f.issuerId === key);
          const byVersion = (key: string, from: number) =>
            failuresOf(
              ctx,
              [...tracker.terminals.values()].filter((t) => t.firmware === key).map((t) => t.id),
              from,
            );
          for (const gather of [byIssuer, byVersion]) {
            const once = gatherOnce(gather, earliest);
            for (const { key, starts } of asks) {
              const k = gather === byVersion ? (key === 'I1' ? '1.0' : '2.0') : key;
              for (const s of starts) {
                const from = earliest + s;
                expect(once(k, from)).toEqual(gather(k, from));
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

/**
 * A rate rule's evidence is built when it is sent, which for a resolve is long after the firing
 * it tells, and for an open episode in rules memory at the hour: it lists the failures of the
 * window it judged, not those the ring took in since (a resolve listed terminals that failed
 * after its firing, and another list after a restart, whose memory had built it earlier).
 */
describe('rateEvidence', () => {
  it("lists the judged window's failures, whenever it is built", () => {
    const tracker = new Tracker(60_000);
    const fail = (i: number, dt: number, terminalId: string) =>
      tracker.observe({
        type: 'auth',
        eventId: `e${i}`,
        ts: T0 + dt,
        terminalId,
        merchantId: 'M1',
        region: 'R1',
        txnId: `x${i}`,
        amount: 100,
        currency: 'CNY',
        responseCode: 'TO',
      });
    // the 5 min window (w 1) ending at T0 + 5 min: two timeouts on T1 in it
    fail(0, 60_000, 'T1');
    fail(1, 120_000, 'T1');
    const w = DEFAULT_ENGINE_CONFIG.windowsMs.indexOf(300_000);
    const ctx = {
      tracker,
      now: T0 + 300_000,
      engine: { config: DEFAULT_ENGINE_CONFIG },
    } as unknown as Ctx;
    const evidence = rateEvidence(ctx, 'card_testing', 'merchant', 'M1', w, new Float64Array(64));
    const atFiring = evidence();
    // later failures, on T1 and on a terminal of the merchant that had none: not in the window
    fail(2, 310_000, 'T2');
    fail(3, 400_000, 'T1');
    (ctx as { now: number }).now = T0 + 900_000;
    const later = evidence();
    expect(atFiring.affectedTerminals).toEqual(['T1']);
    expect(atFiring.topResponseCodes).toEqual([{ code: 'TO', count: 2 }]);
    expect(later).toEqual(atFiring);
  });
});
