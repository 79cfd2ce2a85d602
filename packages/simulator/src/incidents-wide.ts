import { FIRMWARE_BUG, ISSUER_DOWN, OUTAGE, setCode } from './fault-codes';
import { labelMatch as m, type IncidentKit } from './incident-kit';
import { localHour } from './fleet';
import { BEFORE_CLOSING_MS } from './placement';
import {
  earliestClosing,
  maskOf,
  pickCarrierRegion,
  pickClosingRegion,
  pickMerchantByVolume,
  pickRegion,
} from './targets';
import { Settle, type Incident } from './types';

/** Incidents wider than one terminal: a region, a merchant, a firmware version, an issuer. */

/**
 * regional-outage-errors, regional-outage-silence and outage-at-closing: every terminal of one
 * region. An outage at closing is a silence that starts 5 minutes before the region's first mall
 * closes, when its shops switch their terminals off anyway: the region's traffic falls for two
 * reasons at once, and only one of them is an incident.
 */
export function regionalOutage(kit: IncidentKit): Incident {
  const { ctx, req, rng, fleet, used, scenario, start, nT, base, p, label } = kit;
  const atClosing = scenario === 'outage-at-closing';
  let r: number;
  if (req.key !== undefined) r = fleet.regions.findIndex((x) => x.id === req.key);
  else if (atClosing) {
    const h = localHour(start + BEFORE_CLOSING_MS, fleet.utcOffsetMs);
    r = Number.isInteger(h) ? pickClosingRegion(ctx, rng, h) : pickRegion(ctx, rng);
  } else r = pickRegion(ctx, rng);
  if (r < 0) throw new Error(`simulator: unknown region "${req.key}"`);
  used.regions.add(r);
  const region = fleet.regions[r]!.id;
  const members = fleet.terminals.filter((t) => t.region === r);
  const tids = members.map((t) => t.id);
  const mids = [...new Set(members.map((t) => t.merchant))].map((i) => fleet.merchants[i]!.id);
  if (atClosing) {
    const closes = earliestClosing(fleet, r);
    return {
      ...base,
      mask: maskOf(
        nT,
        members.map((t) => t.index),
      ),
      silence: true,
      label: label(region, {
        region,
        terminals: tids,
        alsoMatches: tids.map((id) => m('terminal_silent', 'terminal', id)),
        description:
          closes >= 0
            ? `every terminal of ${region} goes dark (no auths, no heartbeats) from 5 min before its first mall closes at ${closes}:00, while the mall's shops switch their terminals off`
            : `every terminal of ${region} goes dark (no auths, no heartbeats); the region has no mall shop`,
        params: { terminals: tids.length, mallClosesAt: closes },
      }),
    };
  }
  if (scenario === 'regional-outage-silence') {
    return {
      ...base,
      mask: maskOf(
        nT,
        members.map((t) => t.index),
      ),
      silence: true,
      label: label(region, {
        region,
        terminals: tids,
        alsoMatches: tids.map((id) => m('terminal_silent', 'terminal', id)),
        description: `every terminal of ${region} goes dark: no auths, no heartbeats (carrier/backbone outage)`,
        params: { terminals: tids.length },
      }),
    };
  }
  const share = p(0.4, 0.8);
  return {
    ...base,
    mask: maskOf(
      nT,
      members.map((t) => t.index),
    ),
    code(d, g) {
      if (g.chance(share)) setCode(d, OUTAGE.pick(g), g);
    },
    label: label(region, {
      region,
      terminals: tids,
      alsoMatches: [
        ...tids.flatMap((id) => [
          m('terminal_network_errors', 'terminal', id),
          m('reversal_spike', 'terminal', id),
          m('failed_but_charged', 'terminal', id),
        ]),
        ...mids.map((id) => m('reversal_spike', 'merchant', id)),
      ],
      description: `${region}: ${Math.round(share * 100)}% of auths fail with TO/91/96 (network outage)`,
      params: { failShare: share, terminals: tids.length },
    }),
  };
}

export function settlementGap(kit: IncidentKit): Incident {
  const { ctx, req, rng, fleet, used, start, end, nT, base, label } = kit;
  const mi =
    req.key !== undefined
      ? fleet.merchants.findIndex((x) => x.id === req.key)
      : pickMerchantByVolume(ctx, rng, start, end);
  if (mi < 0) throw new Error(`simulator: unknown merchant "${req.key}"`);
  used.merchants.add(mi);
  const merchant = fleet.merchants[mi]!;
  const region = fleet.regions[merchant.region]!.id;
  const tids = merchant.terminals.map((t) => fleet.terminals[t]!.id);
  return {
    ...base,
    mask: maskOf(nT, merchant.terminals),
    plan(d, g) {
      if (d.settle === Settle.Settled) d.settle = g.chance(0.85) ? Settle.None : Settle.Rejected;
    },
    label: label(merchant.id, {
      merchantId: merchant.id,
      region,
      terminals: tids,
      detectFrom: start + ctx.settlementDeadlineMs,
      detectUntil: end + ctx.settlementDeadlineMs,
      alsoMatches: tids.map((id) => m('no_settlement', 'terminal', id)),
      description: `${merchant.id}: approved sales made between start and end never settle (85% missing, 15% rejected); visible at their settlement deadline`,
      params: { settlementDeadlineMs: ctx.settlementDeadlineMs },
    }),
  };
}

export function firmwareRegression(kit: IncidentKit): Incident {
  const { ctx, rng, ordinal, fleet, used, start, end, nT, base, p, label } = kit;
  const version = `4.4.${ordinal}`;
  const fw = ctx.addFirmware(version);
  const share = 0.25;
  const fault = p(0.08, 0.6);
  const at = new Float64Array(nT).fill(Infinity);
  const members: number[] = [];
  // Staged rollout: upgraded terminals switch during the first 40% of the incident.
  const rollout = (end - start) * 0.4;
  for (const t of fleet.terminals) {
    if (used.terminals.has(t.index) || used.regions.has(t.region)) continue;
    if (rng.chance(share)) {
      at[t.index] = start + Math.round(rng.next() * rollout);
      members.push(t.index);
    }
  }
  const tids = members.map((i) => fleet.terminals[i]!.id);
  return {
    ...base,
    mask: maskOf(nT, members),
    firmwareAt(t, ts) {
      return ts >= at[t]! ? fw : -1;
    },
    code(d, g) {
      if (d.ts >= at[d.terminal]! && g.chance(fault)) setCode(d, FIRMWARE_BUG.pick(g), g);
    },
    label: label(version, {
      terminals: tids,
      alsoMatches: tids.flatMap((id) => [
        m('terminal_fault_spike', 'terminal', id),
        m('terminal_network_errors', 'terminal', id),
      ]),
      description: `firmware ${version} rolls out to ${tids.length} terminals (${Math.round(share * 100)}%) over the first 40% of the incident; ${Math.round(fault * 100)}% of their auths fail (12/58/94/03/TO); rolled back at end`,
      params: { version, terminals: tids.length, failShare: fault },
    }),
  };
}

export function issuerOutage(kit: IncidentKit): Incident {
  const { req, rng, fleet, used, base, p, label } = kit;
  let ii: number;
  if (req.key !== undefined) {
    ii = fleet.issuers.indexOf(req.key);
    if (ii < 0) throw new Error(`simulator: unknown issuer "${req.key}"`);
  } else {
    // One of the 2nd..8th biggest issuers: visible everywhere, not half the fleet.
    const cands = [1, 2, 3, 4, 5, 6, 7].filter(
      (i) => i < fleet.issuers.length && !used.issuers.has(i),
    );
    ii = cands.length > 0 ? rng.pick(cands) : rng.int(fleet.issuers.length);
  }
  used.issuers.add(ii);
  const share = p(0.5, 0.9);
  const issuer = fleet.issuers[ii]!;
  return {
    ...base,
    mask: null,
    issuer: ii,
    code(d, g) {
      if (g.chance(share)) setCode(d, ISSUER_DOWN.pick(g), g);
    },
    label: label(issuer, {
      description: `issuer ${issuer}: ${Math.round(share * 100)}% of its auths fail with 91/96/TO at every merchant`,
      params: { failShare: share },
    }),
  };
}

/**
 * carrier-outage: one mobile carrier fails in one region, so only its cellular terminals are hit
 * (a third or less of the region's; the wired and Wi-Fi ones trade on). Most of those SIMs drop
 * off the network and send nothing; the rest keep a weak link on which most auths time out and
 * are reversed.
 */
export function carrierOutage(kit: IncidentKit): Incident {
  const { ctx, req, rng, fleet, used, nT, base, p, label } = kit;
  const r =
    req.key !== undefined
      ? fleet.regions.findIndex((x) => x.id === req.key)
      : pickCarrierRegion(ctx, rng);
  if (r < 0) throw new Error(`simulator: unknown region "${req.key}"`);
  used.regions.add(r);
  const region = fleet.regions[r]!.id;
  const members = fleet.terminals.filter((t) => t.region === r && t.network === 'cellular');
  const silentShare = rng.range(0.6, 0.8);
  const silent = members.filter(() => rng.chance(silentShare)).map((t) => t.index);
  // "Most of them": never none silent, never all of a region with two or more SIMs.
  if (silent.length === 0 && members.length > 0) silent.push(members[0]!.index);
  if (silent.length === members.length && members.length > 1) silent.pop();
  const timeoutShare = p(0.75, 0.95);
  const tids = members.map((t) => t.id);
  const mids = [...new Set(members.map((t) => t.merchant))].map((i) => fleet.merchants[i]!.id);
  return {
    ...base,
    mask: maskOf(
      nT,
      members.map((t) => t.index),
    ),
    silentMask: maskOf(nT, silent),
    code(d, g) {
      if (g.chance(timeoutShare)) setCode(d, 'TO', g);
    },
    heartbeat(h, g) {
      h.signal = 2 + g.int(15);
    },
    label: label(region, {
      region,
      terminals: tids,
      alsoMatches: [
        ...tids.flatMap((id) => [
          m('terminal_silent', 'terminal', id),
          m('terminal_network_errors', 'terminal', id),
          m('failed_but_charged', 'terminal', id),
          m('reversal_spike', 'terminal', id),
        ]),
        ...mids.map((id) => m('reversal_spike', 'merchant', id)),
      ],
      description: `${region}: a mobile carrier fails; ${silent.length} of the region's ${members.length} cellular terminals go dark, ${Math.round(timeoutShare * 100)}% of the other cellular terminals' auths time out (reversed); wired and Wi-Fi terminals are unaffected`,
      params: {
        cellular: members.length,
        silent: silent.length,
        timeoutShare,
        regionTerminals: fleet.terminals.filter((t) => t.region === r).length,
      },
    }),
  };
}
