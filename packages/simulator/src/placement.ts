import { HOUR_MS, MINUTE_MS, localHour, type Fleet } from './fleet';
import type { Rng } from './rng';
import { SCENARIO_SPECS } from './scenario-specs';
import type { IncidentScenario } from './types';

/** Default placement of a single incident in a run: in business hours, after a baseline. */
export function placeIncident(
  fleet: Fleet,
  scenario: IncidentScenario,
  rng: Rng,
  runStart: number,
  runEnd: number,
): { start: number; end: number } {
  const [lo, hi] = SCENARIO_SPECS[scenario].duration;
  const span = runEnd - runStart;
  let dur = Math.round(rng.range(lo, hi) / 1000) * 1000;
  // A short run gets a proportionally short incident: at most 40% of it.
  dur = Math.min(dur, Math.max(60_000, Math.round(span * 0.4)));
  // Baseline first: 2 h, or a quarter of a short run, so window rules have a normal to compare to.
  const earliest = runStart + Math.min(2 * HOUR_MS, Math.round(span * 0.25));
  const latest = runEnd - dur - Math.min(HOUR_MS, Math.round(span * 0.1));
  if (latest <= earliest) return { start: earliest, end: Math.min(runEnd, earliest + dur) };
  const step = 5 * MINUTE_MS;
  const busy: number[] = [];
  const all: number[] = [];
  for (let s = earliest; s <= latest; s += step) {
    all.push(s);
    const h0 = localHour(s, fleet.utcOffsetMs);
    const h1 = localHour(s + dur, fleet.utcOffsetMs);
    // 10:00..20:00 local: most shops open, traffic near its daily high.
    if (h0 >= 10 && h1 <= 20 && h1 > h0) busy.push(s);
  }
  const starts = busy.length > 0 ? busy : all;
  const start = rng.pick(starts);
  return { start, end: start + dur };
}
