import type { Fleet } from './fleet';
import { hash2, type Rng } from './rng';

const hex8 = (x: number) => x.toString(16).padStart(8, '0');

/**
 * The cards auths are paid with, as numbers: a shop's regulars, its region's cards and one-off
 * visitors, each range apart so they never collide (incidents take theirs from 2^47 up).
 */
export class CardPool {
  private readonly regularPool: Float64Array;
  private readonly regionPool: Float64Array;
  private freshCard = 0;

  constructor(
    private readonly fleet: Fleet,
    volume: number,
  ) {
    const f = fleet;
    // Card pools sized by expected daily auths (peak rate x the profile's hours).
    this.regularPool = new Float64Array(f.merchants.length);
    this.regionPool = new Float64Array(f.regions.length);
    for (const t of f.terminals) {
      const m = f.merchants[t.merchant]!;
      const daily = t.peakRate * volume * m.profile.reduce((a, b) => a + b, 0);
      this.regularPool[m.index]! += daily * 0.25;
      this.regionPool[t.region]! += daily * 0.7;
    }
    for (let i = 0; i < this.regularPool.length; i++) {
      this.regularPool[i] = Math.max(50, Math.round(this.regularPool[i]!));
    }
    for (let i = 0; i < this.regionPool.length; i++) {
      this.regionPool[i] = Math.min(2 ** 24 - 1, Math.max(2000, Math.round(this.regionPool[i]!)));
    }
  }

  /** The card of a new auth at terminal t of merchant mi. */
  pick(t: number, mi: number, rng: Rng): number {
    const u = rng.next();
    if (u < 0.3) {
      // The shop's regulars: a pool of 25% of its daily sales, the most frequent come most often.
      const v = rng.next();
      return 1 + mi * 2 ** 22 + Math.floor(this.regularPool[mi]! * v * v);
    }
    if (u < 0.85) {
      // The region's cards: a pool of 70% of its daily sales, skewed (a card used at breakfast
      // is used again at lunch): together ~35% of a day's auths reuse a card seen that day.
      const v = rng.next();
      const r = this.fleet.terminals[t]!.region;
      return 2 ** 43 + r * 2 ** 24 + Math.floor(this.regionPool[r]! * v * v);
    }
    // Visitors and one-off cards.
    return 2 ** 45 + this.freshCard++;
  }
}

export function cardFingerprint(seed: number, card: number): string {
  const lo = (card % 4294967296) | 0;
  const hi = Math.floor(card / 4294967296);
  const a = hash2(lo ^ seed, hi);
  const b = hash2(a, lo);
  return 'fp_' + hex8(a) + hex8(b);
}

export function cardIssuer(fleet: Fleet, card: number): number {
  const lo = (card % 4294967296) | 0;
  const hi = Math.floor(card / 4294967296);
  return fleet.issuerTable.indexAt(hash2(lo + 0x1234567, hi ^ 0x55) / 4294967296);
}
