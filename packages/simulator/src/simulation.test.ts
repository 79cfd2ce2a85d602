import { validateEvent } from '@tillwatch/contracts';
import { describe, expect, it } from 'vitest';
import { createSimulation } from './simulation';
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
