/**
 * Generation speed of the default fleet (2,400 terminals), 6 h from 08:00 China time, measured
 * three ways in one run: generating only, generating + JSON.stringify (what writeScenario and a
 * Kafka producer pay), generating + zod validation (what a consumer's decoder pays). Ratios are
 * against "generate only" measured in the same run; nothing is asserted.
 *   npm run bench -w @tillwatch/simulator
 */
import { validateEvent } from '@tillwatch/contracts';
import { DEFAULT_START, createSimulation } from './simulation';

const HOUR = 3_600_000;
const opts = { seed: 1, start: DEFAULT_START + 8 * HOUR, durationMs: 6 * HOUR } as const;

function measure(
  name: string,
  work: (ev: unknown) => number,
): { name: string; n: number; ms: number } {
  const sim = createSimulation(opts);
  let sink = 0;
  const t0 = performance.now();
  for (let ev = sim.nextEvent(); ev !== undefined; ev = sim.nextEvent()) sink += work(ev);
  const ms = performance.now() - t0;
  if (sink < 0) console.log(sink); // keeps the work observable
  return { name, n: sim.counts.total, ms };
}

// Warm-up so the first row is not paying for JIT compilation.
measure('warm-up', () => 0);
const rows = [
  measure('generate', () => 0),
  measure('generate + JSON.stringify', (ev) => JSON.stringify(ev).length),
  measure('generate + validateEvent (zod)', (ev) => (validateEvent(ev).ok ? 1 : 0)),
];
const base = rows[0]!;
console.log(`simulator: ${base.n} events = 6 simulated hours of the default fleet (08:00-14:00)`);
console.log('| variant | events/s | time vs generate |');
console.log('|---|---:|---:|');
for (const r of rows) {
  const rate = Math.round((r.n / r.ms) * 1000);
  console.log(`| ${r.name} | ${rate.toLocaleString('en-US')} | ${(r.ms / base.ms).toFixed(2)}x |`);
}
