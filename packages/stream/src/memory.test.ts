import { describe, expect, it } from 'vitest';
import { decodeEvent, type Alert, type TerminalEvent } from '@tillwatch/contracts';
import type { RulesMemory } from '@tillwatch/rules';
import { TRADING_MONDAY, tradingDays } from '@tillwatch/simulator';
import { LatestMemory, parseMemoryFile } from './memory-file';
import { LocalTopology } from './topology';
import type { StageMemory } from './types';

/**
 * A monitor that remembers: a topology stopped in the middle of the second trading day and
 * started again from its rules memory (taken at the last hour boundary) and a replay of the
 * events since an hour before it raises what an uninterrupted run raises, and has learnt the
 * same profiles and baselines by the end. Without the memory it judges the same day blind.
 */
const H = 3_600_000;
const start = TRADING_MONDAY;
const kill = start + 26 * H + 20 * 60_000; // Tuesday 02:20
// a till stops on Tuesday morning, while its shop sells on: only its profile says "expected"
const sim = tradingDays(36, [{ scenario: 'terminal-silent', start: start + 33 * H }]);
const events: TerminalEvent[] = [];
for (const raw of sim.events()) {
  const d = decodeEvent(JSON.stringify(raw));
  if (!d.ok) throw new Error(d.reason);
  events.push(d.event);
}
const label = sim.labels[0]!;

function run(
  evs: readonly TerminalEvent[],
  restore?: readonly StageMemory[],
  prime: readonly TerminalEvent[] = [],
) {
  const alerts: Alert[] = [];
  const memories: StageMemory[] = [];
  const t = new LocalTopology({ alert: (a) => alerts.push(a), memory: (m) => memories.push(m) });
  if (restore) t.restore(restore);
  for (const ev of prime) t.prime(ev);
  for (const ev of evs) t.push(ev);
  return { alerts, memories };
}

/**
 * The learnt part of a memory: profiles, baselines, open episodes (not the decayed recent
 * rates). A rollup stage's terminals are only its view of who is where (presence), their
 * activity profiles are the source partitions' business.
 */
function learnt(m: StageMemory) {
  const mem: RulesMemory = m.memory;
  return {
    terminals:
      m.stage === 'events' ? mem.terminals.map((t) => [t.id, t.profile, t.profileDays]) : [],
    regions: mem.regions,
    baselines: mem.baselines,
    episodes: mem.episodes.open.map((e) => [e.alertId, e.firstSeen, e.sent]),
  };
}

const sig = (a: Alert) => `${a.alertId}|${a.rule}|${a.key}|${a.status}|${a.ts}`;

describe('rules memory across a restart', () => {
  it('a restart from memory raises what an uninterrupted run raises and learns the same', () => {
    const whole = run(events);
    // the first run stops at `kill`; the driver kept its latest memory per stage
    const first = run(events.filter((e) => e.ts < kill));
    const latest = new LatestMemory();
    for (const m of first.memories) latest.take(m);
    const kept = parseMemoryFile(JSON.stringify(latest)); // as the file or table holds it
    const at = kept[0]!.at;
    expect(kept.every((m) => m.at === at)).toBe(true);
    expect(at).toBe(Math.floor(kill / H) * H);
    // the second run: restored, replaying from an hour (+ lateness and margin) before `at`
    const from = at - H - 2 * 60_000;
    // what the processor's recovery reads back from ClickHouse for settlements still due:
    // approved auths, succeeded reversals and settlements before the replay
    const settling = events.filter(
      (e) =>
        e.ts < from &&
        (e.type === 'settlement' ||
          (e.type === 'reversal' && e.status === 'succeeded') ||
          (e.type === 'auth' &&
            ['00', '08', '10', '11', '16', '85', 'Y1', 'Y3'].includes(e.responseCode))),
    );
    const second = run(
      events.filter((e) => e.ts >= from),
      kept,
      settling,
    );
    const after = (as: Alert[]) => as.filter((a) => Date.parse(a.ts) > kill).map(sig);
    expect(after(whole.alerts).length).toBeGreaterThan(0);
    expect(after(second.alerts)).toEqual(after(whole.alerts));
    // the incident is found on the till's own profile, by both
    const silent = (as: Alert[]) =>
      as.find((a) => a.rule === 'terminal_silent' && a.key === label.key && a.status === 'firing');
    expect(silent(second.alerts)?.evidence.basis).toBe('calendar_profile');
    // and by the end both have learnt the same
    const end = (ms: StageMemory[]) => {
      const last = ms.at(-1)!.at;
      return ms.filter((m) => m.at === last).map((m) => [m.stage, m.partition, learnt(m)]);
    };
    expect(end(second.memories)).toEqual(end(whole.memories));
    expect(second.memories.at(-1)!.at).toBeGreaterThan(kill + 8 * H);

    // Without the memory, the same replay judges the day on a few hours of profile: not what
    // the whole run said, nor what it learnt.
    const blind = run(
      events.filter((e) => e.ts >= from),
      undefined,
      settling,
    );
    expect(end(blind.memories)).not.toEqual(end(whole.memories));
    const full = (as: Alert[]) =>
      as.filter((a) => Date.parse(a.ts) > kill).map((a) => JSON.stringify(a));
    expect(full(second.alerts)).toEqual(full(whole.alerts));
    expect(full(blind.alerts)).not.toEqual(full(whole.alerts));
  });

  it('a blind start learns nothing from the settlement rebuild it is primed with', () => {
    // A recovery without memory (a rebalance before the stage took one) primes the stage with
    // a day of approved auths, reversals and settlements. Learnt, they made a sales-only
    // profile of the day before (heartbeats missing, a 24 h till's nights empty).
    const from = start + 25 * H - 2 * 60_000; // Tuesday 00:58
    const settling = events.filter(
      (e) => e.ts < from && (e.type === 'settlement' || e.type === 'auth'),
    );
    const blind = run(
      events.filter((e) => e.ts < from + 2 * H),
      undefined,
      [],
    );
    const primed = run(
      events.filter((e) => e.ts >= from && e.ts < from + 2 * H),
      undefined,
      settling,
    );
    // at Tuesday 02:00 only the hour 01:00-02:00 has been seen whole since the replay began
    const at = start + 26 * H;
    const days = (r: { memories: StageMemory[] }) =>
      r.memories
        .filter((m) => m.stage === 'events' && m.at === at)
        .flatMap((m) => (m.memory as RulesMemory).terminals)
        .map((t) => [...Buffer.from(t.profileDays, 'base64')].filter((d) => d > 0).length);
    const learnt = days(primed);
    expect(learnt.length).toBeGreaterThan(100);
    expect(Math.max(...learnt)).toBe(1);
    expect(learnt.filter((n) => n === 1).length).toBeGreaterThan(50);
    // (the uninterrupted run had learnt Monday's hours too)
    expect(Math.max(...days(blind))).toBeGreaterThan(10);
  });

  it('a memory is refused by a topology of another partitioning', () => {
    const first = run(events.filter((e) => e.ts < start + 2 * H));
    const t = new LocalTopology({ alert: () => {} }, { partitions: 2 });
    expect(() => t.restore(first.memories)).toThrow(
      /events partition \d of 4: this topology has 2/,
    );
  });
});
