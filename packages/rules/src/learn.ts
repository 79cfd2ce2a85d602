import { FLEET_KEY, M, METRIC_COUNT, SCOPE, type ScopeName } from '@tillwatch/core';
import { DayFloor, HourlyProfile } from './baseline';
import { durationMs, type Ctx, type RegionVolume } from './rules';
import type { Tracker } from './tracker';

/** A region's volume and heartbeat profiles, by the slots of its calendar. */
export function newRegionVolume(tracker: Tracker, region: string, slotMs: number): RegionVolume {
  // Through the tracker: a reloaded rules file may bring another calendar.
  const slotOf = (t: number) => tracker.calendar.slot(t, region);
  return {
    region,
    auths: new HourlyProfile(slotMs, slotOf),
    heartbeats: new HourlyProfile(slotMs, slotOf),
    floor: new DayFloor(),
  };
}

/**
 * One closed window per key into its baseline, unless the key is in or near an episode.
 * Terminals and merchants learn only if they were active since the last update (`active`).
 */
export function updateBaselines(
  ctx: Ctx,
  active: { terminals: ReadonlySet<string>; merchants: ReadonlySet<string> },
): void {
  const w = ctx.win(ctx.cfg.baseline.updateEvery);
  const m = new Float64Array(METRIC_COUNT);
  const now = ctx.now;
  const learn = (scope: ScopeName, keys: Iterable<string>) => {
    const store = ctx.baselines[scope];
    for (const key of keys) {
      if (ctx.elevated.has(`${scope}|${key}`)) continue;
      if (scope !== 'fleet' && ctx.episodes.busy(scope as never, key)) continue;
      if (ctx.engine.read(SCOPE[scope], key, w, m)) store.add(key, m, now);
    }
  };
  learn('terminal', [...active.terminals].sort());
  learn('merchant', [...active.merchants].sort());
  // only where their rules run (the rollup stage, or one whole monitor): a source partition's
  // share of an issuer teaches nothing
  if (ctx.cfg.rules.firmware_regression.enabled) learn('firmware', ctx.engine.keys(SCOPE.firmware));
  if (ctx.cfg.rules.issuer_degradation.enabled) learn('issuer', ctx.engine.keys(SCOPE.issuer));
  learn('fleet', [FLEET_KEY]);
  // Regions: error baselines as above, plus volume and heartbeats by hour of day, unless the
  // window looks like a collapse (it would teach the collapse as normal).
  const slot = durationMs(ctx.cfg.baseline.updateEvery);
  for (const key of ctx.engine.keys(SCOPE.region)) {
    // a region with nothing in the window (its shops closed) teaches that too
    if (!ctx.engine.read(SCOPE.region, key, w, m)) m.fill(0);
    let vol = ctx.regionVolume.get(key);
    if (!vol) {
      vol = newRegionVolume(ctx.tracker, key, slot);
      ctx.regionVolume.set(key, vol);
    }
    // Not while an outage is open or its condition held this round: the collapse would be
    // learnt as normal. The first minutes before it fires move the EWMA by 15% at most.
    if (ctx.episodes.busy('region', key) || ctx.elevated.has(`region|${key}`)) continue;
    vol.auths.add(now, m[M.auths]!);
    vol.heartbeats.add(now, m[M.heartbeats]!);
    vol.floor.add(now, m[M.auths]! + m[M.heartbeats]!);
    ctx.baselines.region.add(key, m, now);
  }
}
