import type { Simulation } from './simulation';
import type { SimEvent } from './types';

export interface RealtimeFeedOptions {
  /** wall-clock time (epoch ms) that maps to `simStart` */
  wallStart: number;
  /** event time at `wallStart`; default the simulation's start */
  simStart?: number;
  /** simulated ms per wall ms; default 1 */
  speed?: number;
  /** cap per tick so a long pause does not return millions at once; default 200 000 */
  maxPerTick?: number;
}

export interface RealtimeFeed {
  /** event time that corresponds to a wall-clock time */
  simTimeAt(wallMs: number): number;
  /** every event due by wall-clock `wallMs` not yet returned (at most maxPerTick) */
  tick(wallMs: number): SimEvent[];
}

/**
 * Maps wall-clock time to event time for a live demo: each tick returns the events that are due.
 * Start the simulation some minutes before `simStart` (e.g. `start: now - 15 min, simStart: now`)
 * and the first tick replays that history at once, so windows have a baseline when the board opens.
 */
export function createRealtimeFeed(sim: Simulation, opts: RealtimeFeedOptions): RealtimeFeed {
  const speed = opts.speed ?? 1;
  if (!(speed > 0)) throw new Error(`simulator: speed must be > 0, got ${speed}`);
  const simStart = opts.simStart ?? sim.start;
  const max = opts.maxPerTick ?? 200_000;
  const simTimeAt = (wallMs: number) => simStart + (wallMs - opts.wallStart) * speed;
  return {
    simTimeAt,
    tick: (wallMs) => sim.pull(simTimeAt(wallMs), max),
  };
}
