import { validateEvent, type Alert, type TerminalEvent } from '@tillwatch/contracts';
import { createSimulation, type IncidentLabel, type Simulation } from '@tillwatch/simulator';
import { LocalTopology, partitionerFor } from '@tillwatch/stream';

/** Simulated streams for the pipeline suites, partitioned as the producer does, and the alerts they must raise. */

export const PARTITIONS = 4;

export interface Stream {
  events: TerminalEvent[];
  /** partition of each event (same index), by the Java client's murmur2 of merchantId */
  partitions: number[];
  /** serialised values as produced */
  values: string[];
  /** the simulation's incidents */
  labels: readonly IncidentLabel[];
}

/**
 * `count` simulated events (daytime, every incident scenario) plus two sentinel heartbeats per
 * partition 70 min after the last event: they move every partition's watermark past the end of
 * every window holding real events, so every window the stream touches gets closed.
 */
export function makeStream(seed: number, count: number, partitions = PARTITIONS): Stream {
  const start = Date.UTC(2026, 2, 2, 1, 0, 0);
  // `all` spreads its incidents over the run; three more start 8 min in, so that even a short
  // stream raises alerts (card testing, a terminal fault, failed-but-charged).
  const early = (scenario: 'card-testing' | 'terminal-fault' | 'failed-but-charged') => ({
    scenario,
    start: start + 8 * 60_000,
    durationMs: 15 * 60_000,
  });
  const sim = createSimulation({
    seed,
    scenario: 'all',
    start,
    durationMs: 6 * 3_600_000,
    incidents: [early('card-testing'), early('terminal-fault'), early('failed-but-charged')],
  });
  return streamOf(sim, count, partitions);
}

/** Events of a simulation (at most `count`, then two sentinels per partition), partitioned by merchant. */
export function streamOf(sim: Simulation, count: number, partitions = PARTITIONS): Stream {
  const route = partitionerFor(partitions);
  const events: TerminalEvent[] = [];
  const parts: number[] = [];
  const values: string[] = [];
  let maxTs = 0;
  for (const raw of sim.events()) {
    const text = JSON.stringify(raw);
    const r = validateEvent(JSON.parse(text));
    if (!r.ok) throw new Error(`simulator produced an invalid event: ${r.reason}`);
    events.push(r.event);
    values.push(text);
    parts.push(route(r.event.merchantId));
    maxTs = Math.max(maxTs, r.event.ts);
    if (events.length >= count) break;
  }
  // Two terminals per partition: one terminal jumping 70 min ahead alone is a wrong clock to the
  // event stage (ahead-guard.ts) and is held; a second one vouches for the jump.
  const sentinelTs = maxTs + 70 * 60_000;
  for (let p = 0; p < partitions; p++) {
    for (const t of ['a', 'b']) {
      const hb = {
        type: 'heartbeat' as const,
        eventId: `sentinel-${p}${t}`,
        ts: sentinelTs,
        terminalId: `SENTINEL-T${p}${t}`,
        merchantId: sentinelMerchant(p, route),
        region: 'SENTINEL',
      };
      events.push(hb);
      values.push(JSON.stringify(hb));
      parts.push(p);
    }
  }
  return { events, partitions: parts, values, labels: sim.labels };
}

/**
 * A merchant id of partition `p` by murmur2: the processor moves a record to its merchant's
 * partition (repartition.ts), so a sentinel named for p must hash to p.
 */
export function sentinelMerchant(p: number, route: (key: string) => number): string {
  for (let i = 0; ; i++) {
    const m = i === 0 ? `SENTINEL-M${p}` : `SENTINEL-M${p}-${i}`;
    if (route(m) === p) return m;
  }
}

export function streamRecords(s: Stream) {
  return s.events.map((e, i) => ({
    partition: s.partitions[i]!,
    key: e.merchantId,
    value: s.values[i]!,
    ts: e.ts,
  }));
}

/**
 * The alert transitions the processor must publish for a stream: the same topology in one
 * process (LocalTopology), each event in the partition the stream put it in (by merchant, as
 * the producer does). No partition is ever reported idle: the suites' streams keep every
 * partition busy until the sentinels, which jump 70 min ahead.
 */
export function expectedAlerts(s: Stream, partitions = PARTITIONS): Alert[] {
  const out: Alert[] = [];
  const topology = new LocalTopology(
    { alert: (a) => out.push(a) },
    { partitions, idleAfterMs: Number.POSITIVE_INFINITY },
  );
  // the sentinels name their partition, as the suites produce them
  s.events.forEach((e, i) => topology.push(e, s.partitions[i]));
  return out;
}
