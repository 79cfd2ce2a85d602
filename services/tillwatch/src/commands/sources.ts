import type { TerminalEvent } from '@tillwatch/contracts';
import { createRealtimeFeed, createSimulation } from '@tillwatch/simulator';
import type { StartConfig } from '../config';
import type { SourceState } from './state';

/**
 * Where the all-in-one's events come from. The wall clock enters the stream here and nowhere
 * else: the simulated fleet's source turns wall time into event time (at TILLWATCH_SPEED) and
 * vouches for a watermark, so boundaries close on time even in a quiet minute. A file source
 * has only its events' time, like replay and the processor.
 */
export interface EventSource {
  /** raw events due now, in order (validated by the caller) */
  pull(): unknown[];
  /** event time before which nothing more will come, if the source knows it (wall clock) */
  watermark(): number | undefined;
  /** the fleet's first merchant and its terminals, for the demo merchant key */
  demo?: { merchantId: string; terminals: string[] };
  /** every event has been pulled (a file source) */
  readonly done: boolean;
  /** what a restart needs to regenerate these events (the state directory's source.json) */
  state(): SourceState;
}

/** Events per pull at most: a restart's catch-up pulls until a pull returns fewer. */
export const PULL_CHUNK = 50_000;

/** Where a simulated fleet was when the all-in-one stopped (state.ts). */
export type SimulatedResume = Extract<SourceState, { kind: 'simulated' }>;

/**
 * The seeded simulated fleet in (accelerated) real time, with rotating demo incidents. Resumed
 * (a restart with a state directory), it is the same simulation — seed, size, start — and its
 * clock goes on from the event time it had reached when the all-in-one stopped: the fleet is
 * part of the demo and pauses with it. Its first pulls regenerate the events up to there.
 */
export function simulatedSource(
  cfg: StartConfig,
  seed: number,
  now = Date.now(),
  resume?: SimulatedResume,
): EventSource {
  const historyMs = cfg.TILLWATCH_HISTORY_MIN * 60_000;
  const start = resume?.start ?? now - historyMs;
  const firstAt = resume?.firstAt ?? now + cfg.TILLWATCH_FIRST_INCIDENT_S * 1000;
  const sim = createSimulation({
    seed,
    scenario: 'demo',
    start,
    fleet: {
      terminals: cfg.TILLWATCH_TERMINALS,
      merchants: cfg.TILLWATCH_MERCHANTS,
      regions: cfg.TILLWATCH_REGIONS,
    },
    demo: { firstAt },
  });
  const feed = createRealtimeFeed(sim, {
    wallStart: now,
    simStart: resume?.position ?? now,
    speed: cfg.TILLWATCH_SPEED,
    maxPerTick: PULL_CHUNK,
  });
  // the event time pulled up to: what a restart continues from
  let position = resume?.position ?? start;
  const first = sim.fleet.merchants[0]?.id;
  return {
    pull: () => {
      const wall = Date.now();
      const until = feed.simTimeAt(wall);
      const out = feed.tick(wall);
      // a full chunk may have stopped short of `until`
      position = out.length < PULL_CHUNK ? Math.max(position, until) : sim.position;
      return out;
    },
    // the event time pulled up to, not the clock's: a watermark ahead of what was pulled would
    // move the topology past events not yet in, and a restart (which regenerates up to
    // `position`) would not get as far at its start as the run it continues
    watermark: () => position,
    state: () => ({
      kind: 'simulated',
      seed,
      terminals: cfg.TILLWATCH_TERMINALS,
      merchants: cfg.TILLWATCH_MERCHANTS,
      regions: cfg.TILLWATCH_REGIONS,
      partitions: cfg.TILLWATCH_PARTITIONS,
      start,
      firstAt,
      position,
    }),
    ...(first
      ? {
          demo: {
            merchantId: first,
            terminals: sim.fleet.terminals
              .filter((t) => sim.fleet.merchants[t.merchant]?.id === first)
              .map((t) => t.id),
          },
        }
      : {}),
    done: false,
  };
}

/** Given events, in order, `chunk` per pull; event time only. */
export function fixedSource(
  events: readonly TerminalEvent[],
  partitions: number,
  chunk = 5_000,
): EventSource {
  let at = 0;
  const first = events[0]?.merchantId;
  return {
    pull() {
      const out = events.slice(at, at + chunk);
      at += out.length;
      return out;
    },
    watermark: () => undefined,
    ...(first
      ? {
          demo: {
            merchantId: first,
            terminals: [
              ...new Set(events.filter((e) => e.merchantId === first).map((e) => e.terminalId)),
            ],
          },
        }
      : {}),
    get done() {
      return at >= events.length;
    },
    state: () => ({ kind: 'events', partitions }),
  };
}
