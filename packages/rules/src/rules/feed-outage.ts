import { windowLabel, type RuleId, type Scope } from '@tillwatch/contracts';
import { M, SCOPE } from '@tillwatch/core';
import { episodeKey, type Signal } from '../episodes';
import { round } from '../stats';
import {
  METRICS,
  bufs,
  durationMs,
  emit,
  fleetRate,
  judgeRate,
  keyBaseline,
  markElevated,
  read,
  type Ctx,
} from './context';

/**
 * Incidents wider than one key, and what they explain.
 *
 * A feed or platform outage: nearly every region that carries traffic goes silent, or fails
 * with timeouts and switch errors, at the same evaluation. That is one incident at the feed,
 * the switch or the acquirer's host, not N regional ones: ONE `regional_outage` alert with the
 * reserved key `*` (FEED_KEY; a region id cannot contain `*`), evidence.trigger `feed_outage`,
 * and the regions' own outages fold into it (Signal.parent). It runs before regionalOutage, so
 * a region whose outage begins at the same evaluation folds as it opens; one already open
 * (found a moment earlier) folds from then on (Signal.foldOpen).
 *
 * What is detectable: only what reaches the rules. When nothing arrives at all, event time
 * stands still in replay and in the processor until events resume; the stages then close every
 * boundary of the gap in order (stream/schedule.ts), so the regions' windows show the gap at
 * once and this alert carries the event time at which the silence became clear, but it is
 * sent when the feed is back. A driver whose time runs on the wall clock (the embedded start)
 * sees it live. A partial outage (some events still flowing, the host failing every region's
 * authorisations) is seen as it happens.
 *
 * And the explanations the other way: a firmware version or an issuer whose extra failures
 * come from one region in outage (spreadRule, regionalExcess) is listed in that region's
 * alert (evidence.explains) and, if its own episode is open, folded into it.
 */

export const FEED_KEY = '*';

/** What the wider-incident judgements keep between evaluations (one per Monitor). */
export interface CrossNotes {
  /** this Monitor judges every region of the fleet (a single monitor, or the only rollup
   *  partition): only then can it say that nearly all of them failed together */
  wholeFleet: boolean;
  /** regions affected during the open (or recent) feed outage */
  feedRegions: Set<string>;
  /** region -> episode key -> a firmware or issuer whose excess that region's outage explains */
  explained: Map<string, Map<string, Explained>>;
}

export interface Explained {
  rule: RuleId;
  scope: Scope;
  key: string;
  /** the key's failures at that region's terminals, in its window, when last judged */
  failures: number;
  /** last evaluation it was explained at */
  at: number;
}

export function newCrossNotes(wholeFleet = true): CrossNotes {
  return { wholeFleet, feedRegions: new Set(), explained: new Map() };
}

/** an explanation is listed while its region's outage is open, or this long after it was seen */
const EXPLAINED_FOR_MS = 15 * 60_000;

interface RegionView {
  region: string;
  /** window judged (engine index) */
  w: number;
  auths: number;
  heartbeats: number;
  expectedAuths: number;
  expectedHeartbeats: number;
  errors: number;
  errorRate: number;
  basis: 'calendar_profile' | 'recent_rate' | 'none';
  silent: boolean;
  failing: boolean;
  /** back to normal: traffic and error rate (for the resolve) */
  back: boolean;
  activeAt?: number;
}

/**
 * The feed outage judgement (before regionalOutage). Every region the rules see is judged on
 * the collapse windows (short first): silent when it sent at most `feed.ratio` of the events
 * (auths + heartbeats) its profile or recent rate expects, failing when its timeouts and
 * switch errors are far above its own baseline (not the rest of the fleet's: the rest is
 * failing too). A region carries traffic when it was expected to send `feed.minExpected`
 * events or sent as many auths.
 */
export function feedOutage(ctx: Ctx): void {
  const p = ctx.cfg.rules.regional_outage;
  const notes = ctx.notes;
  if (!notes) return;
  pruneExplained(ctx, notes);
  const id = episodeKey('regional_outage', 'region', FEED_KEY);
  const open = ctx.episodes.isOpen(id);
  if (!open && !ctx.episodes.isOpenOrRecent(id, ctx.now, 3_600_000)) notes.feedRegions.clear();
  if (!p.enabled || ((!p.feed.enabled || !notes.wholeFleet) && !open)) return;
  const f = p.feed;
  const fast = ctx.win(p.collapse.fastWindow);
  const main = ctx.win(p.collapse.window);
  const wins = [...new Set([fast, main])];
  const quarter = ctx.win(p.collapse.suddenWindow);
  const slotMs = durationMs(ctx.cfg.baseline.updateEvery);
  const prior = fleetRate(ctx, METRICS.outageErrors, METRICS.auths);
  const m = bufs[0]!;
  const views: RegionView[] = [];
  for (const region of ctx.engine.keys(SCOPE.region)) {
    if (region === FEED_KEY) continue;
    const vol = ctx.regionVolume.get(region);
    const ea = vol?.auths.expected(ctx.now, 2);
    const eh = vol?.heartbeats.expected(ctx.now, 2);
    const base = Math.max(
      prior,
      keyBaseline(ctx, 'region', region, METRICS.outageErrors, METRICS.auths, prior),
    );
    let chosen: RegionView | undefined;
    let back = true;
    for (const w of wins) {
      const ms = ctx.engine.config.windowsMs[w]!;
      if (!read(ctx, 'region', region, w, m)) m.fill(0);
      const auths = m[M.auths]!;
      const heartbeats = m[M.heartbeats]!;
      const expectedAuths = ((ea?.value ?? 0) * ms) / slotMs;
      const expectedHeartbeats = ((eh?.value ?? 0) * ms) / slotMs;
      const expected = expectedAuths + expectedHeartbeats;
      const errors = METRICS.outageErrors(m);
      const v = judgeRate(errors, auths, base, p);
      const carries = expected >= f.minExpected || auths >= f.minExpected;
      if (!carries) continue;
      const seen = auths + heartbeats;
      let silent = expected >= f.minExpected && seen <= f.ratio * expected;
      if (silent && !ea?.byHour)
        silent = sudden(ctx, region, quarter, ea?.value ?? 0, eh?.value ?? 0);
      if ((expected > 0 && seen < 0.6 * expected) || !v.clear) back = false;
      const view: RegionView = {
        region,
        w,
        auths,
        heartbeats,
        expectedAuths,
        expectedHeartbeats,
        errors,
        errorRate: v.rate,
        basis: ea ? (ea.byHour ? 'calendar_profile' : 'recent_rate') : 'none',
        silent,
        failing: v.fire,
        back: true,
        ...(vol?.activeAt !== undefined ? { activeAt: vol.activeAt } : {}),
      };
      // the first window that shows it (seconds matter), else the longest judged
      if (!chosen || !(chosen.silent || chosen.failing)) chosen = view;
    }
    if (!chosen) continue;
    chosen.back = back;
    views.push(chosen);
  }
  const affected = views.filter((v) => v.silent || v.failing);
  // A closing is not a feed outage: without a profile that has seen this hour, silences that
  // began in the first minutes after a local full hour are shops closing together.
  const unprofiled = affected.every((v) => v.basis !== 'calendar_profile');
  const starts = affected
    .filter((v) => v.silent && v.activeAt !== undefined)
    .map((v) => ctx.tracker.calendar.minute(v.activeAt!, v.region))
    .sort((a, b) => a - b);
  const closing =
    unprofiled &&
    starts.length * 2 > affected.length &&
    Math.floor(starts[Math.floor(starts.length / 2)]!) < p.collapse.closingMinutes;
  const fire =
    p.feed.enabled &&
    notes.wholeFleet &&
    !closing &&
    affected.length >= f.minRegions &&
    affected.length >= f.share * views.length;
  const notBack = views.filter((v) => !v.back).length;
  const clear = notBack < f.minRegions || notBack < (f.share / 2) * views.length;
  if (!fire && !open) return;
  for (const v of affected) {
    // their volume profiles and baselines must not learn the outage as normal
    markElevated(ctx, 'region', v.region);
    notes.feedRegions.add(v.region);
  }
  const silent = affected.filter((v) => v.silent).length;
  const failing = affected.filter((v) => v.failing).length;
  const shown = affected[0] ?? views[0];
  const window = windowLabel(ctx.engine.config.windowsMs[shown?.w ?? main]!);
  const listed = [...views].sort(
    (a, b) =>
      Number(b.silent || b.failing) - Number(a.silent || a.failing) ||
      (a.region < b.region ? -1 : 1),
  );
  const sig: Signal = {
    rule: 'regional_outage',
    scope: 'region',
    key: FEED_KEY,
    fire,
    clear,
    severity: p.severity,
    window,
    metric: 'regions_affected_share',
    value: views.length > 0 ? affected.length / views.length : 0,
    threshold: f.share,
    baseline: views.length,
    count: affected.length,
    texts: 'feed_outage',
    evidence: () => ({
      trigger: 'feed_outage',
      // what the regions show: all silent (the feed or the link into it), all failing with
      // timeouts and switch errors (the acquirer's host or switch), or both
      cause:
        silent > 0 && failing > 0
          ? 'mixed'
          : failing > 0
            ? 'host_errors'
            : silent > 0
              ? 'silence'
              : 'none',
      regionsCarryingTraffic: views.length,
      affectedRegions: affected.length,
      silentRegions: silent,
      failingRegions: failing,
      regions: listed.slice(0, 100).map((v) => ({
        region: v.region,
        judged: v.silent ? 'silent' : v.failing ? 'failing' : 'ok',
        window: windowLabel(ctx.engine.config.windowsMs[v.w]!),
        auths: v.auths,
        expectedAuths: round(v.expectedAuths, 1),
        heartbeats: v.heartbeats,
        expectedHeartbeats: round(v.expectedHeartbeats, 1),
        outageErrors: v.errors,
        outageErrorRate: round(v.errorRate),
        basis: v.basis,
      })),
    }),
  };
  emit(ctx, sig);
}

/**
 * Without a profile for the hour the expectation is the last half hour's rate, which lags
 * behind a region dwindling into the night: a cut is sudden, so the longer window before it
 * still held half the events expected (as collapse.suddenWindow for one region).
 */
function sudden(ctx: Ctx, region: string, w: number, authsPerSlot: number, beatsPerSlot: number) {
  const q = bufs[2]!;
  if (!read(ctx, 'region', region, w, q)) return false;
  const slotMs = durationMs(ctx.cfg.baseline.updateEvery);
  const expected = ((authsPerSlot + beatsPerSlot) * ctx.engine.config.windowsMs[w]!) / slotMs;
  return q[M.auths]! + q[M.heartbeats]! >= 0.5 * expected;
}

/**
 * regionalOutage's hook: the episode a region's own outage folds into, when it is one of the
 * regions of an open (or just ended) feed outage, and whether it folds even if already open.
 */
export function feedParent(
  ctx: Ctx,
  region: string,
): Pick<Signal, 'parent' | 'foldOpen'> | undefined {
  if (!ctx.notes?.feedRegions.has(region)) return undefined;
  const id = episodeKey('regional_outage', 'region', FEED_KEY);
  if (!ctx.episodes.isOpenOrRecent(id, ctx.now, 3_600_000)) return undefined;
  return { parent: id, foldOpen: true };
}

/** regionalOutage's loop skips the feed's own key (it is judged here). */
export const isFeedKey = (key: string): boolean => key === FEED_KEY;

/**
 * spreadRule's hook: a firmware version or an issuer whose excess the region's outage explains
 * is noted for that region's evidence and, while the region's outage is open, folds into it
 * (also when its own episode was open before: the region's outage began after it).
 */
export function explainedBy(
  ctx: Ctx,
  rule: RuleId,
  scope: Scope,
  key: string,
  ex: { region: string; failures: number } | undefined,
): Pick<Signal, 'parent' | 'foldOpen'> | undefined {
  if (!ex || !ctx.notes) return undefined;
  const id = episodeKey(rule, scope, key);
  let byKey = ctx.notes.explained.get(ex.region);
  if (!byKey) ctx.notes.explained.set(ex.region, (byKey = new Map()));
  byKey.set(id, { rule, scope, key, failures: ex.failures, at: ctx.now });
  const parent = episodeKey('regional_outage', 'region', ex.region);
  return ctx.episodes.isOpen(parent) ? { parent, foldOpen: true } : undefined;
}

/** regionalOutage's evidence hook: what the region's outage explains (evidence.explains). */
export function explainsEvidence(
  ctx: Ctx,
  region: string,
): { rule: RuleId; scope: Scope; key: string; failures: number }[] | undefined {
  const byKey = ctx.notes?.explained.get(region);
  if (!byKey || byKey.size === 0) return undefined;
  return [...byKey]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([, e]) => ({ rule: e.rule, scope: e.scope, key: e.key, failures: e.failures }));
}

function pruneExplained(ctx: Ctx, notes: CrossNotes): void {
  for (const [region, byKey] of notes.explained) {
    const open = ctx.episodes.isOpen(episodeKey('regional_outage', 'region', region));
    for (const [id, e] of byKey) if (!open && ctx.now - e.at > EXPLAINED_FOR_MS) byKey.delete(id);
    if (byKey.size === 0) notes.explained.delete(region);
  }
}
