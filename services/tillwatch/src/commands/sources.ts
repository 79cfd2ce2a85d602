import type { TerminalEvent } from '@tillwatch/contracts';
import { createRealtimeFeed, createSimulation } from '@tillwatch/simulator';
import type { StartConfig } from '../config';

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
}

/** The seeded simulated fleet in (accelerated) real time, with rotating demo incidents. */
export function simulatedSource(cfg: StartConfig, seed: number, now = Date.now()): EventSource {
  const historyMs = cfg.TILLWATCH_HISTORY_MIN * 60_000;
  const sim = createSimulation({
    seed,
    scenario: 'demo',
    start: now - historyMs,
    fleet: {
      terminals: cfg.TILLWATCH_TERMINALS,
      merchants: cfg.TILLWATCH_MERCHANTS,
      regions: cfg.TILLWATCH_REGIONS,
    },
    demo: { firstAt: now + cfg.TILLWATCH_FIRST_INCIDENT_S * 1000 },
  });
  const feed = createRealtimeFeed(sim, {
    wallStart: now,
    simStart: now,
    speed: cfg.TILLWATCH_SPEED,
  });
  const first = sim.fleet.merchants[0]?.id;
  return {
    pull: () => feed.tick(Date.now()),
    watermark: () => feed.simTimeAt(Date.now()),
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
export function fixedSource(events: readonly TerminalEvent[], chunk = 5_000): EventSource {
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
  };
}
