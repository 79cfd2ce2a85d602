import type { RuleId, Scope } from '@tillwatch/contracts';
import { HOUR_MS, MINUTE_MS, expectedAuths, localHour, trafficLevel, type Fleet } from './fleet';
import { Rng, Weighted } from './rng';
import {
  Rev,
  Settle,
  type AuthDraft,
  type Incident,
  type IncidentLabel,
  type IncidentScenario,
  type LabelMatch,
} from './types';

/**
 * Incident scenarios: what each one does to the events, which alert it must raise, and how its
 * target is chosen. Effects are probabilities scaled by `intensity` (1 = default), sized so that
 * a rule with a minimum count and a statistical bound catches them within its window while the
 * healthy fleet stays far below (healthy: ~0.12% terminal-side codes, ~0.2% timeouts, ~0.9%
 * input-error codes, ~0.5% reversals per terminal).
 */

interface ScenarioSpec {
  rule: RuleId;
  scope: Scope;
  /** default duration range, ms */
  duration: readonly [number, number];
}

export const SCENARIO_SPECS: Readonly<Record<IncidentScenario, ScenarioSpec>> = {
  'regional-outage-errors': {
    rule: 'regional_outage',
    scope: 'region',
    duration: [20 * MINUTE_MS, 40 * MINUTE_MS],
  },
  'regional-outage-silence': {
    rule: 'regional_outage',
    scope: 'region',
    duration: [20 * MINUTE_MS, 40 * MINUTE_MS],
  },
  'terminal-fault': {
    rule: 'terminal_fault_spike',
    scope: 'terminal',
    duration: [60 * MINUTE_MS, 120 * MINUTE_MS],
  },
  'terminal-network': {
    rule: 'terminal_network_errors',
    scope: 'terminal',
    duration: [45 * MINUTE_MS, 90 * MINUTE_MS],
  },
  'reversal-storm': {
    rule: 'reversal_spike',
    scope: 'terminal',
    duration: [45 * MINUTE_MS, 90 * MINUTE_MS],
  },
  'failed-but-charged': {
    rule: 'failed_but_charged',
    scope: 'terminal',
    duration: [45 * MINUTE_MS, 90 * MINUTE_MS],
  },
  'settlement-gap': {
    rule: 'no_settlement',
    scope: 'merchant',
    duration: [2 * HOUR_MS, 3 * HOUR_MS],
  },
  'input-errors': {
    rule: 'input_errors',
    scope: 'terminal',
    duration: [60 * MINUTE_MS, 120 * MINUTE_MS],
  },
  'card-testing': {
    rule: 'card_testing',
    scope: 'merchant',
    duration: [10 * MINUTE_MS, 20 * MINUTE_MS],
  },
  'firmware-regression': {
    rule: 'firmware_regression',
    scope: 'firmware',
    duration: [3 * HOUR_MS, 4 * HOUR_MS],
  },
  'issuer-outage': {
    rule: 'issuer_degradation',
    scope: 'issuer',
    duration: [30 * MINUTE_MS, 60 * MINUTE_MS],
  },
  'terminal-silent': {
    rule: 'terminal_silent',
    scope: 'terminal',
    duration: [60 * MINUTE_MS, 120 * MINUTE_MS],
  },
};

/** Targets already taken by other incidents of the same run, so incidents never share one. */
export interface UsedTargets {
  terminals: Set<number>;
  merchants: Set<number>;
  regions: Set<number>;
  issuers: Set<number>;
}

export function emptyUsed(): UsedTargets {
  return { terminals: new Set(), merchants: new Set(), regions: new Set(), issuers: new Set() };
}

export interface IncidentContext {
  fleet: Fleet;
  intensity: number;
  settlementDeadlineMs: number;
  reversalGraceMs: number;
  used: UsedTargets;
  /** register a firmware version that does not exist yet; returns its index */
  addFirmware(name: string): number;
  firmwareName(index: number): string;
  /** a block of card ids nobody else uses (card testing's fresh cards) */
  freshCards(n: number): number;
}

export interface IncidentRequest {
  scenario: IncidentScenario;
  start: number;
  end: number;
  /** force the target (terminal/merchant id, region, issuer id); chosen by the seed otherwise */
  key?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

// Code mixes of each fault, as ISO 8583 field 39 values.
const TERMINAL_FAULT = new Weighted([
  ['12', 30],
  ['58', 25],
  ['94', 15],
  ['03', 20],
] as const);
const INPUT_ERRORS = new Weighted([
  ['55', 35],
  ['14', 30],
  ['13', 25],
  ['30', 10],
] as const);
const OUTAGE = new Weighted([
  ['TO', 50],
  ['91', 30],
  ['96', 20],
] as const);
const ISSUER_DOWN = new Weighted([
  ['91', 45],
  ['96', 30],
  ['TO', 25],
] as const);
const FIRMWARE_BUG = new Weighted([
  ['12', 30],
  ['58', 20],
  ['94', 15],
  ['03', 10],
  ['TO', 25],
] as const);
const CARD_TEST_DECLINES = new Weighted([
  ['14', 25],
  ['54', 20],
  ['51', 15],
  ['05', 15],
  ['57', 10],
  ['59', 8],
  ['41', 4],
  ['43', 3],
] as const);

/** Latency the terminal sees for a code an incident forces (ms, integers). */
export function faultLatency(code: string, rng: Rng): number {
  switch (code) {
    case 'TO':
      return 30_000 + rng.int(2_000);
    case '91':
      return 5_000 + rng.int(15_000);
    case '96':
      return Math.round(rng.lognormal(900, 0.5));
    case '12':
    case '13':
    case '30':
    case '03':
      return 40 + rng.int(260);
    default:
      return Math.round(rng.lognormal(400, 0.45));
  }
}

function setCode(d: AuthDraft, code: string, rng: Rng): void {
  d.code = code;
  d.latency = faultLatency(code, rng);
}

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
function pickBusyTerminal(
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

function pickRegion(ctx: IncidentContext, rng: Rng): number {
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

function pickMerchantByVolume(ctx: IncidentContext, rng: Rng, from: number, to: number): number {
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

function terminalIndexById(fleet: Fleet, id: string): number {
  const t = fleet.terminals.find((x) => x.id === id);
  if (!t) throw new Error(`simulator: unknown terminal "${id}"`);
  return t.index;
}

function maskOf(n: number, members: Iterable<number>): Uint8Array {
  const mask = new Uint8Array(n);
  for (const i of members) mask[i] = 1;
  return mask;
}

/** Build one incident: choose its target, its effects and its label. */
export function buildIncident(
  ctx: IncidentContext,
  req: IncidentRequest,
  rng: Rng,
  ordinal: number,
): Incident {
  const { fleet, intensity: k, used } = ctx;
  const { scenario, start, end } = req;
  const spec = SCENARIO_SPECS[scenario];
  const nT = fleet.terminals.length;
  const p = (base: number, cap: number) => Math.min(cap, base * k);

  const label = (
    key: string,
    extra: Partial<IncidentLabel> & { description: string; params: IncidentLabel['params'] },
  ): IncidentLabel => ({
    id: `${scenario}#${ordinal}`,
    scenario,
    rule: spec.rule,
    scope: spec.scope,
    key,
    start,
    end,
    startIso: iso(start),
    endIso: iso(end),
    detectFrom: start,
    detectUntil: end,
    alsoMatches: [],
    ...extra,
  });

  const terminalIncident = (): {
    t: number;
    tid: string;
    mid: string;
    region: string;
    merchant: number;
  } => {
    const t =
      req.key !== undefined
        ? terminalIndexById(fleet, req.key)
        : pickBusyTerminal(ctx, rng, start, end);
    const term = fleet.terminals[t]!;
    used.terminals.add(t);
    return {
      t,
      tid: term.id,
      mid: fleet.merchants[term.merchant]!.id,
      region: fleet.regions[term.region]!.id,
      merchant: term.merchant,
    };
  };
  const base = { issuer: -1, silence: false, start, end };
  const m = (rule: RuleId, scope: Scope, key: string): LabelMatch => ({ rule, scope, key });

  switch (scenario) {
    case 'regional-outage-errors':
    case 'regional-outage-silence': {
      const r =
        req.key !== undefined
          ? fleet.regions.findIndex((x) => x.id === req.key)
          : pickRegion(ctx, rng);
      if (r < 0) throw new Error(`simulator: unknown region "${req.key}"`);
      used.regions.add(r);
      const region = fleet.regions[r]!.id;
      const members = fleet.terminals.filter((t) => t.region === r);
      const tids = members.map((t) => t.id);
      const mids = [...new Set(members.map((t) => t.merchant))].map((i) => fleet.merchants[i]!.id);
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

    case 'terminal-fault': {
      const x = terminalIncident();
      const share = p(0.35, 0.85);
      const revShare = p(0.08, 0.3);
      return {
        ...base,
        mask: maskOf(nT, [x.t]),
        code(d, g) {
          if (g.chance(share)) setCode(d, TERMINAL_FAULT.pick(g), g);
        },
        plan(d, g) {
          // Card reader/printer failing after the host approved: the terminal reverses.
          if (d.code === '00' && g.chance(revShare)) {
            d.rev = Rev.TerminalError;
            d.settle = Settle.None;
          }
        },
        label: label(x.tid, {
          merchantId: x.mid,
          region: x.region,
          terminals: [x.tid],
          alsoMatches: [m('reversal_spike', 'terminal', x.tid)],
          description: `${x.tid}: ${Math.round(share * 100)}% of auths fail with terminal-side codes 12/58/94/03 (hardware or software fault)`,
          params: { failShare: share, reversalShare: revShare },
        }),
      };
    }

    case 'terminal-network': {
      const x = terminalIncident();
      const share = p(0.35, 0.8);
      return {
        ...base,
        mask: maskOf(nT, [x.t]),
        code(d, g) {
          if (g.chance(share)) setCode(d, 'TO', g);
          // A flaky link: the auths that get through are slow too.
          else d.latency = Math.round(d.latency * g.range(2, 4));
        },
        heartbeat(h, g) {
          h.signal = 5 + g.int(20);
        },
        label: label(x.tid, {
          merchantId: x.mid,
          region: x.region,
          terminals: [x.tid],
          alsoMatches: [
            m('reversal_spike', 'terminal', x.tid),
            m('failed_but_charged', 'terminal', x.tid),
            m('reversal_spike', 'merchant', x.mid),
          ],
          description: `${x.tid}: ${Math.round(share * 100)}% of auths time out while ${x.region} is healthy (local router/SIM/Wi-Fi)`,
          params: { timeoutShare: share },
        }),
      };
    }

    case 'reversal-storm': {
      const x = terminalIncident();
      const share = p(0.35, 0.8);
      const reasons = new Weighted([
        [Rev.TerminalError, 50],
        [Rev.CustomerCancel, 25],
        [Rev.HostError, 15],
        [Rev.Other, 10],
      ] as const);
      return {
        ...base,
        mask: maskOf(nT, [x.t]),
        plan(d, g) {
          if (d.rev === Rev.None && d.settle === Settle.Settled && g.chance(share)) {
            d.rev = reasons.pick(g);
            d.settle = Settle.None;
          }
        },
        label: label(x.tid, {
          merchantId: x.mid,
          region: x.region,
          terminals: [x.tid],
          alsoMatches: [m('reversal_spike', 'merchant', x.mid)],
          description: `${x.tid}: ${Math.round(share * 100)}% of approved auths are reversed (device instability)`,
          params: { reversalShare: share },
        }),
      };
    }

    case 'failed-but-charged': {
      const x = terminalIncident();
      const share = p(0.2, 0.6);
      const plans = new Weighted([
        [Rev.None, 50],
        [Rev.TimeoutFailed, 35],
        [Rev.TimeoutLate, 15],
      ] as const);
      return {
        ...base,
        mask: maskOf(nT, [x.t]),
        code(d, g) {
          if (g.chance(share)) setCode(d, 'TO', g);
        },
        plan(d, g) {
          if (d.code !== 'TO') return;
          d.rev = plans.pick(g);
          // The host did approve: the sale settles although the terminal showed a failure.
          if (d.rev !== Rev.TimeoutLate && g.chance(0.7)) d.settle = Settle.Settled;
        },
        label: label(x.tid, {
          merchantId: x.mid,
          region: x.region,
          terminals: [x.tid],
          detectFrom: start + ctx.reversalGraceMs,
          detectUntil: end + ctx.reversalGraceMs,
          alsoMatches: [
            m('terminal_network_errors', 'terminal', x.tid),
            m('reversal_spike', 'terminal', x.tid),
          ],
          description: `${x.tid}: ${Math.round(share * 100)}% of auths time out and are not reversed in time (no reversal, failed or late reversal); customers charged`,
          params: { timeoutShare: share },
        }),
      };
    }

    case 'settlement-gap': {
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
          if (d.settle === Settle.Settled)
            d.settle = g.chance(0.85) ? Settle.None : Settle.Rejected;
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

    case 'input-errors': {
      const x = terminalIncident();
      const share = p(0.3, 0.8);
      return {
        ...base,
        mask: maskOf(nT, [x.t]),
        code(d, g) {
          if (!g.chance(share)) return;
          setCode(d, INPUT_ERRORS.pick(g), g);
          if (d.code === '14') d.entryMode = 'manual';
        },
        label: label(x.tid, {
          merchantId: x.mid,
          region: x.region,
          terminals: [x.tid],
          alsoMatches: [m('terminal_fault_spike', 'terminal', x.tid)],
          description: `${x.tid}: ${Math.round(share * 100)}% of auths fail with input errors 55/14/13/30 (operator keying wrong)`,
          params: { errorShare: share },
        }),
      };
    }

    case 'card-testing': {
      const x = terminalIncident();
      used.merchants.add(x.merchant);
      const attempts = Math.round(rng.range(80, 150) * k);
      const meanGap = (end - start) / attempts;
      const cardBase = ctx.freshCards(attempts * 2 + 16);
      let next = 0;
      const approveShare = 0.12;
      return {
        ...base,
        // The burst comes from extra auths (the source), not from the terminal's own customers.
        mask: maskOf(nT, []),
        source: {
          terminal: x.t,
          nextAt: start + Math.round(rng.exp(meanGap / 2)),
          step(d, g) {
            d.card = cardBase + next++;
            // Small amounts: 1 CNY probes or 0.50..4.99 CNY, under the 5 CNY small-amount line.
            d.amount = g.chance(0.3) ? 100 : 50 + g.int(450);
            d.entryMode = g.chance(0.7) ? 'manual' : 'contactless';
            if (g.chance(approveShare)) d.code = '00';
            else setCode(d, CARD_TEST_DECLINES.pick(g), g);
            const after = d.ts + Math.max(500, Math.round(g.exp(meanGap)));
            return after < end ? after : Infinity;
          },
        },
        label: label(x.mid, {
          merchantId: x.mid,
          region: x.region,
          terminals: [x.tid],
          alsoMatches: [m('card_testing', 'terminal', x.tid), m('input_errors', 'terminal', x.tid)],
          description: `${x.mid} (terminal ${x.tid}): ~${attempts} small-amount auths over as many distinct new cards, ~88% declined`,
          params: { attempts, terminal: x.tid },
        }),
      };
    }

    case 'firmware-regression': {
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

    case 'issuer-outage': {
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

    case 'terminal-silent': {
      const x = terminalIncident();
      return {
        ...base,
        mask: maskOf(nT, [x.t]),
        silence: true,
        label: label(x.tid, {
          merchantId: x.mid,
          region: x.region,
          terminals: [x.tid],
          description: `${x.tid}: a busy terminal sends nothing (no auths, no heartbeats) during business hours`,
          params: {},
        }),
      };
    }
  }
}

/** Default placement of a single incident in a run: in business hours, after a baseline. */
export function placeIncident(
  fleet: Fleet,
  scenario: IncidentScenario,
  rng: Rng,
  runStart: number,
  runEnd: number,
): { start: number; end: number } {
  const [lo, hi] = SCENARIO_SPECS[scenario].duration;
  const span = runEnd - runStart;
  let dur = Math.round(rng.range(lo, hi) / 1000) * 1000;
  // A short run gets a proportionally short incident: at most 40% of it.
  dur = Math.min(dur, Math.max(60_000, Math.round(span * 0.4)));
  // Baseline first: 2 h, or a quarter of a short run, so window rules have a normal to compare to.
  const earliest = runStart + Math.min(2 * HOUR_MS, Math.round(span * 0.25));
  const latest = runEnd - dur - Math.min(HOUR_MS, Math.round(span * 0.1));
  if (latest <= earliest) return { start: earliest, end: Math.min(runEnd, earliest + dur) };
  const step = 5 * MINUTE_MS;
  const busy: number[] = [];
  const all: number[] = [];
  for (let s = earliest; s <= latest; s += step) {
    all.push(s);
    const h0 = localHour(s, fleet.utcOffsetMs);
    const h1 = localHour(s + dur, fleet.utcOffsetMs);
    // 10:00..20:00 local: most shops open, traffic near its daily high.
    if (h0 >= 10 && h1 <= 20 && h1 > h0) busy.push(s);
  }
  const starts = busy.length > 0 ? busy : all;
  const start = rng.pick(starts);
  return { start, end: start + dur };
}
