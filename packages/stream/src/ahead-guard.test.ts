import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Alert, TerminalEvent } from '@tillwatch/contracts';
import { smallFleet, stream, T0 } from '@tillwatch/rules/testing';
import { AheadGuard } from './ahead-guard';
import { LocalTopology } from './topology';
import { paneText } from './test-rows';

const H = 3_600_000;

function run(events: readonly TerminalEvent[]) {
  const alerts: string[] = [];
  const rows: string[] = [];
  const dead: { eventId: string; reason: string; tag: number }[] = [];
  const t = new LocalTopology(
    {
      alert: (a: Alert) => alerts.push(JSON.stringify(a)),
      panes: (...r) => rows.push(paneText(...r)),
      dead: (ev, reason, tag) => dead.push({ eventId: ev.eventId, reason, tag }),
    },
    { partitions: 2 },
  );
  events.forEach((e, i) => t.push(e, undefined, i));
  t.end();
  const boundaries = t.eventStages.reduce((n, s) => n + s.boundariesClosed, 0);
  return { alerts, rows, dead, stats: t.stats(), boundaries };
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
    expect(got.stats.late).toBe(0);
    // nothing vouched for them: dead letters when the input ends, with their tags
    expect(got.stats.droppedAhead).toBe(2);
    expect(got.dead.map((d) => [d.eventId, d.tag])).toEqual([
      ['clock-1', 1000],
      ['clock-2', 5000],
    ]);
    expect(got.dead[0]!.reason).toMatch(
      /^ts_in_future: event time 2100-01-01T00:00:00.000Z is 7\d\.\d y ahead/,
    );
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
    expect(guarded.stats.droppedAhead).toBe(0);
    expect(guarded.stats.late).toBe(0);
  });

  it('two terminals with the same broken clock: time jumps, it does not step through the years', () => {
    const g = new AheadGuard(60_000);
    const at = (terminalId: string, ts: number, i: number) => heartbeat(terminalId, ts, i);
    // the first event waits for a second (alone, it would set the time)
    expect(g.admit(at('T1_1', T0, 1))).toBe(false);
    expect(g.admit(at('T2_1', T0 + 1000, 2))).toBe(false);
    expect(g.release().map((e) => e.eventId)).toEqual(['clock-1']);
    expect(g.admit(at('T1_1', Date.UTC(2100, 0, 1), 3))).toBe(false);
    expect(g.release()).toEqual([]);
    expect(g.admit(at('T2_1', Date.UTC(2100, 0, 1) + 1000, 4))).toBe(false);
    expect(g.release().map((e) => e.eventId)).toEqual(['clock-2', 'clock-3']);
    const bad = [
      ...evs.slice(0, 2000),
      at('T2_1', Date.UTC(2100, 0, 1), 4),
      at('T2_2', Date.UTC(2100, 0, 1) + 1000, 5),
    ];
    const got = run(bad);
    // both terminals are one merchant's, so one partition's: it vouches, the time jumps
    expect(got.stats.droppedAhead).toBe(0);
    // a jump of 74 years: the boundaries of the first events, a day of them after the last
    // one (its sales' settlement deadline: schedule.ts), then the jump; not 470 million
    expect(got.boundaries).toBeLessThan(3 * (86_400_000 / 5_000));
  });

  it('a till whose clock runs 4 minutes fast does not make its partition late: the other terminals raise what they raise without it', () => {
    const fast = evs.map((e) => (e.terminalId === 'T5_1' ? { ...e, ts: e.ts + 4 * 60_000 } : e));
    const others = (alerts: string[]) =>
      alerts.filter((a) => (JSON.parse(a) as Alert).key !== 'T5_1');
    const clean = run(evs);
    const got = run(fast);
    expect(got.stats.late).toBe(0);
    expect(got.stats.droppedAhead).toBe(0);
    expect(others(got.alerts)).toEqual(others(clean.alerts));
    // and the till itself is told: its clock is ahead
    const own = got.alerts.map((a) => JSON.parse(a) as Alert).filter((a) => a.key === 'T5_1');
    expect(own.map((a) => [a.rule, a.status])).toContainEqual(['terminal_clock_drift', 'firing']);
    const drift = own.find((a) => a.rule === 'terminal_clock_drift')!;
    expect(drift).toMatchObject({ severity: 'warning', evidence: { direction: 'ahead' } });
    expect(drift.value).toBeGreaterThanOrEqual(60);
    expect(drift.probableCauses.join(' ')).toMatch(/date and time/);
    expect(clean.alerts.some((a) => a.includes('terminal_clock_drift'))).toBe(false);
  });

  it('a till whose clock runs 5 minutes slow: its late events raise terminal_clock_drift (behind), the others raise what they raise', () => {
    const slow = evs.map((e) => (e.terminalId === 'T5_1' ? { ...e, ts: e.ts - 5 * 60_000 } : e));
    const others = (alerts: string[]) =>
      alerts.filter((a) => (JSON.parse(a) as Alert).key !== 'T5_1');
    const clean = run(evs);
    const got = run(slow);
    expect(got.stats.late).toBeGreaterThan(0);
    expect(others(got.alerts)).toEqual(others(clean.alerts));
    const drift = got.alerts
      .map((a) => JSON.parse(a) as Alert)
      .find((a) => a.key === 'T5_1' && a.rule === 'terminal_clock_drift' && a.status === 'firing');
    expect(drift).toMatchObject({ evidence: { direction: 'behind' } });
    expect(drift!.value).toBeLessThanOrEqual(-60);
  });

  it('any single adversarial event changes no alert but its own terminal’s and merchant’s (property)', () => {
    const short = stream(fleet, T0, T0 + 1.5 * H, (ev, t, rnd) =>
      t.id === 'T2_2' && ev.type === 'auth' && ev.ts >= T0 + 0.5 * H && rnd() < 0.5
        ? { ...ev, responseCode: '94' }
        : ev,
    );
    const clean = run(short).alerts;
    expect(clean.length).toBeGreaterThan(0);
    const Y = 365.25 * 24 * H;
    const offset = fc.oneof(
      fc.integer({ min: 1, max: 80 }).map((y) => y * Y), // a clock in another century
      fc.integer({ min: 6 * 60_000, max: 2 * 24 * H }), // a jump of minutes to days
      fc.integer({ min: 1_000, max: 5 * 60_000 }), // a lead within the tolerance
      fc.integer({ min: -30 * Y, max: -1_000 }), // the past
    );
    fc.assert(
      fc.property(
        fc.nat(short.length),
        fc.constantFrom(...fleet.map((t) => t.id)),
        fc.boolean(),
        offset,
        (at, terminalId, isAuth, d) => {
          const like = short.find((e) => e.terminalId === terminalId)!;
          const base = short[Math.min(at, short.length - 1)]!.ts;
          const odd: TerminalEvent = isAuth
            ? {
                type: 'auth',
                eventId: 'odd',
                ts: base + d,
                terminalId,
                merchantId: like.merchantId,
                region: like.region,
                txnId: 'odd-txn',
                amount: 1000,
                currency: 'CNY',
                responseCode: '00',
              }
            : { ...heartbeat(terminalId, base + d, 0), eventId: 'odd' };
          const got = run([...short.slice(0, at), odd, ...short.slice(at)]).alerts;
          const theirs = (a: string) => {
            const x = JSON.parse(a) as Alert;
            return x.key !== terminalId && x.key !== like.merchantId;
          };
          expect(got.filter(theirs)).toEqual(clean.filter(theirs));
        },
      ),
      { numRuns: 12, seed: 20261203 },
    );
  });
});
