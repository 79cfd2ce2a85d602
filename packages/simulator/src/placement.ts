import { dayStart, localDay } from './calendar';
import { HOUR_MS, MINUTE_MS, localHour, type Fleet } from './fleet';
import type { Rng } from './rng';
import { SCENARIO_SPECS } from './scenario-specs';
import { earliestClosing, regionIndexById } from './targets';
import type { IncidentScenario } from './types';

/** An outage at closing time starts this long before the region's first mall closes. */
export const BEFORE_CLOSING_MS = 5 * MINUTE_MS;

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

/**
 * Default placement of an outage at closing time: 5 minutes before a region's first mall
 * closes (that region's, when `key` names one), on a day of the run, after the same baseline as
 * placeIncident. Null when no closing time fits the run (a night run, a fleet without malls).
 */
export function placeAtClosing(
  fleet: Fleet,
  rng: Rng,
  runStart: number,
  runEnd: number,
  key?: string,
): { start: number; end: number } | null {
  const [lo, hi] = SCENARIO_SPECS['outage-at-closing'].duration;
  const span = runEnd - runStart;
  const dur = Math.round(rng.range(lo, hi) / 1000) * 1000;
  const earliest = runStart + Math.min(2 * HOUR_MS, Math.round(span * 0.25));
  const latest = runEnd - dur - Math.min(HOUR_MS, Math.round(span * 0.1));
  const regions =
    key !== undefined ? [regionIndexById(fleet, key)] : fleet.regions.map((_, i) => i);
  const closing = [...new Set(regions.map((r) => earliestClosing(fleet, r)))]
    .filter((h) => h >= 0)
    .sort((a, b) => a - b);
  const tz = fleet.utcOffsetMs;
  const starts: number[] = [];
  for (let d = localDay(earliest, tz); d <= localDay(latest, tz) + 1; d++) {
    for (const h of closing) {
      const s = dayStart(d, tz) + h * HOUR_MS - BEFORE_CLOSING_MS;
      if (s >= earliest && s <= latest) starts.push(s);
    }
  }
  if (starts.length === 0) return null;
  const start = rng.pick(starts);
  return { start, end: start + dur };
}
