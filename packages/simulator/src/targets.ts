import { MINUTE_MS, type Fleet } from './fleet';
import type { Rng } from './rng';
import type { IncidentContext } from './incident-context';
import type { TradingHours } from './trading-hours';

/** Is the terminal's shop open at every 5-minute step of [from, to), on that day's hours? */
function openThroughout(hours: TradingHours, mi: number, from: number, to: number): boolean {
  for (let x = from; x < to; x += 5 * MINUTE_MS) if (!hours.open(mi, x)) return false;
  return hours.open(mi, to - 1);
}

/**
 * A busy terminal for a terminal-scope incident: open for the whole incident, drawn from the
 * top 5% by expected auths in the incident window (so the evidence is clearly there).
 */
export function pickBusyTerminal(
  ctx: IncidentContext,
  rng: Rng,
  from: number,
  to: number,
  avoidMerchants = false,
): number {
  const { fleet, hours, used } = ctx;
  const cands: { t: number; e: number }[] = [];
  for (const term of fleet.terminals) {
    if (used.terminals.has(term.index)) continue;
    if (avoidMerchants && used.merchants.has(term.merchant)) continue;
    if (used.regions.has(term.region)) continue;
    if (!openThroughout(hours, term.merchant, from, to)) continue;
    cands.push({ t: term.index, e: hours.expectedAuths(term.index, from, to) });
  }
  if (cands.length === 0) {
    // Night-time demo with every busy shop closed: fall back to the busiest terminal at all.
    for (const term of fleet.terminals) {
      if (!used.terminals.has(term.index)) {
        cands.push({ t: term.index, e: hours.expectedAuths(term.index, from, to) });
      }
    }
  }
  if (cands.length === 0) throw new Error('simulator: no terminal left to put an incident on');
  cands.sort((a, b) => b.e - a.e || a.t - b.t);
  const top = Math.max(1, Math.ceil(cands.length * 0.05));
  return cands[rng.int(top)]!.t;
}

export function pickRegion(ctx: IncidentContext, rng: Rng): number {
  const { fleet, used } = ctx;
  const counts = fleet.regions.map(() => 0);
  for (const t of fleet.terminals) counts[t.region]!++;
  // A region with at least 5% of the fleet: big enough to matter, never the only one.
  const min = fleet.terminals.length * 0.05;
  let cands = counts.map((c, i) => ({ c, i })).filter((x) => !used.regions.has(x.i));
  const big = cands.filter((x) => x.c >= min);
  if (big.length > 0) cands = big;
  if (cands.length === 0) throw new Error('simulator: no region left to put an incident on');
  return rng.pick(cands).i;
}

export function pickMerchantByVolume(
  ctx: IncidentContext,
  rng: Rng,
  from: number,
  to: number,
): number {
  const { fleet, hours, used } = ctx;
  const cands: { m: number; e: number }[] = [];
  for (const m of fleet.merchants) {
    if (used.merchants.has(m.index) || used.regions.has(m.region)) continue;
    if (m.terminals.some((t) => used.terminals.has(t))) continue;
    let e = 0;
    for (const t of m.terminals) e += hours.expectedAuths(t, from, to);
    cands.push({ m: m.index, e });
  }
  if (cands.length === 0) throw new Error('simulator: no merchant left to put an incident on');
  cands.sort((a, b) => b.e - a.e || a.m - b.m);
  const top = Math.max(1, Math.ceil(cands.length * 0.15));
  return cands[rng.int(top)]!.m;
}

export function terminalIndexById(fleet: Fleet, id: string): number {
  const t = fleet.terminals.find((x) => x.id === id);
  if (!t) throw new Error(`simulator: unknown terminal "${id}"`);
  return t.index;
}

export function maskOf(n: number, members: Iterable<number>): Uint8Array {
  const mask = new Uint8Array(n);
  for (const i of members) mask[i] = 1;
  return mask;
}

/** Earliest closing hour of the malls of region r that have shops, or -1 (no mall shop there). */
export function earliestClosing(fleet: Fleet, r: number): number {
  let h = -1;
  for (const m of fleet.merchants) {
    if (m.region !== r || m.mall < 0) continue;
    const c = fleet.malls[m.mall]!.closesAt;
    if (h < 0 || c < h) h = c;
  }
  return h;
}

/** Local hour at which region `region`'s first mall closes (its shops go dark), or -1. */
export function firstMallClosing(fleet: Fleet, region: string): number {
  return earliestClosing(fleet, regionIndexById(fleet, region));
}

export function regionIndexById(fleet: Fleet, id: string): number {
  const r = fleet.regions.findIndex((x) => x.id === id);
  if (r < 0) throw new Error(`simulator: unknown region "${id}"`);
  return r;
}

/**
 * A region for an outage at closing time: one whose first mall closes at local hour `hour`,
 * preferring regions with at least 5% of the fleet; any free region when none does.
 */
export function pickClosingRegion(ctx: IncidentContext, rng: Rng, hour: number): number {
  const { fleet, used } = ctx;
  const counts = fleet.regions.map(() => 0);
  for (const t of fleet.terminals) counts[t.region]!++;
  const cands = fleet.regions
    .map((_, i) => i)
    .filter((i) => !used.regions.has(i) && earliestClosing(fleet, i) === hour);
  const big = cands.filter((i) => counts[i]! >= fleet.terminals.length * 0.05);
  if (big.length > 0) return rng.pick(big);
  if (cands.length > 0) return rng.pick(cands);
  return pickRegion(ctx, rng);
}

/**
 * A region for a carrier outage: among the free regions, one of those with the most cellular
 * terminals (at least half the best one's count), so the outage has a few dozen SIMs to take
 * down in a big fleet and at least a handful in a small one.
 */
export function pickCarrierRegion(ctx: IncidentContext, rng: Rng): number {
  const { fleet, used } = ctx;
  const cellular = fleet.regions.map(() => 0);
  for (const t of fleet.terminals) if (t.network === 'cellular') cellular[t.region]!++;
  const free = fleet.regions.map((_, i) => i).filter((i) => !used.regions.has(i));
  if (free.length === 0) throw new Error('simulator: no region left to put an incident on');
  const best = Math.max(...free.map((i) => cellular[i]!));
  return rng.pick(free.filter((i) => cellular[i]! >= best / 2));
}
