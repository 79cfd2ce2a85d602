/**
 * Throughput of the core on pre-decoded events: Engine against ReferenceEngine in the same
 * run, and the JS heap each event allocates inside ingest (the harness builds its events
 * outside the measured stretch). Prints tables, asserts nothing. Run: npm run bench -w @tillwatch/core
 */
import { allocationMeter } from './alloc-meter';
import { fmt, table, workload } from './bench-workload';
import { Engine } from './engine';
import { ReferenceEngine } from './reference';
import type { EngineEvent, WindowEngine } from './types';

const BATCH = 250_000;

function makeBatch(w: ReturnType<typeof workload>, n: number): EngineEvent[] {
  const out = new Array<EngineEvent>(n);
  for (let i = 0; i < n; i++) out[i] = w.next();
  return out;
}

/** Feeds `warm` events untimed, then `measured` timed; events are built in untimed batches. */
function run(
  engine: WindowEngine,
  terminals: number,
  warm: number,
  measured: number,
): { nsPerEvent: number; eventsPerSec: number; cpuNsPerEvent: number; allocPerEvent: number } {
  const w = workload(terminals, 60);
  for (let done = 0; done < warm; done += BATCH) {
    const b = makeBatch(w, Math.min(BATCH, warm - done));
    for (const ev of b) engine.ingest(ev);
  }
  let ns = 0n;
  let cpuUs = 0;
  let alloc = 0;
  const meter = allocationMeter();
  for (let done = 0; done < measured; done += BATCH) {
    const b = makeBatch(w, Math.min(BATCH, measured - done));
    (globalThis as { gc?: () => void }).gc?.();
    meter.start();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < b.length; i++) engine.ingest(b[i]!);
    ns += process.hrtime.bigint() - t0;
    const c = process.cpuUsage(c0);
    alloc += meter.stop();
    cpuUs += c.user + c.system;
  }
  const nsPerEvent = Number(ns) / measured;
  return {
    nsPerEvent,
    eventsPerSec: 1e9 / nsPerEvent,
    cpuNsPerEvent: (cpuUs * 1000) / measured,
    allocPerEvent: alloc / measured,
  };
}

const rows: Record<string, string | number>[] = [];
const fast100k = run(new Engine(), 100_000, 1_000_000, 2_000_000);
const ref100k = run(new ReferenceEngine(), 100_000, 200_000, 200_000);
rows.push({
  engine: 'ReferenceEngine',
  terminals: '100k',
  events: '200k after 200k warm-up',
  'ns/event': fmt(ref100k.nsPerEvent, 0),
  'cpu ns/event': fmt(ref100k.cpuNsPerEvent, 0),
  'events/s': fmt(ref100k.eventsPerSec),
  'alloc B/event': fmt(ref100k.allocPerEvent),
  'vs reference': '1.0x',
});
rows.push({
  engine: 'Engine',
  terminals: '100k',
  events: '2M after 1M warm-up',
  'ns/event': fmt(fast100k.nsPerEvent, 0),
  'cpu ns/event': fmt(fast100k.cpuNsPerEvent, 0),
  'events/s': fmt(fast100k.eventsPerSec),
  'alloc B/event': fmt(fast100k.allocPerEvent),
  'vs reference': `${fmt(ref100k.nsPerEvent / fast100k.nsPerEvent, 1)}x (cpu ${fmt(ref100k.cpuNsPerEvent / fast100k.cpuNsPerEvent, 1)}x)`,
});
const fast1m = run(new Engine(), 1_000_000, 3_000_000, 2_000_000);
rows.push({
  engine: 'Engine',
  terminals: '1M',
  events: '2M after 3M warm-up',
  'ns/event': fmt(fast1m.nsPerEvent, 0),
  'cpu ns/event': fmt(fast1m.cpuNsPerEvent, 0),
  'events/s': fmt(fast1m.eventsPerSec),
  'alloc B/event': fmt(fast1m.allocPerEvent),
  'vs reference': `${fmt(ref100k.nsPerEvent / fast1m.nsPerEvent, 1)}x (ref at 100k)`,
});
// the processor bench's fleet size (a simulated day of 2,400 terminals): every id hot in cache
const fast2k = run(new Engine(), 2_400, 1_000_000, 2_000_000);
rows.push({
  engine: 'Engine',
  terminals: '2,400',
  events: '2M after 1M warm-up',
  'ns/event': fmt(fast2k.nsPerEvent, 0),
  'cpu ns/event': fmt(fast2k.cpuNsPerEvent, 0),
  'events/s': fmt(fast2k.eventsPerSec),
  'alloc B/event': fmt(fast2k.allocPerEvent),
  'vs reference': `${fmt(ref100k.nsPerEvent / fast2k.nsPerEvent, 1)}x (ref at 100k)`,
});
table(
  `core ingest throughput, pre-decoded events, one core (node ${process.version}, ${process.arch})`,
  rows,
);
