import { describe, expect, it } from 'vitest';
import { poissonCdf, poissonSf, wilsonLower, wilsonUpper } from './stats';

describe('statistics', () => {
  it('Wilson bounds match published values', () => {
    // 10 of 100 at z = 1.96: [0.0552, 0.1744] (Newcombe 1998, method 3).
    expect(wilsonLower(10, 100, 1.96)).toBeCloseTo(0.0552, 3);
    expect(wilsonUpper(10, 100, 1.96)).toBeCloseTo(0.1744, 3);
    expect(wilsonLower(0, 0, 3)).toBe(0);
    expect(wilsonUpper(0, 0, 3)).toBe(1);
  });
  it('a bare ratio on low volume gives a low bound', () => {
    // 3 of 4 is 75 % but the 99.9 % lower bound is under 20 %.
    expect(wilsonLower(3, 4, 3.09)).toBeLessThan(0.2);
    expect(wilsonLower(300, 400, 3.09)).toBeGreaterThan(0.67);
  });
  it('Poisson tails', () => {
    expect(poissonCdf(0, 2)).toBeCloseTo(Math.exp(-2), 10);
    expect(poissonCdf(2, 2)).toBeCloseTo(Math.exp(-2) * (1 + 2 + 2), 10);
    expect(poissonSf(3, 2)).toBeCloseTo(1 - Math.exp(-2) * 5, 10);
    expect(poissonSf(0, 2)).toBe(1);
    expect(poissonSf(40, 2)).toBeLessThan(1e-30);
    expect(poissonCdf(5, 100)).toBeLessThan(1e-30);
  });
});
