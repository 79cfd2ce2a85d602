import { categorize, isInputError, type Category } from '@tillwatch/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_START, createSimulation } from './simulation';
import { firstMallClosing } from './targets';
import {
  INCIDENT_SCENARIOS,
  type IncidentLabel,
  type IncidentScenario,
  type SimEvent,
} from './types';

/**
 * Labels must say what was injected: for each scenario, the labelled key's behaviour during the
 * incident is far from its own and the fleet's normal, and nothing else looks like it.
 */

const HOUR = 3_600_000;
const MIN = 60_000;
// 09:00 China time; incidents are placed after a 2 h baseline, in business hours.
const START = DEFAULT_START + 9 * HOUR;
const FLEET = { terminals: 300, merchants: 40 };

interface Run {
  events: SimEvent[];
  label: IncidentLabel;
}

function run(scenario: IncidentScenario, extra: Record<string, unknown> = {}): Run {
  const { events, label } = runSim(scenario, extra);
  return { events, label };
}

function runSim(scenario: IncidentScenario, extra: Record<string, unknown> = {}) {
  const sim = createSimulation({
    seed: 11,
    scenario,
    start: START,
    durationMs: 7 * HOUR,
    fleet: FLEET,
    ...extra,
  });
  const events = [...sim];
  expect(sim.labels).toHaveLength(1);
  return { events, label: sim.labels[0]!, sim };
}

const ts = (e: SimEvent) => (typeof e.ts === 'number' ? e.ts : Date.parse(e.ts));
const during = (l: IncidentLabel) => (e: SimEvent) => ts(e) >= l.start && ts(e) < l.end;
const auths = (evs: SimEvent[]) =>
  evs.filter((e): e is Extract<SimEvent, { type: 'auth' }> => e.type === 'auth');

function share(evs: SimEvent[], pred: (code: string, cat: Category) => boolean): number {
  const a = auths(evs);
  if (a.length === 0) return 0;
  return a.filter((e) => pred(e.responseCode, categorize(e.responseCode))).length / a.length;
}

describe('each scenario injects what its label says', () => {
  it('terminal-fault: the terminal’s terminal-side share is far above its own and the fleet’s', () => {
    const { events, label } = run('terminal-fault');
    expect(label).toMatchObject({ rule: 'terminal_fault_spike', scope: 'terminal' });
    const inc = events.filter(during(label));
    const mine = inc.filter((e) => e.terminalId === label.key);
    const fault = (c: string, cat: Category) => cat === 'terminal' && !isInputError(c);
    expect(auths(mine).length).toBeGreaterThan(20);
    expect(share(mine, fault)).toBeGreaterThan(0.2);
    expect(
      share(
        events.filter((e) => e.terminalId === label.key && !during(label)(e)),
        fault,
      ),
    ).toBeLessThan(0.03);
    expect(
      share(
        inc.filter((e) => e.terminalId !== label.key),
        fault,
      ),
    ).toBeLessThan(0.005);
    expect(label.merchantId).toBe(mine[0]!.merchantId);
    expect(label.region).toBe(mine[0]!.region);
  });

  it('terminal-network: the terminal times out while its region is healthy', () => {
    const { events, label } = run('terminal-network');
    expect(label.rule).toBe('terminal_network_errors');
    const inc = events.filter(during(label));
    const mine = inc.filter((e) => e.terminalId === label.key);
    expect(share(mine, (c) => c === 'TO')).toBeGreaterThan(0.2);
    const region = inc.filter((e) => e.region === label.region && e.terminalId !== label.key);
    expect(auths(region).length).toBeGreaterThan(100);
    expect(share(region, (c) => c === 'TO')).toBeLessThan(0.01);
  });

  it('reversal-storm: many reversals at one terminal', () => {
    const { events, label } = run('reversal-storm');
    const mine = events.filter(during(label)).filter((e) => e.terminalId === label.key);
    const rate = mine.filter((e) => e.type === 'reversal').length / auths(mine).length;
    const fleet = events.filter((e) => e.terminalId !== label.key);
    const fleetRate = fleet.filter((e) => e.type === 'reversal').length / auths(fleet).length;
    expect(rate).toBeGreaterThan(0.2);
    expect(fleetRate).toBeLessThan(0.01);
  });

  it('failed-but-charged: timeouts without a succeeded reversal within 60 s', () => {
    const { events, label } = run('failed-but-charged');
    expect(label.detectFrom).toBe(label.start + 60_000);
    const unreversed = (evs: SimEvent[]) => {
      const okAt = new Map<string, number>();
      for (const e of evs) {
        if (e.type === 'reversal' && e.status === 'succeeded' && !okAt.has(e.txnId)) {
          okAt.set(e.txnId, ts(e));
        }
      }
      const per = new Map<string, number>();
      for (const e of auths(evs)) {
        if (e.responseCode !== 'TO') continue;
        const ok = okAt.get(e.txnId);
        if (ok === undefined || ok - ts(e) > 60_000) {
          per.set(e.terminalId, (per.get(e.terminalId) ?? 0) + 1);
        }
      }
      return per;
    };
    const per = unreversed(events);
    const mine = unreversed(events.filter(during(label))).get(label.key) ?? 0;
    expect(mine).toBeGreaterThanOrEqual(5);
    const others = [...per].filter(([k]) => k !== label.key).map(([, v]) => v);
    expect(Math.max(0, ...others)).toBeLessThanOrEqual(2);
  });

  it('settlement-gap: the merchant’s approved sales do not settle; everyone else’s do', () => {
    const { events, label } = run('settlement-gap', {
      durationMs: 8 * HOUR,
      settlementDeadlineMs: 2 * HOUR,
      settlementDelayMs: 30 * MIN,
    });
    expect(label).toMatchObject({ rule: 'no_settlement', scope: 'merchant' });
    expect(label.detectFrom).toBe(label.start + 2 * HOUR);
    const settledTxn = new Set(
      events.filter((e) => e.type === 'settlement' && e.status === 'settled').map((e) => e.txnId),
    );
    const revTxn = new Set(events.filter((e) => e.type === 'reversal').map((e) => e.txnId));
    const approved = auths(events).filter(
      (e) => categorize(e.responseCode) === 'approved' && !revTxn.has(e.txnId),
    );
    // Only sales whose settlement window ended inside the run (delay 30 min).
    const due = approved.filter((e) => ts(e) + 30 * MIN < START + 8 * HOUR);
    const mine = due.filter((e) => e.merchantId === label.key && during(label)(e));
    const others = due.filter((e) => e.merchantId !== label.key);
    expect(mine.length).toBeGreaterThan(30);
    expect(mine.filter((e) => settledTxn.has(e.txnId)).length).toBe(0);
    expect(others.filter((e) => settledTxn.has(e.txnId)).length / others.length).toBeGreaterThan(
      0.998,
    );
    // And every settlement arrives before the delay has passed.
    const authTs = new Map(auths(events).map((e) => [e.txnId, ts(e)]));
    for (const s of events) {
      if (s.type === 'settlement') expect(ts(s) - authTs.get(s.txnId)!).toBeLessThan(30 * MIN);
    }
  });

  it('input-errors: 13/14/55/30 far above normal at one terminal', () => {
    const { events, label } = run('input-errors');
    const mine = events.filter(during(label)).filter((e) => e.terminalId === label.key);
    expect(share(mine, (c) => isInputError(c))).toBeGreaterThan(0.2);
    const fleet = events.filter((e) => e.terminalId !== label.key);
    expect(share(fleet, (c) => isInputError(c))).toBeLessThan(0.02);
  });

  it('card-testing: a burst of small declines over many distinct new cards at one merchant', () => {
    const { events, label } = run('card-testing');
    expect(label.scope).toBe('merchant');
    const burst = auths(events.filter(during(label))).filter(
      (e) => e.merchantId === label.key && e.amount <= 500 && e.responseCode !== '00',
    );
    const cards = new Set(burst.map((e) => e.cardFingerprint));
    expect(burst.length).toBeGreaterThan(50);
    expect(cards.size).toBeGreaterThan(0.95 * burst.length);
    // No merchant anywhere else comes close in any 15-minute bucket.
    const buckets = new Map<string, number>();
    for (const e of auths(events)) {
      if (e.merchantId === label.key || e.amount > 500 || e.responseCode === '00') continue;
      const k = `${e.merchantId}/${Math.floor(ts(e) / (15 * MIN))}`;
      buckets.set(k, (buckets.get(k) ?? 0) + 1);
    }
    expect(Math.max(0, ...buckets.values())).toBeLessThan(6);
    expect(label.alsoMatches).toContainEqual({
      rule: 'card_testing',
      scope: 'terminal',
      key: burst[0]!.terminalId,
    });
  });

  it('firmware-regression: a new version on a share of terminals fails far more', () => {
    const { events, label } = run('firmware-regression');
    expect(label.scope).toBe('firmware');
    const mine = events.filter((e) => e.type === 'auth' && e.firmware === label.key);
    const before = events.filter((e) => ts(e) < label.start);
    expect(before.some((e) => 'firmware' in e && e.firmware === label.key)).toBe(false);
    expect(events.some((e) => e.type === 'heartbeat' && e.firmware === label.key)).toBe(true);
    const fault = (_c: string, cat: Category) => cat === 'terminal' || cat === 'timeout';
    const others = events.filter((e) => e.type === 'auth' && e.firmware !== label.key);
    expect(share(mine, fault)).toBeGreaterThan(0.05);
    expect(share(others, fault)).toBeLessThan(0.006);
    const terms = new Set(mine.map((e) => e.terminalId));
    expect([...terms].every((t) => label.terminals!.includes(t))).toBe(true);
  });

  it('issuer-outage: one issuer’s auths fail with 91/96/TO everywhere', () => {
    const { events, label } = run('issuer-outage');
    const inc = auths(events.filter(during(label)));
    const mine = inc.filter((e) => e.issuerId === label.key);
    const others = inc.filter((e) => e.issuerId !== label.key);
    const bad = (c: string) => c === '91' || c === '96' || c === 'TO';
    expect(share(mine, bad)).toBeGreaterThan(0.3);
    expect(share(others, bad)).toBeLessThan(0.01);
    expect(new Set(mine.map((e) => e.region)).size).toBeGreaterThan(5);
  });

  it('terminal-silent: a busy terminal sends no auth and no heartbeat during the incident', () => {
    const { events, label } = run('terminal-silent');
    const mine = events.filter((e) => e.terminalId === label.key);
    const sent = (e: SimEvent) => e.type === 'auth' || e.type === 'heartbeat';
    // Late delivery can move an event up to 3 s before its neighbours; allow that edge.
    const inside = mine.filter((e) => sent(e) && ts(e) >= label.start + 5000 && ts(e) < label.end);
    expect(inside).toHaveLength(0);
    const hourBefore = mine.filter(
      (e) => e.type === 'auth' && ts(e) >= label.start - HOUR && ts(e) < label.start,
    );
    expect(hourBefore.length).toBeGreaterThan(15);
  });

  it('regional-outage-silence: the whole region stops', () => {
    const { events, label } = run('regional-outage-silence');
    const inc = events.filter(during(label)).filter((e) => ts(e) >= label.start + 5000);
    const sent = (e: SimEvent) => e.type === 'auth' || e.type === 'heartbeat';
    expect(inc.filter((e) => sent(e) && e.region === label.key)).toHaveLength(0);
    expect(inc.filter((e) => sent(e) && e.region !== label.key).length).toBeGreaterThan(1000);
    expect(label.alsoMatches.every((m) => m.rule === 'terminal_silent')).toBe(true);
  });

  it('regional-outage-errors: the region fails with timeouts/91/96, other regions do not', () => {
    const { events, label } = run('regional-outage-errors');
    const inc = events.filter(during(label));
    const bad = (c: string) => c === '91' || c === '96' || c === 'TO';
    const mine = inc.filter((e) => e.region === label.key);
    expect(new Set(auths(mine).map((e) => e.terminalId)).size).toBeGreaterThan(5);
    expect(share(mine, bad)).toBeGreaterThan(0.25);
    expect(
      share(
        inc.filter((e) => e.region !== label.key),
        bad,
      ),
    ).toBeLessThan(0.01);
  });

  it('carrier-outage: only the cellular terminals of one region; most go dark, the rest time out', () => {
    const { events, label, sim } = runSim('carrier-outage');
    expect(label).toMatchObject({ rule: 'regional_outage', scope: 'region' });
    const f = sim.fleet;
    const hit = new Set(label.terminals);
    const region = f.terminals.filter((t) => f.regions[t.region]!.id === label.key);
    // Exactly the region's cellular terminals, a minority of the region.
    expect([...hit].sort()).toEqual(
      region
        .filter((t) => t.network === 'cellular')
        .map((t) => t.id)
        .sort(),
    );
    expect(hit.size).toBeGreaterThanOrEqual(3);
    expect(hit.size).toBeLessThan(0.5 * region.length);
    const inc = events.filter(during(label)).filter((e) => ts(e) >= label.start + 5000);
    const sent = (e: SimEvent) => e.type === 'auth' || e.type === 'heartbeat';
    const before = new Set(
      events
        .filter((e) => e.type === 'heartbeat' && ts(e) < label.start && hit.has(e.terminalId))
        .map((e) => e.terminalId),
    );
    const heard = new Set(
      inc.filter((e) => sent(e) && hit.has(e.terminalId)).map((e) => e.terminalId),
    );
    // Most go dark; the ones still heard time out.
    expect(before.size - [...before].filter((t) => heard.has(t)).length).toBeGreaterThan(
      0.5 * before.size,
    );
    expect(heard.size).toBeGreaterThan(0);
    const theirs = inc.filter((e) => hit.has(e.terminalId));
    expect(share(theirs, (c) => c === 'TO')).toBeGreaterThan(0.6);
    expect(theirs.some((e) => e.type === 'reversal' && e.reason === 'timeout')).toBe(true);
    // The region's wired and Wi-Fi terminals trade as usual, and so do other regions' SIMs.
    const rest = inc.filter((e) => e.region === label.key && !hit.has(e.terminalId));
    expect(auths(rest).length).toBeGreaterThan(50);
    expect(share(rest, (c) => c === 'TO')).toBeLessThan(0.01);
    const cellular = new Set(f.terminals.filter((t) => t.network === 'cellular').map((t) => t.id));
    const otherSims = inc.filter((e) => e.region !== label.key && cellular.has(e.terminalId));
    expect(auths(otherSims).length).toBeGreaterThan(100);
    expect(share(otherSims, (c) => c === 'TO')).toBeLessThan(0.02);
    for (const id of hit) {
      expect(label.alsoMatches).toContainEqual({
        rule: 'terminal_silent',
        scope: 'terminal',
        key: id,
      });
      expect(label.alsoMatches).toContainEqual({
        rule: 'terminal_network_errors',
        scope: 'terminal',
        key: id,
      });
    }
    const h0 = ((label.start + 8 * HOUR) % (24 * HOUR)) / HOUR;
    expect(h0).toBeGreaterThanOrEqual(10);
  });

  it('outage-at-closing: the region goes dark 5 min before its first mall closes', () => {
    // 09:00 to 23:00: the run holds the evening closing times.
    const { events, label, sim } = runSim('outage-at-closing', { durationMs: 14 * HOUR });
    expect(label).toMatchObject({ rule: 'regional_outage', scope: 'region' });
    const closes = firstMallClosing(sim.fleet, label.key);
    expect([21, 22]).toContain(closes);
    expect(label.start).toBe(DEFAULT_START + closes * HOUR - 5 * MIN);
    expect(label.end - label.start).toBeGreaterThanOrEqual(20 * MIN);
    expect(label.end - label.start).toBeLessThanOrEqual(40 * MIN);
    const inc = events.filter(during(label)).filter((e) => ts(e) >= label.start + 5000);
    const sent = (e: SimEvent) => e.type === 'auth' || e.type === 'heartbeat';
    expect(inc.filter((e) => sent(e) && e.region === label.key)).toHaveLength(0);
    expect(inc.filter((e) => sent(e) && e.region !== label.key).length).toBeGreaterThan(100);
    // Before it, the region's mall shops were trading.
    const mallShops = new Set(sim.fleet.merchants.filter((m) => m.mall >= 0).map((m) => m.id));
    const lastHour = events.filter(
      (e) =>
        e.type === 'auth' &&
        e.region === label.key &&
        mallShops.has(e.merchantId) &&
        ts(e) >= label.start - HOUR &&
        ts(e) < label.start,
    );
    expect(lastHour.length).toBeGreaterThan(0);
  });

  it('every incident scenario is covered above', () => {
    expect(INCIDENT_SCENARIOS).toHaveLength(14);
  });
});

describe('all and extra incidents', () => {
  it('`all` places every scenario that fits the run on distinct targets', () => {
    const sim = createSimulation({ seed: 5, scenario: 'all', fleet: FLEET });
    const scenarios = sim.labels.map((l) => l.scenario).sort();
    // 24 h run: a settlement gap would only show after the 24 h deadline, so it is left out.
    expect(scenarios).toEqual(INCIDENT_SCENARIOS.filter((s) => s !== 'settlement-gap').sort());
    const terminalKeys = sim.labels.filter((l) => l.scope === 'terminal').map((l) => l.key);
    expect(new Set(terminalKeys).size).toBe(terminalKeys.length);
    for (const l of sim.labels) expect(l.detectFrom).toBeLessThan(sim.end);
  });

  it('extra incidents can be pinned to a time and a key', () => {
    const sim = createSimulation({
      seed: 5,
      fleet: FLEET,
      start: START,
      durationMs: 3 * HOUR,
      incidents: [
        { scenario: 'terminal-silent', start: START + HOUR, durationMs: 30 * MIN, key: 'T000007' },
      ],
    });
    expect(sim.labels).toMatchObject([
      {
        scenario: 'terminal-silent',
        key: 'T000007',
        start: START + HOUR,
        end: START + HOUR + 30 * MIN,
      },
    ]);
    expect(() =>
      createSimulation({
        seed: 5,
        fleet: FLEET,
        incidents: [{ scenario: 'terminal-fault', key: 'nope' }],
      }),
    ).toThrow(/unknown terminal/);
  });
});
