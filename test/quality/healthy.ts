/**
 * `npm run quality:healthy -w @tillwatch/e2e -- <fleet> <seed> [days] [start]`: one simulated week with
 * no incident through `replay` (the processor's topology), on a fleet shaped unlike the quality
 * suite's, and every episode it raises: on a healthy stream each one is a false alert. Prints
 * one JSON line and each `critical` episode; asserts nothing.
 *
 * The quality suite's weeks have 300 terminals in 12 regions (plan.ts); an outside stream may
 * not. These fleets ask what the rules do with other shapes: `sparse` (60 tills, five a region:
 * a region is one or two shops), `dense` (1,200), `malls` (nine shops in ten in malls that close
 * on the minute), `fewregions` (3), `quiet` and `busy` (0.3× and 3× the volume), `golden` (the
 * week of 1 October, a holiday week), `base` (the suite's fleet).
 */
import type { FleetOptions } from '@tillwatch/simulator';
import { WEEK_FLEET, WEEK_START } from './plan';
import { episodesOf } from './score';
import { DROPPED, jsonl, replayLines, weekSimulation } from './week';

const FLEETS: Record<string, { fleet: FleetOptions; start?: number; volumeScale?: number }> = {
  base: { fleet: WEEK_FLEET },
  sparse: { fleet: { terminals: 60, merchants: 20 } },
  dense: { fleet: { terminals: 1200, merchants: 400 } },
  malls: { fleet: { ...WEEK_FLEET, mallShare: 0.9 } },
  fewregions: { fleet: { ...WEEK_FLEET, regions: 3 } },
  quiet: { fleet: WEEK_FLEET, volumeScale: 0.3 },
  busy: { fleet: WEEK_FLEET, volumeScale: 3 },
  golden: { fleet: WEEK_FLEET, start: Date.parse('2026-09-28T00:00:00+08:00') },
};

const [name = 'sparse', seedArg = '777', daysArg = '7', startArg] = process.argv.slice(2);
const shape = FLEETS[name];
if (!shape) {
  console.error(`unknown fleet ${name}: one of ${Object.keys(FLEETS).join(', ')}`);
  process.exit(2);
}
const sim = weekSimulation(Number(seedArg), {
  fleet: shape.fleet,
  start: startArg ? Date.parse(startArg) : (shape.start ?? WEEK_START),
  days: Number(daysArg),
  ...(shape.volumeScale ? { volumeScale: shape.volumeScale } : {}),
});
const { transitions, faults } = await replayLines(jsonl(sim));
const episodes = episodesOf(transitions);
const by: Record<string, number> = {};
for (const e of episodes) by[`${e.rule}/${e.severity}`] = (by[`${e.rule}/${e.severity}`] ?? 0) + 1;
console.log(
  JSON.stringify({
    fleet: name,
    seed: Number(seedArg),
    days: Number(daysArg),
    ...(DROPPED.all.length > 0 ? { dropped: DROPPED.all } : {}),
    events: sim.counts.total,
    episodes: episodes.length,
    by,
    faults: faults.length,
  }),
);
for (const e of episodes) {
  if (e.severity === 'critical') {
    console.log(
      `  critical ${e.rule} ${e.scope}:${e.key} first fired ${new Date(e.firedAt).toISOString()}`,
    );
  }
}
for (const f of faults) console.log(`  fault ${f}`);
