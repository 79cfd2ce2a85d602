import { MINUTE_MS, expectedAuths, localHour, trafficLevel, type Fleet } from './fleet';
import type { Rng } from './rng';
import type { IncidentContext } from './incident-context';

/** Is the terminal's shop open at every 5-minute step of [from, to)? */
function openThroughout(fleet: Fleet, t: number, from: number, to: number): boolean {
  const m = fleet.merchants[fleet.terminals[t]!.merchant]!;
  for (let x = from; x < to; x += 5 * MINUTE_MS) {
    if (trafficLevel(m.profile, localHour(x, fleet.utcOffsetMs)) === 0) return false;
  }
  return trafficLevel(m.profile, localHour(to - 1, fleet.utcOffsetMs)) > 0;
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
  const { fleet, used } = ctx;
  const cands: { t: number; e: number }[] = [];
  for (const term of fleet.terminals) {
    if (used.terminals.has(term.index)) continue;
    if (avoidMerchants && used.merchants.has(term.merchant)) continue;
    if (used.regions.has(term.region)) continue;
    if (!openThroughout(fleet, term.index, from, to)) continue;
    cands.push({ t: term.index, e: expectedAuths(fleet, term.index, from, to) });
  }
  if (cands.length === 0) {
    // Night-time demo with every busy shop closed: fall back to the busiest terminal at all.
    for (const term of fleet.terminals) {
      if (!used.terminals.has(term.index)) {
        cands.push({ t: term.index, e: expectedAuths(fleet, term.index, from, to) });
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
  const { fleet, used } = ctx;
  const cands: { m: number; e: number }[] = [];
  for (const m of fleet.merchants) {
    if (used.merchants.has(m.index) || used.regions.has(m.region)) continue;
    if (m.terminals.some((t) => used.terminals.has(t))) continue;
    let e = 0;
    for (const t of m.terminals) e += expectedAuths(fleet, t, from, to);
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
