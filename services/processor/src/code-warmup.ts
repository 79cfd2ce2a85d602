import { decodeEventFast, fastDecodeStats } from '@tillwatch/contracts';
import { createSimulation } from '@tillwatch/simulator';
import { LocalTopology } from '@tillwatch/stream';
import type { ProcessorEnv } from './config';
import { writeEvent } from './event-rows';
import { PaneTickWriter } from './pane-rows';
import type { RowChunks } from './store';
import { TsvWriter } from './tsv';

export interface CodeWarmup {
  /** simulated events run through */
  events: number;
  /** pane rows and events_raw bytes the writers built (and threw away) */
  paneRows: number;
  eventRowBytes: number;
  alerts: number;
  ms: number;
}

/**
 * The processor's hot code run once on a simulated stream before the process joins its group
 * (main.ts): the decoder on JSON bytes, the event and rollup stages with the default rules (the
 * same topology, LocalTopology, in memory), and the events_raw and pane-row writers, with
 * everything they produce thrown away. No Kafka, no ClickHouse, nothing kept.
 *
 * Why: a freshly started process runs its first tens of thousands of events in V8's baseline
 * tiers, about twice the CPU per event, while its partitions' recovery has just let a backlog
 * build; at the start of a live stream that was the slowest stretch of the board's latency
 * (docs/performance-design.md, "Latency to the board"). Warmed before the join, the cost is paid
 * while the partitions are still served by whoever held them. It is per process, not per
 * createProcessor().start(): a second processor in the same process finds the code warm.
 *
 * The decoder's fast-path counters are left as they were.
 */
export function warmUpCode(
  cfg: Pick<ProcessorEnv, 'ALLOWED_LATENESS' | 'SETTLEMENT_DEADLINE' | 'REVERSAL_GRACE'>,
  events: number,
): CodeWarmup {
  const t0 = performance.now();
  const out: CodeWarmup = { events: 0, paneRows: 0, eventRowBytes: 0, alerts: 0, ms: 0 };
  if (events <= 0) return out;
  const decoded = { ...fastDecodeStats };
  const panes = new PaneTickWriter();
  const rows = new TsvWriter();
  const sink: RowChunks = { chunks: [], count: 0 };
  const drain = () => {
    panes.drainInto(sink);
    out.paneRows += sink.count;
    sink.chunks.length = 0;
    sink.count = 0;
    rows.drainInto(sink);
    for (const c of sink.chunks) out.eventRowBytes += c.length;
    sink.chunks.length = 0;
    sink.count = 0;
  };
  const topology = new LocalTopology(
    {
      alert: () => void out.alerts++,
      panes: (scope, key, start, m, merchantId, region) =>
        panes.add(scope, key, start, m, merchantId, region),
      dead: () => {},
    },
    {
      // the engine settings the processor's stages get (partition-stages.ts)
      engine: {
        allowedLatenessMs: cfg.ALLOWED_LATENESS,
        settlementDeadlineMs: cfg.SETTLEMENT_DEADLINE,
        reversalGraceMs: cfg.REVERSAL_GRACE,
      },
    },
  );
  // a weekday's morning, Beijing time: trade rising, the scenarios' faults among it
  const sim = createSimulation({
    seed: 7,
    scenario: 'all',
    start: Date.UTC(2026, 2, 3, 1, 0, 0),
    durationMs: 12 * 3_600_000,
  });
  const insertedAt = Math.floor(Date.now() / 1000);
  for (const ev of sim.events()) {
    if (out.events >= events) break;
    const raw = Buffer.from(JSON.stringify(ev));
    const d = decodeEventFast(raw);
    out.events++;
    if (!d.ok) continue;
    writeEvent(rows, d.event, 0, String(out.events), raw, insertedAt);
    topology.push(d.event);
    if ((out.events & 4095) === 0) drain();
  }
  topology.end();
  drain();
  Object.assign(fastDecodeStats, decoded);
  out.ms = Math.round(performance.now() - t0);
  return out;
}
