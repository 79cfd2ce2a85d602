import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveRates, newDerivedRates, rateRowSchema } from './rates';

describe('deriveRates', () => {
  it('derives failures, faults and the four rates from the counters', () => {
    // 200 auths, 150 approved, 20 of the 50 failures the cardholder's; 4 reversals; 3 of 10 due unsettled
    expect(deriveRates(200, 150, 20, 4, 10, 3, newDerivedRates())).toEqual({
      failures: 50,
      faults: 30,
      failureRate: 0.25,
      faultRate: 0.15,
      reversalRate: 0.02,
      noSettlementRate: 0.3,
    });
  });

  it('is 0 where the denominator is 0', () => {
    expect(deriveRates(0, 0, 0, 2, 0, 0, newDerivedRates())).toEqual(newDerivedRates());
    expect(deriveRates(10, 10, 0, 0, 0, 0, newDerivedRates()).noSettlementRate).toBe(0);
  });

  it('writes into the object it is given and returns it', () => {
    const out = newDerivedRates();
    expect(deriveRates(4, 1, 1, 0, 2, 1, out)).toBe(out);
    expect(deriveRates(10, 5, 0, 0, 0, 0, out).failureRate).toBe(0.5);
    expect(out.noSettlementRate).toBe(0);
  });

  it('gives rates the contract accepts for any consistent counters', () => {
    const counts = fc
      .record({
        auths: fc.nat(100_000),
        approvedShare: fc.double({ min: 0, max: 1, noNaN: true }),
        cardholderShare: fc.double({ min: 0, max: 1, noNaN: true }),
        due: fc.nat(1_000),
        unsettledShare: fc.double({ min: 0, max: 1, noNaN: true }),
      })
      .map((c) => {
        const approved = Math.floor(c.auths * c.approvedShare);
        const cardholder = Math.floor((c.auths - approved) * c.cardholderShare);
        return { ...c, approved, cardholder, unsettled: Math.floor(c.due * c.unsettledShare) };
      });
    const pick = rateRowSchema.pick({
      failures: true,
      faults: true,
      failureRate: true,
      faultRate: true,
      reversalRate: true,
      noSettlementRate: true,
    });
    fc.assert(
      fc.property(counts, fc.nat(1_000), (c, reversals) => {
        const d = deriveRates(
          c.auths,
          c.approved,
          c.cardholder,
          reversals,
          c.due,
          c.unsettled,
          newDerivedRates(),
        );
        expect(pick.safeParse(d).success).toBe(true);
        expect(d.faultRate).toBeLessThanOrEqual(d.failureRate);
      }),
    );
  });
});
