import { writeFileSync } from 'node:fs';
import { runWeek } from './week';

/**
 * One seed's week in a process of its own (parallel.ts starts one per seed, two at a time, so a
 * 2-core machine judges two weeks at once): `node --import tsx week-run.ts <seed> <out.json>`.
 */
const [seed, out] = process.argv.slice(2);
if (seed === undefined || out === undefined || !/^\d+$/.test(seed)) {
  console.error('usage: week-run.ts <seed> <out.json>');
  process.exit(64);
}
const r = await runWeek(Number(seed));
writeFileSync(out, JSON.stringify(r));
