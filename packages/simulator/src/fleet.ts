import { Rng, Weighted } from './rng';
import { assignWeeklyHours } from './weekly-hours';

/**
 * The simulated fleet: regions, merchants, terminals, issuers and firmware versions. Built once
 * from a seed; everything the event generator needs per terminal sits in flat arrays indexed by
 * a dense terminal index, so the hot loop does no map lookups.
 */

export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;
/** China Standard Time, UTC+8, no daylight saving: the fleet's daily rhythm follows it. */
export const CN_OFFSET_MS = 8 * HOUR_MS;

export interface RegionSpec {
  id: string;
  /** share of merchants */
  weight: number;
  /** traffic multiplier per terminal (big cities shop more per till) */
  traffic: number;
  /** multiplier on timeout probability and latency (carrier quality) */
  network: number;
}

/** 12 regions: ISO 3166-2:CN province codes, Guangdong split by city as acquirers do. */
export const DEFAULT_REGIONS: readonly RegionSpec[] = [
  { id: 'CN-31', weight: 14, traffic: 1.3, network: 0.8 },
  { id: 'CN-11', weight: 13, traffic: 1.2, network: 0.8 },
  { id: 'CN-44-SZ', weight: 11, traffic: 1.25, network: 0.85 },
  { id: 'CN-44-GZ', weight: 10, traffic: 1.15, network: 0.9 },
  { id: 'CN-33', weight: 9, traffic: 1.0, network: 1.0 },
  { id: 'CN-32', weight: 9, traffic: 1.0, network: 1.0 },
  { id: 'CN-51', weight: 7, traffic: 0.9, network: 1.15 },
  { id: 'CN-42', weight: 6, traffic: 0.85, network: 1.1 },
  { id: 'CN-37', weight: 6, traffic: 0.85, network: 1.1 },
  { id: 'CN-35', weight: 5, traffic: 0.9, network: 1.05 },
  { id: 'CN-50', weight: 5, traffic: 0.85, network: 1.2 },
  { id: 'CN-61', weight: 5, traffic: 0.8, network: 1.25 },
];

/** ~20 issuers; weights follow the big state banks' share of cards in circulation. */
export const DEFAULT_ISSUERS: readonly (readonly [string, number])[] = [
  ['ICBC', 14],
  ['CCB', 12],
  ['ABC', 10],
  ['BOC', 9],
  ['CMB', 9],
  ['BOCOM', 6],
  ['PSBC', 6],
  ['CIB', 5],
  ['SPDB', 4],
  ['CITIC', 4],
  ['CEB', 3],
  ['CMBC', 3],
  ['PAB', 3],
  ['CGB', 3],
  ['HXB', 2],
  ['BOB', 2],
  ['BOSH', 2],
  ['CZB', 1],
  ['HFB', 1],
  ['INTL', 1.5],
];

/** Firmware versions in the field and their share; older versions fail slightly more. */
export const DEFAULT_FIRMWARE: readonly (readonly [string, number, number])[] = [
  // [version, share, fault multiplier]
  ['4.2.1', 45, 1.0],
  ['4.3.0', 30, 0.95],
  ['4.1.7', 18, 1.1],
  ['3.9.2', 7, 1.3],
];

export type MerchantCategory =
  | 'convenience'
  | 'restaurant'
  | 'supermarket'
  | 'retail'
  | 'cafe'
  | 'pharmacy'
  | 'gas'
  | 'hotel'
  | 'electronics';

interface CategorySpec {
  share: number;
  /** relative traffic per local hour 0..23; 0 = closed */
  profile: readonly number[];
  /** auths per hour per terminal at the profile's peak (1.0) */
  peakRate: number;
  /** median amount, CNY fen */
  medianAmount: number;
  /** terminals per merchant: median */
  terminals: number;
  /** share of manual (keyed) entry */
  manual: number;
}

// Profiles: quiet nights, a lunch peak and an evening peak (DESIGN: daily rhythm).
// prettier-ignore
const CATEGORIES: Readonly<Record<MerchantCategory, CategorySpec>> = {
  convenience: { share: 24, peakRate: 40, medianAmount: 2500, terminals: 2, manual: 0.01,
    profile: [0.15,0.1,0.08,0.06,0.06,0.1,0.3,0.7,0.9,0.6,0.5,0.7,1.0,0.8,0.5,0.5,0.6,0.8,0.95,0.9,0.7,0.55,0.4,0.25] },
  restaurant: { share: 20, peakRate: 28, medianAmount: 9000, terminals: 2, manual: 0.02,
    profile: [0,0,0,0,0,0,0,0,0,0,0.2,0.6,1.0,0.9,0.4,0.2,0.25,0.6,0.95,1.0,0.7,0.4,0,0] },
  supermarket: { share: 10, peakRate: 60, medianAmount: 12000, terminals: 8, manual: 0.01,
    profile: [0,0,0,0,0,0,0,0,0.3,0.5,0.7,0.9,0.85,0.6,0.5,0.55,0.7,0.9,1.0,0.95,0.7,0.4,0,0] },
  retail: { share: 16, peakRate: 14, medianAmount: 30000, terminals: 2, manual: 0.03,
    profile: [0,0,0,0,0,0,0,0,0,0,0.3,0.5,0.6,0.7,0.75,0.8,0.8,0.75,0.8,1.0,0.9,0.6,0,0] },
  cafe: { share: 9, peakRate: 35, medianAmount: 3500, terminals: 1, manual: 0.01,
    profile: [0,0,0,0,0,0,0,0.6,1.0,0.8,0.5,0.6,0.7,0.7,0.9,0.8,0.6,0.4,0.3,0.2,0,0,0,0] },
  pharmacy: { share: 6, peakRate: 12, medianAmount: 6000, terminals: 1, manual: 0.02,
    profile: [0.05,0.03,0.02,0.02,0.02,0.04,0.1,0.4,0.7,0.8,0.8,0.8,0.9,0.7,0.6,0.6,0.7,0.9,1.0,0.9,0.7,0.5,0.2,0.1] },
  gas: { share: 5, peakRate: 30, medianAmount: 25000, terminals: 3, manual: 0.01,
    profile: [0.15,0.1,0.08,0.08,0.1,0.2,0.5,0.9,1.0,0.7,0.6,0.6,0.6,0.6,0.6,0.7,0.8,1.0,0.9,0.7,0.5,0.4,0.3,0.2] },
  hotel: { share: 5, peakRate: 8, medianAmount: 60000, terminals: 2, manual: 0.12,
    profile: [0.2,0.1,0.05,0.05,0.05,0.1,0.3,0.6,0.9,1.0,0.8,0.7,0.8,0.6,0.6,0.7,0.8,0.8,0.7,0.6,0.5,0.4,0.35,0.3] },
  electronics: { share: 5, peakRate: 7, medianAmount: 150000, terminals: 2, manual: 0.04,
    profile: [0,0,0,0,0,0,0,0,0,0,0.4,0.6,0.7,0.7,0.8,0.9,0.9,0.8,0.9,1.0,0.9,0.5,0,0] },
};
export const MERCHANT_CATEGORIES = Object.keys(CATEGORIES) as MerchantCategory[];

export interface FleetOptions {
  terminals?: number;
  merchants?: number;
  /** region specs, or a count to take the first N of DEFAULT_REGIONS */
  regions?: readonly RegionSpec[] | number;
  issuers?: readonly (readonly [string, number])[];
  firmware?: readonly (readonly [string, number, number])[];
  /**
   * The fleet's time zone, for its daily rhythm; default +8 h (China). A live demo may shift it
   * so that the wall clock's "now" falls in the fleet's business hours.
   */
  utcOffsetMs?: number;
  /**
   * Share of retail, electronics, restaurant and café merchants that sit in one of their
   * region's 1–3 malls and keep its hours to the minute; default 0.4, 0 for no malls.
   */
  mallShare?: number;
}

/** A shopping mall: its shops open and close on its hours, and switch their terminals off. */
export interface Mall {
  id: string;
  region: number;
  /** local hour the shops open (10) */
  opensAt: number;
  /** local hour the shops close, on the minute (21 or 22) */
  closesAt: number;
}

export interface Merchant {
  index: number;
  id: string;
  region: number;
  category: MerchantCategory;
  /** 24 local-hour traffic levels on a weekday (and a make-up workday), 0 = closed */
  profile: Float64Array;
  /** the same on an ordinary Saturday and Sunday (weekly-hours.ts); all 0 when closed that day */
  saturday: Float64Array;
  sunday: Float64Array;
  /** open around the clock on weekdays (no closed hour): convenience, gas, hotels, some pharmacies */
  allDay: boolean;
  /** index into Fleet.malls, or -1 */
  mall: number;
  /** terminals stay powered on (heartbeating) while closed; never in a mall */
  alwaysOn: boolean;
  medianAmount: number;
  manual: number;
  terminals: number[];
}

export interface Terminal {
  index: number;
  id: string;
  merchant: number;
  region: number;
  firmware: number;
  network: 'ethernet' | 'wifi' | 'cellular';
  /** auths per hour at the merchant's peak */
  peakRate: number;
  /** this terminal's fault-probability multiplier (device age, wear) */
  quality: number;
  /** heartbeat phase within the 5-minute cycle, ms */
  heartbeatPhase: number;
}

export interface Fleet {
  regions: readonly RegionSpec[];
  malls: readonly Mall[];
  merchants: readonly Merchant[];
  terminals: readonly Terminal[];
  issuers: readonly string[];
  issuerTable: Weighted<number>;
  firmware: readonly string[];
  firmwareFault: readonly number[];
  utcOffsetMs: number;
}

export const DEFAULT_FLEET_SIZE = { terminals: 2_400, merchants: 240, regions: 12 } as const;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Build the fleet deterministically from a seed. */
export function buildFleet(seed: number, opts: FleetOptions = {}): Fleet {
  const rng = Rng.derive(seed, 0xf1ee7);
  const regions =
    typeof opts.regions === 'number'
      ? DEFAULT_REGIONS.slice(0, Math.max(1, Math.min(opts.regions, DEFAULT_REGIONS.length)))
      : (opts.regions ?? DEFAULT_REGIONS);
  const nMerchants = Math.max(1, opts.merchants ?? DEFAULT_FLEET_SIZE.merchants);
  const nTerminals = Math.max(nMerchants, opts.terminals ?? DEFAULT_FLEET_SIZE.terminals);
  const issuerEntries = opts.issuers ?? DEFAULT_ISSUERS;
  const fwEntries = opts.firmware ?? DEFAULT_FIRMWARE;

  const regionPick = new Weighted(regions.map((r, i) => [i, r.weight] as const));
  const catPick = new Weighted(MERCHANT_CATEGORIES.map((c) => [c, CATEGORIES[c].share] as const));
  const fwPick = new Weighted(fwEntries.map(([, share], i) => [i, share] as const));

  const merchants: Merchant[] = [];
  // Terminal counts: the category's median, log-normal spread, then scaled to the target total.
  const wanted: number[] = [];
  for (let m = 0; m < nMerchants; m++) {
    // Round-robin the first merchants over regions so every region has shops even in tiny fleets.
    const region = m < regions.length ? m : regionPick.pick(rng);
    const category = catPick.pick(rng);
    const spec = CATEGORIES[category];
    const profile = new Float64Array(24);
    // Each shop opens/closes up to an hour off its category's hours and is a bit more or less busy.
    const shift = rng.int(3) - 1;
    for (let h = 0; h < 24; h++) profile[h] = spec.profile[(h - shift + 24) % 24]!;
    const closesAtNight = profile.some((v) => v === 0);
    merchants.push({
      index: m,
      id: `M${pad(m + 1, 5)}`,
      region,
      category,
      profile,
      saturday: profile,
      sunday: profile,
      allDay: !closesAtNight,
      mall: -1,
      alwaysOn: !closesAtNight || rng.chance(0.35),
      medianAmount: spec.medianAmount * rng.lognormal(1, 0.25),
      manual: spec.manual,
      terminals: [],
    });
    wanted.push(Math.max(1, spec.terminals * rng.lognormal(1, 0.6)));
  }
  const totalWanted = wanted.reduce((a, b) => a + b, 0);
  const counts = wanted.map((w) => Math.max(1, Math.round((w / totalWanted) * nTerminals)));
  // Fix rounding so the fleet has exactly nTerminals terminals.
  let diff = nTerminals - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; diff !== 0; i = (i + 1) % nMerchants) {
    if (diff > 0) {
      counts[i]!++;
      diff--;
    } else if (counts[i]! > 1) {
      counts[i]!--;
      diff++;
    }
  }

  const terminals: Terminal[] = [];
  const networks = new Weighted([
    ['ethernet', 40],
    ['wifi', 35],
    ['cellular', 25],
  ] as const);
  for (const merchant of merchants) {
    const spec = CATEGORIES[merchant.category];
    const region = regions[merchant.region]!;
    const busy = rng.lognormal(1, 0.35);
    for (let k = 0; k < counts[merchant.index]!; k++) {
      const index = terminals.length;
      terminals.push({
        index,
        id: `T${pad(index + 1, 6)}`,
        merchant: merchant.index,
        region: merchant.region,
        firmware: fwPick.pick(rng),
        network: networks.pick(rng),
        // Lanes of one shop differ: the first till is the busiest.
        peakRate:
          spec.peakRate * region.traffic * busy * rng.lognormal(1, 0.3) * (k === 0 ? 1.2 : 1),
        quality: rng.lognormal(1, 0.3),
        heartbeatPhase: rng.int(5 * MINUTE_MS),
      });
      merchant.terminals.push(index);
    }
  }

  // Malls and weekend hours come from a stream of their own, so the fleet above (categories,
  // terminals, rates) is the same as a fleet built without them.
  const malls = assignWeeklyHours(seed, regions, merchants, opts.mallShare ?? 0.4);

  return {
    regions,
    malls,
    merchants,
    terminals,
    issuers: issuerEntries.map((e) => e[0]),
    issuerTable: new Weighted(issuerEntries.map(([, w], i) => [i, w] as const)),
    firmware: fwEntries.map((e) => e[0]),
    firmwareFault: fwEntries.map((e) => e[2]),
    utcOffsetMs: opts.utcOffsetMs ?? CN_OFFSET_MS,
  };
}

/** Local hour of day (default UTC+8) as a real number in [0, 24). */
export function localHour(ts: number, offsetMs: number = CN_OFFSET_MS): number {
  const day = 24 * HOUR_MS;
  let t = (ts + offsetMs) % day;
  if (t < 0) t += day;
  return t / HOUR_MS;
}

/** Whether the merchant is open at local hour h (its profile is non-zero in that hour). */
export function isOpen(m: Merchant, hour: number): boolean {
  return m.profile[Math.floor(hour) % 24]! > 0;
}

/** Traffic level at a fractional local hour: linear between hour midpoints, 0 when closed. */
export function trafficLevel(profile: Float64Array, hour: number): number {
  const h = Math.floor(hour);
  const cur = profile[h % 24]!;
  if (cur === 0) return 0;
  const frac = hour - h;
  // Interpolate towards the neighbour on the side we're closer to, never into a closed hour.
  if (frac < 0.5) {
    const prev = profile[(h + 23) % 24]!;
    return prev === 0 ? cur : cur + (prev - cur) * (0.5 - frac);
  }
  const next = profile[(h + 1) % 24]!;
  return next === 0 ? cur : cur + (next - cur) * (frac - 0.5);
}
