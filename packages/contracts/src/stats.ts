/**
 * The bound a rate is judged by, shared by the rules (packages/rules/src/stats.ts re-exports it)
 * and the board's rankings: 3 failures out of 4 auths is 75 % but says little; the Wilson bound
 * says "at least 30 %, 99.9 % sure", and ranks 40 of 200 above it.
 */

/** Lower Wilson score bound of a binomial proportion k/n at z (one-sided). 0 when n = 0. */
export function wilsonLower(k: number, n: number, z: number): number {
  if (n <= 0) return 0;
  const p = Math.min(1, Math.max(0, k / n));
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - spread) / (1 + z2 / n));
}

/** Upper Wilson score bound of k/n at z. 1 when n = 0. */
export function wilsonUpper(k: number, n: number, z: number): number {
  if (n <= 0) return 1;
  const p = Math.min(1, Math.max(0, k / n));
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.min(1, (centre + spread) / (1 + z2 / n));
}
