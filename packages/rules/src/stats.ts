/**
 * Small, exact statistics the rules decide on. A rule never fires on a bare ratio: 3 failures
 * out of 4 auths is 75 % but says little; the Wilson bound says "at least 30 %, 99.9 % sure".
 */

// The Wilson bounds live in contracts: the board ranks by the same bound the rules decide on.
export { wilsonLower, wilsonUpper } from '@tillwatch/contracts';

function logFactorial(k: number): number {
  let s = 0;
  for (let i = 2; i <= k; i++) s += Math.log(i);
  return s;
}

/** P(X <= k) for X ~ Poisson(lambda). Summed in log space: exact enough for k up to ~10^4. */
export function poissonCdf(k: number, lambda: number): number {
  if (k < 0) return 0;
  if (lambda <= 0) return 1;
  const kk = Math.floor(k);
  let term = -lambda; // log P(X = 0)
  let sum = Math.exp(term);
  for (let i = 1; i <= kk; i++) {
    term += Math.log(lambda) - Math.log(i);
    sum += Math.exp(term);
    if (i > lambda && Math.exp(term) < 1e-17 * sum) break;
  }
  return Math.min(1, sum);
}

/** P(X >= k) for X ~ Poisson(lambda). */
export function poissonSf(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  const kk = Math.ceil(k);
  // Sum the upper tail directly from k: avoids 1 - cdf cancellation when the tail is tiny.
  let term = -lambda + kk * Math.log(lambda) - logFactorial(kk);
  let sum = Math.exp(term);
  for (let i = kk + 1; i < kk + 10_000; i++) {
    term += Math.log(lambda) - Math.log(i);
    const t = Math.exp(term);
    sum += t;
    if (i > lambda && t < 1e-17 * sum) break;
  }
  return Math.min(1, sum);
}

/** Round for output: stable, readable numbers in alerts (no 0.30000000000000004). */
export function round(x: number, digits = 4): number {
  if (!Number.isFinite(x)) return 0;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
