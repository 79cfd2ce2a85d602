import type { Mall, Merchant, MerchantCategory, RegionSpec } from './fleet';
import { Rng } from './rng';

/**
 * A shop's week: malls and their hours, Saturday and Sunday profiles. Holidays and shopping
 * festivals are derived from these per day (trading-hours.ts), since they depend on the calendar.
 */

/** Saturday and Sunday traffic against a weekday, by category (people shop, dine out, rest). */
const WEEKEND: Readonly<Record<MerchantCategory, readonly [number, number]>> = {
  convenience: [1.05, 1.0],
  restaurant: [1.3, 1.25],
  supermarket: [1.3, 1.2],
  retail: [1.45, 1.35],
  cafe: [1.05, 0.95],
  pharmacy: [0.85, 0.75],
  gas: [0.9, 0.85],
  hotel: [1.15, 1.0],
  electronics: [1.5, 1.4],
};

/** Categories that take shop space in malls. */
const MALL_CATEGORIES: ReadonlySet<MerchantCategory> = new Set([
  'retail',
  'electronics',
  'restaurant',
  'cafe',
]);

/** A mall shop's weekday level in an open hour its street profile has closed (a café at 21:00). */
const MALL_FLOOR = 0.25;

/** No commute on weekend mornings: 06:00–10:00 at this share of a weekday's level. */
const WEEKEND_MORNING = 0.6;

/**
 * Give each region 1–3 malls and each merchant its weekend hours; returns the malls. Draws from
 * its own stream (not the fleet's), so adding this left every other attribute of a seed's fleet
 * as it was.
 *
 * - `mallShare` of retail, electronics, restaurant and café merchants sit in a mall: open from
 *   its opening to its closing hour every day (closing 21:00 or 22:00, on the minute), weekday
 *   levels from their street profile, terminals switched off while closed.
 * - Street shops keep their weekday profile; on weekends their category's factor applies,
 *   mornings are quieter, 35 % of those that close at night open an hour later, 10 % close on
 *   Sundays and 5 % on both weekend days; 60 % of street cafés serve offices: a third of their
 *   weekday trade on weekends, or closed (half of them).
 */
export function assignWeeklyHours(
  seed: number,
  regions: readonly RegionSpec[],
  merchants: Merchant[],
  mallShare: number,
): Mall[] {
  const rng = Rng.derive(seed, 0x3a11);
  const malls: Mall[] = [];
  const byRegion: number[][] = regions.map(() => []);
  if (mallShare > 0) {
    regions.forEach((r, ri) => {
      const n = 1 + rng.int(3);
      for (let k = 0; k < n; k++) {
        byRegion[ri]!.push(malls.length);
        malls.push({
          id: `${r.id}-MALL${k + 1}`,
          region: ri,
          opensAt: 10,
          closesAt: rng.chance(0.5) ? 21 : 22,
        });
      }
    });
  }
  for (const m of merchants) {
    const [fSat, fSun] = WEEKEND[m.category];
    // Every draw happens for every merchant, so one merchant's kind never shifts another's.
    const uMall = rng.next();
    const mallPick = rng.next();
    const uLate = rng.next();
    const uClosed = rng.next();
    const uOffice = rng.next();
    const uOfficeClosed = rng.next();
    const inMall = MALL_CATEGORIES.has(m.category) && uMall < mallShare;
    const choices = byRegion[m.region] ?? [];
    if (inMall && choices.length > 0) {
      m.mall = choices[Math.floor(mallPick * choices.length)]!;
      const mall = malls[m.mall]!;
      m.alwaysOn = false;
      m.allDay = false;
      const p = new Float64Array(24);
      for (let h = mall.opensAt; h < mall.closesAt; h++) p[h] = Math.max(m.profile[h]!, MALL_FLOOR);
      m.profile = p;
      m.saturday = p.map((v) => v * fSat);
      m.sunday = p.map((v) => v * fSun);
      continue;
    }
    const office = m.category === 'cafe' && uOffice < 0.6;
    const sat = new Float64Array(24);
    const sun = new Float64Array(24);
    for (let h = 0; h < 24; h++) {
      const morning = h >= 6 && h < 10 ? WEEKEND_MORNING : 1;
      sat[h] = m.profile[h]! * (office ? 0.35 : fSat) * morning;
      sun[h] = m.profile[h]! * (office ? 0.3 : fSun) * morning;
    }
    if (!m.allDay) {
      if (uLate < 0.35) {
        // Opens an hour later: the first hour after each closed stretch stays shut.
        for (let h = 0; h < 24; h++) {
          if (m.profile[h]! > 0 && m.profile[(h + 23) % 24] === 0) {
            sat[h] = 0;
            sun[h] = 0;
          }
        }
      }
      if (uClosed < 0.05 || (office && uOfficeClosed < 0.5)) {
        sat.fill(0);
        sun.fill(0);
      } else if (uClosed < 0.15) {
        sun.fill(0);
      }
    }
    m.saturday = sat;
    m.sunday = sun;
  }
  return malls;
}
