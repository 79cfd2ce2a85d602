import { createSimulation, type ExtraIncident, type Simulation } from './simulation';

/**
 * The fleet the "monitor that remembers" tests share (the processor killed mid-day, the
 * embedded start restarted, the warm-up from stored history, the topology restored): 120
 * terminals over 24 merchants, seed 41, trading from Monday 00:00 China time, with the
 * incidents a test places on the second day. One definition, so the tests that compare a
 * restart with an uninterrupted run all speak of the same days.
 */
export const TRADING_MONDAY = Date.UTC(2026, 2, 1, 16, 0, 0); // Monday 2026-03-02 00:00 UTC+8

export function tradingDays(hours: number, incidents: readonly ExtraIncident[] = []): Simulation {
  return createSimulation({
    seed: 41,
    scenario: 'healthy',
    start: TRADING_MONDAY,
    durationMs: hours * 3_600_000,
    fleet: { terminals: 120, merchants: 24 },
    incidents,
  });
}
