import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { categorize, validateEvent } from '@tillwatch/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRealtimeFeed } from './realtime';
import { DEFAULT_START, createSimulation } from './simulation';
import { writeScenario } from './write';
import { SCENARIO_NAMES } from './types';

const HOUR = 3_600_000;
const small = { terminals: 300, merchants: 40 };

function collect(seed: number, scenario = 'healthy' as const, durationMs = 2 * HOUR) {
  return [...createSimulation({ seed, scenario, durationMs, fleet: small })];
}

describe('determinism', () => {
  it('same seed gives identical events byte for byte; another seed does not', () => {
    const a = JSON.stringify(collect(7));
    const b = JSON.stringify(collect(7));
    const c = JSON.stringify(collect(8));
    expect(a.length).toBeGreaterThan(10_000);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
});

describe('events are valid per the contract', () => {
  it.each(SCENARIO_NAMES.filter((s) => s !== 'demo'))(
    '%s: every event passes validateEvent',
    (scenario) => {
      const sim = createSimulation({
        seed: 3,
        scenario,
        durationMs: scenario === 'settlement-gap' ? 4 * HOUR : 3 * HOUR,
        settlementDeadlineMs: scenario === 'settlement-gap' ? HOUR : undefined,
        settlementDelayMs: scenario === 'settlement-gap' ? 20 * 60_000 : undefined,
        fleet: small,
        isoFraction: 0.01,
      });
      const ids = new Set<string>();
      let n = 0;
      for (const ev of sim) {
        const r = validateEvent(ev);
        if (!r.ok) throw new Error(`${r.reason}: ${JSON.stringify(ev)}`);
        expect(ids.has(ev.eventId)).toBe(false);
        ids.add(ev.eventId);
        n++;
      }
      expect(n).toBe(sim.counts.total);
      expect(n).toBeGreaterThan(1000);
      if (scenario !== 'healthy') expect(sim.labels.length).toBeGreaterThan(0);
    },
  );
});

function healthyStats() {
  // One 24 h run of a 400-terminal fleet shared by the checks below (~0.4 M events).
  const sim = createSimulation({ seed: 21, fleet: { terminals: 400, merchants: 50 } });
  const byHour = new Array<number>(24).fill(0);
  const cats = new Map<string, number>();
  const codes = new Map<string, number>();
  const heartbeatsByHour = new Array<number>(24).fill(0);
  let authCount = 0;
  let approved = 0;
  let approvedSettled = 0;
  const approvedTxn = new Map<string, number>();
  let outOfOrder = 0;
  let lastTs = 0;
  let lateSettlements = 0;
  for (const ev of sim) {
    const t = typeof ev.ts === 'number' ? ev.ts : Date.parse(ev.ts);
    if (t < lastTs) outOfOrder++;
    lastTs = Math.max(lastTs, t);
    const hour = Math.floor((t - sim.start) / HOUR);
    if (ev.type === 'auth') {
      authCount++;
      byHour[hour]!++;
      const cat = categorize(ev.responseCode);
      cats.set(cat, (cats.get(cat) ?? 0) + 1);
      codes.set(ev.responseCode, (codes.get(ev.responseCode) ?? 0) + 1);
      if (cat === 'approved') {
        approved++;
        approvedTxn.set(ev.txnId, t);
      }
    } else if (ev.type === 'heartbeat') {
      heartbeatsByHour[hour]!++;
    } else if (ev.type === 'settlement') {
      const at = approvedTxn.get(ev.txnId);
      // Default delay 6 h: far inside the 24 h settlement deadline.
      if (at === undefined || t - at >= 6 * HOUR) lateSettlements++;
      if (ev.status === 'settled') approvedSettled++;
    }
  }
  return {
    sim,
    byHour,
    cats,
    codes,
    heartbeatsByHour,
    authCount,
    approved,
    approvedSettled,
    outOfOrder,
    lateSettlements,
  };
}

describe('a healthy fleet', () => {
  let h: ReturnType<typeof healthyStats>;
  beforeAll(() => {
    h = healthyStats();
  });
  const rate = (c: string) => (h.cats.get(c) ?? 0) / h.authCount;

  it('has a realistic approval and decline mix', () => {
    expect(h.authCount).toBeGreaterThan(100_000);
    expect(rate('approved')).toBeGreaterThan(0.93);
    expect(rate('approved')).toBeLessThan(0.965);
    expect(rate('cardholder')).toBeGreaterThan(0.025);
    expect(rate('cardholder')).toBeLessThan(0.05);
    for (const c of ['issuer', 'terminal', 'security', 'timeout']) {
      expect(rate(c)).toBeGreaterThan(0.0003);
      expect(rate(c)).toBeLessThan(0.006);
    }
    expect(rate('other')).toBeLessThan(0.001);
    // Insufficient funds is the most common decline, as on every real acquirer's books.
    const declines = [...h.codes].filter(([c]) => categorize(c) !== 'approved');
    declines.sort((a, b) => b[1] - a[1]);
    expect(declines[0]![0]).toBe('51');
    for (const c of ['55', '61', '14', '05', 'TO', '12', '59'])
      expect(h.codes.get(c)).toBeGreaterThan(0);
  });

  it('follows a daily rhythm: nights are quiet, lunch and evening busy', () => {
    // Local (UTC+8) hours: the run starts at 00:00 local.
    const night = (h.byHour[2]! + h.byHour[3]! + h.byHour[4]!) / 3;
    const lunch = h.byHour[12]!;
    const evening = Math.max(h.byHour[18]!, h.byHour[19]!);
    expect(night).toBeLessThan(0.1 * lunch);
    expect(lunch).toBeGreaterThan(h.byHour[15]!);
    expect(evening).toBeGreaterThan(h.byHour[15]!);
    // Shops that close power their terminals down: fewer heartbeats at night.
    expect(h.heartbeatsByHour[3]!).toBeLessThan(0.8 * h.heartbeatsByHour[12]!);
    expect(h.heartbeatsByHour[3]!).toBeGreaterThan(0);
  });

  it('settles almost every approved sale within the delay', () => {
    expect(h.lateSettlements).toBe(0);
    // Sales of the last 6 h settle after the run ends; the rest nearly all settle.
    expect(h.approvedSettled / h.approved).toBeGreaterThan(0.85);
  });

  it('delivers a small fraction of events out of order', () => {
    expect(h.outOfOrder).toBeGreaterThan(0);
    expect(h.outOfOrder / h.sim.counts.total).toBeLessThan(0.005);
  });
});

describe('real-time use', () => {
  it('pull(until) returns events up to that time, in order, and nothing twice', () => {
    const sim = createSimulation({ seed: 2, fleet: small, outOfOrder: { fraction: 0 } });
    const first = sim.pull(sim.start + 10 * 60_000);
    const second = sim.pull(sim.start + 20 * 60_000);
    expect(first.length).toBeGreaterThan(0);
    expect(second.length).toBeGreaterThan(0);
    const t = (e: { ts: number | string }) => e.ts as number;
    expect(Math.max(...first.map(t))).toBeLessThanOrEqual(sim.start + 10 * 60_000);
    expect(Math.min(...second.map(t))).toBeGreaterThan(sim.start + 10 * 60_000);
    const again = [...createSimulation({ seed: 2, fleet: small, outOfOrder: { fraction: 0 } })];
    expect([...first, ...second]).toEqual(again.slice(0, first.length + second.length));
    expect(sim.pull(sim.start + 20 * 60_000)).toHaveLength(0);
  });

  it('demo: incidents start within minutes and keep coming', () => {
    const now = Date.UTC(2026, 4, 6, 4, 0, 0); // 12:00 in China
    const sim = createSimulation({
      seed: 9,
      scenario: 'demo',
      start: now - 15 * 60_000,
      fleet: small,
    });
    expect(sim.end).toBe(Infinity);
    const feed = createRealtimeFeed(sim, { wallStart: now, simStart: now, speed: 1 });
    // First tick replays the 15 min of history at once.
    const history = feed.tick(now);
    expect(history.length).toBeGreaterThan(1000);
    expect(sim.labels).toHaveLength(0);
    feed.tick(now + 90_000);
    expect(sim.labels.length).toBeGreaterThan(0);
    expect(sim.activeAt(now + 60_000).map((l) => l.scenario)).toContain('regional-outage-errors');
    feed.tick(now + 30 * 60_000);
    const seen = new Set(sim.labels.map((l) => l.scenario));
    expect(seen.size).toBeGreaterThanOrEqual(10);
    expect(sim.activeAt(now + 30 * 60_000).length).toBeLessThanOrEqual(3);
  });

  it('speed maps wall time to event time', () => {
    const sim = createSimulation({ seed: 9, fleet: small });
    const feed = createRealtimeFeed(sim, { wallStart: 1000, speed: 60 });
    expect(feed.simTimeAt(2000)).toBe(sim.start + 60_000);
  });
});

describe('writeScenario', () => {
  it('writes JSONL and labels beside it, and returns counts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tw-sim-'));
    const out = join(dir, 'events.jsonl');
    const progress: number[] = [];
    const res = await writeScenario({
      scenario: 'terminal-fault',
      seed: 4,
      out,
      start: DEFAULT_START + 8 * HOUR,
      durationMs: 4 * HOUR,
      fleet: small,
      onProgress: (p) => progress.push(p.fraction),
    });
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(res.counts.total);
    expect(validateEvent(JSON.parse(lines[0]!)).ok).toBe(true);
    const labels = JSON.parse(await readFile(`${out}.labels.json`, 'utf8'));
    expect(labels).toEqual(res.labels);
    expect(labels[0]).toMatchObject({ scenario: 'terminal-fault', rule: 'terminal_fault_spike' });
    expect(progress.at(-1)).toBe(1);
    expect(progress.length).toBeGreaterThan(10);
    await rm(dir, { recursive: true });
  });
});

describe('a long lazy run', () => {
  it('generates 24 h of a 2,000-terminal fleet with bounded state', () => {
    const sim = createSimulation({ seed: 1, fleet: { terminals: 2000, merchants: 200 } });
    let maxPending = 0;
    let maxHourlyAuths = 0;
    let hourAuths = 0;
    let nextHour = sim.start + HOUR;
    const t0 = performance.now();
    for (let ev = sim.nextEvent(); ev !== undefined; ev = sim.nextEvent()) {
      if (ev.type === 'auth') hourAuths++;
      if (sim.position >= nextHour) {
        nextHour += HOUR;
        maxHourlyAuths = Math.max(maxHourlyAuths, hourAuths);
        hourAuths = 0;
        maxPending = Math.max(maxPending, sim.pending);
      }
    }
    const ms = performance.now() - t0;
    console.log(
      `24 h, 2,000 terminals: ${sim.counts.total} events (${JSON.stringify(sim.counts)}) in ${Math.round(ms)} ms = ${Math.round((sim.counts.total / ms) * 1000)} events/s; max pending ${maxPending}; heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`,
    );
    expect(sim.counts.total).toBeGreaterThan(1_500_000);
    // Held state is the settlement pipeline (<= 6 h of auths) plus two timers per terminal,
    // never the run's history: 24 h of events would be > 1.5 M entries.
    expect(maxPending).toBeLessThan(2 * 2000 + 6 * maxHourlyAuths);
    expect(maxPending).toBeLessThan(sim.counts.total / 4);
  });
});
