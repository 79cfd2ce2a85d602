import { CARD_TEST_DECLINES, INPUT_ERRORS, TERMINAL_FAULT, setCode } from './fault-codes';
import { labelMatch as m, type IncidentKit } from './incident-kit';
import { Weighted } from './rng';
import { maskOf } from './targets';
import { Rev, Settle, type Incident } from './types';

/** Incidents on one terminal (card testing: one terminal's merchant), chosen busy by the seed. */

export function terminalFault(kit: IncidentKit): Incident {
  const { nT, base, p, label, terminalIncident } = kit;
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

export function terminalNetwork(kit: IncidentKit): Incident {
  const { nT, base, p, label, terminalIncident } = kit;
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

export function reversalStorm(kit: IncidentKit): Incident {
  const { nT, base, p, label, terminalIncident } = kit;
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

export function failedButCharged(kit: IncidentKit): Incident {
  const { ctx, start, end, nT, base, p, label, terminalIncident } = kit;
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

export function inputErrors(kit: IncidentKit): Incident {
  const { nT, base, p, label, terminalIncident } = kit;
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

export function cardTesting(kit: IncidentKit): Incident {
  const { ctx, rng, k, used, start, end, nT, base, label, terminalIncident } = kit;
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

export function terminalSilent(kit: IncidentKit): Incident {
  const { nT, base, label, terminalIncident } = kit;
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
