/**
 * 64-bit string hash as two 32-bit lanes (FNV-1a style with two primes, murmur3 finaliser).
 * One pass over the UTF-16 code units; both lanes run in the same loop so the second costs
 * almost nothing (instruction-level parallelism). Not collision-resistant against an adversary;
 * for honest ids two different strings collide in both lanes with probability ~2^-64.
 */
export class Hasher {
  /** the second lane of the last hash() */
  hi = 0;

  hash(s: string): number {
    let a = 0x811c9dc5;
    let b = 0x2f2a7f3b;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    this.hi = fmix(b ^ n ^ 0x68e31da4);
    return fmix(a ^ n);
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
