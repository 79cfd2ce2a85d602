/**
 * `npm run bench -w @tillwatch/stream`: what the topology costs per event beyond the core, on
 * the same simulated events in one process. The reference is the core alone (one Engine
 * ingesting every event); the topology is LocalTopology, the event and rollup stages the
 * processor, the embedded start and replay all run (4 partitions, the default rules, the
 * window-stats rows prepared for a sink that only counts them), without Kafka, ClickHouse or
 * JSON. Prints CPU per event, JS heap allocated per event (allocationMeter) and stats rows per
 * event, each against the reference; best of 3 interleaved rounds. A second table splits the
 * topology's CPU into a per-event and a per-evaluation part (the same events with the rules
 * evaluated every 60 s of event time instead of 10 s). Asserts nothing.
 */
import { Engine } from '@tillwatch/core';
import { parseWindowLabel, validateEvent, type TerminalEvent } from '@tillwatch/contracts';
import { DEFAULT_RULES_CONFIG } from '@tillwatch/rules';
import { createSimulation } from '@tillwatch/simulator';
import { allocationMeter } from '@tillwatch/core/alloc-meter';
import { DEFAULT_PARTITIONS, LocalTopology } from './topology';

const HOURS = Number(process.argv[2] ?? 3);
const sim = createSimulation({
  seed: 2,
  scenario: 'all',
  // a weekday's busy afternoon and evening (shops closing), Beijing time
  start: Date.UTC(2026, 2, 3, 8, 0, 0),
  durationMs: HOURS * 3_600_000,
});
// validated as the processor's decoder hands them over (ts in epoch ms), outside the measure
const events: TerminalEvent[] = [];
for (const raw of sim.events()) {
  const r = validateEvent(raw);
  if (r.ok) events.push(r.event);
}
const gc = (globalThis as { gc?: () => void }).gc;

interface Run {
  cpuUs: number;
  bytes: number;
  rows: number;
  alerts: number;
}

function measure(body: (count: { rows: number; alerts: number }) => void): Run {
  gc?.();
  const count = { rows: 0, alerts: 0 };
  const meter = allocationMeter();
  meter.start();
  const c0 = process.cpuUsage();
  body(count);
  const c = process.cpuUsage(c0);
  return { cpuUs: c.user + c.system, bytes: meter.stop(), ...count };
}

const core = (): Run =>
  measure(() => {
    const e = new Engine();
    for (const ev of events) e.ingest(ev);
  });

/** the rules' cadence of the second measure, to split the cost (the default is 10 s) */
const SPARSE = '60s';

/** `evaluateEvery`: the rules' cadence in event time (default 10 s; SPARSE to split the cost) */
const topology = (evaluateEvery?: string): Run =>
  measure((count) => {
    const t = new LocalTopology(
      {
        alert: () => void count.alerts++,
        panes: () => void count.rows++,
        dead: () => {},
      },
      evaluateEvery ? { rules: { evaluateEvery } } : {},
    );
    for (const ev of events) t.push(ev);
    t.end();
  });

const best = (runs: Run[]): Run => runs.reduce((a, b) => (b.cpuUs < a.cpuUs ? b : a));
const coreRuns: Run[] = [];
const topoRuns: Run[] = [];
const sparseRuns: Run[] = [];
for (let r = 0; r < 3; r++) {
  coreRuns.push(core());
  topoRuns.push(topology());
  sparseRuns.push(topology(SPARSE));
}
const c = best(coreRuns);
const t = best(topoRuns);
const t60 = best(sparseRuns);
const n = events.length;
const row = (what: string, x: Run) => ({
  what,
  'µs CPU/event': Number((x.cpuUs / n).toFixed(2)),
  'events/s (CPU)': Math.round(n / (x.cpuUs / 1e6)),
  'KB allocated/event': Number((x.bytes / n / 1000).toFixed(2)),
  'CPU vs core': Number((x.cpuUs / c.cpuUs).toFixed(1)),
  'pane rows/event': Number((x.rows / n).toFixed(2)),
  alerts: x.alerts,
});
console.log(
  `\nThe topology against the core alone: ${n.toLocaleString()} simulated events (${HOURS} h, seed 2), one process, best of 3 interleaved rounds (node ${process.version})`,
);
console.table([
  row('core Engine alone (reference)', c),
  row('LocalTopology: stages, rules, rollups, pane rows', t),
]);

// What the rules' evaluations cost apart from the events: the same events with an evaluation
// every 60 s of event time instead of the default 10 s. Read as cost = per event + per
// evaluation, the evaluations' part at the default is SPARSE / (SPARSE - default) of the
// difference (6/5). Every stream here runs event time far
// faster than the wall clock (these 3 h in seconds), so this part weighs far more in the
// benchmarks, a replay or a catch-up than at live rates (one evaluation per 10 s of wall time).
const every = parseWindowLabel(DEFAULT_RULES_CONFIG.evaluateEvery);
const sparse = parseWindowLabel(SPARSE);
const perEval10 = ((t.cpuUs - t60.cpuUs) * sparse) / (sparse - every);
// an event and a rollup stage per partition, each evaluating once per `every` of event time
const stageEvals = (HOURS * 3_600_000 * 2 * DEFAULT_PARTITIONS) / every;
console.log(
  `\nThe topology's CPU split: per event and per evaluation (rules every 10 s of event time against every 60 s; ${stageEvals.toLocaleString()} stage evaluations at 10 s)`,
);
console.table([
  {
    part: 'per event (fitted)',
    'µs CPU/event': Number(((t.cpuUs - perEval10) / n).toFixed(2)),
  },
  {
    part: 'per evaluation, at the default 10 s',
    'µs CPU/event': Number((perEval10 / n).toFixed(2)),
    share: `${Math.round((perEval10 / t.cpuUs) * 100)} %`,
    'µs per stage evaluation': Math.round(perEval10 / stageEvals),
  },
  {
    part: 'measured with rules every 60 s (same events)',
    'µs CPU/event': Number((t60.cpuUs / n).toFixed(2)),
    alerts: t60.alerts,
  },
]);
