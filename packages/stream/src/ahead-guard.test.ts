import { describe, expect, it } from 'vitest';
import type { Alert, TerminalEvent } from '@tillwatch/contracts';
import { smallFleet, stream, T0 } from '@tillwatch/rules/testing';
import { AheadGuard } from './ahead-guard';
import { LocalTopology } from './topology';
import { rowText } from './test-rows';

const H = 3_600_000;

function run(events: readonly TerminalEvent[]) {
  const alerts: string[] = [];
  const rows: string[] = [];
  const t = new LocalTopology(
    {
      alert: (a: Alert) => alerts.push(JSON.stringify(a)),
      stats: (...r) => rows.push(rowText(...r)),
    },
    { partitions: 2 },
  );
  for (const e of events) t.push(e);
  const boundaries = t.eventStages.reduce((n, s) => n + s.boundariesClosed, 0);
  return { alerts, rows, stats: t.stats(), boundaries };
}

const fleet = smallFleet({ rate: 2 });
// a terminal fault from 2 h in: the stream raises alerts
const evs = stream(fleet, T0, T0 + 3.5 * H, (ev, t, rnd) =>
  t.id === 'T2_2' && ev.type === 'auth' && ev.ts >= T0 + 2 * H && rnd() < 0.4
    ? { ...ev, responseCode: '94' }
    : ev,
);
const heartbeat = (terminalId: string, ts: number, i: number): TerminalEvent => {
  const like = evs.find((e) => e.terminalId === terminalId)!;
  return {
    type: 'heartbeat',
    eventId: `clock-${i}`,
    ts,
    terminalId,
    merchantId: like.merchantId,
    region: like.region,
  };
};

describe('a terminal with a wrong clock', () => {
  it('cannot move its partition’s time: the same alerts and rows as without its event', () => {
    const clean = run(evs);
    expect(clean.alerts.length).toBeGreaterThan(0);
    const year2100 = Date.UTC(2100, 0, 1);
    const bad = [...evs];
    bad.splice(1000, 0, heartbeat('T2_2', year2100, 1));
    bad.splice(5000, 0, heartbeat('T2_2', year2100 + 60_000, 2));
    const got = run(bad);
    expect(got.alerts).toEqual(clean.alerts);
    expect(got.rows).toEqual(clean.rows);
    expect(got.stats.heldAhead).toBe(2);
    expect(got.stats.late).toBe(0);
  });

  it('a quiet night is no wrong clock: when a second terminal vouches, time moves on', () => {
    const night = evs.filter((e) => e.ts < T0 + H || e.ts >= T0 + 3 * H);
    const guarded = run(night);
    // the same stream with the guard out of the way (no hold at all)
    const alerts: string[] = [];
    const t = new LocalTopology(
      { alert: (a) => alerts.push(JSON.stringify(a)) },
      { partitions: 2 },
    );
    for (const s of t.eventStages)
      (s.guard as unknown as { maxAheadMs: number }).maxAheadMs = Infinity;
    for (const e of night) t.push(e);
    expect(guarded.alerts).toEqual(alerts);
    expect(guarded.stats.heldAhead).toBe(0);
  });

  it('two terminals with the same broken clock: time jumps, it does not step through the years', () => {
    const g = new AheadGuard(60_000);
    const at = (terminalId: string, ts: number, i: number) => heartbeat(terminalId, ts, i);
    expect(g.admit(at('T1_1', T0, 1))).toBe(true);
    expect(g.admit(at('T1_1', Date.UTC(2100, 0, 1), 2))).toBe(false);
    expect(g.release()).toEqual([]);
    expect(g.admit(at('T2_1', Date.UTC(2100, 0, 1) + 1000, 3))).toBe(false);
    expect(g.release().map((e) => e.eventId)).toEqual(['clock-2', 'clock-3']);
    const bad = [
      ...evs.slice(0, 2000),
      at('T2_1', Date.UTC(2100, 0, 1), 4),
      at('T2_2', Date.UTC(2100, 0, 1) + 1000, 5),
    ];
    const got = run(bad);
    // both terminals are one merchant's, so one partition's: it vouches, the time jumps
    expect(got.stats.heldAhead).toBe(0);
    // a jump of 74 years, closed in a few boundaries rather than 470 million
    expect(got.boundaries).toBeLessThan(10_000);
  });
});
