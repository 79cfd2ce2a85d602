import { windowLabel, type RuleId } from '@tillwatch/contracts';
import { FLEET_KEY, M, METRIC_COUNT, SCOPE } from '@tillwatch/core';
import type { RateRuleConfig } from '../config';
import type { Signal } from '../episodes';
import { poissonCdf, round } from '../stats';
import type { Failure } from '../tracker';
import {
  METRICS,
  RULE_CATS,
  bufs,
  durationMs,
  emit,
  fleetRate,
  gone,
  judgeRate,
  keyBaseline,
  markElevated,
  read,
  withOpen,
  type Ctx,
  type Metric,
  type RateVerdict,
} from './context';
import {
  breadth,
  categoryCounts,
  failuresOf,
  rateEvidence,
  scopeTerminals,
  sortedIds,
  terminalsByCount,
  topCodes,
  windowStart,
} from './evidence';

/**
 * Rules whose keys span every source partition (CROSS_PARTITION_RULES): a region, an issuer, a
 * firmware version. Their alerts are the parents that terminal and merchant alerts fold into.
 */

export function regionalOutage(ctx: Ctx): void {
  const p = ctx.cfg.rules.regional_outage;
  if (!p.enabled) return;
  const rule: RuleId = 'regional_outage';
  const m = bufs[0]!;
  const f = bufs[1]!;
  const wins = [...new Set(p.windows.map((l) => ctx.win(l)))];
  const prior = fleetRate(ctx, METRICS.outageErrors, METRICS.auths);
  const cw = ctx.win(p.collapse.window);
  const scale = ctx.engine.config.windowsMs[cw]! / durationMs(ctx.cfg.baseline.updateEvery);
  const cand = withOpen(ctx, rule, 'region', ctx.engine.keys(SCOPE.region));
  for (const key of cand.keys) {
    const base = Math.max(
      prior,
      keyBaseline(ctx, 'region', key, METRICS.outageErrors, METRICS.auths, prior),
    );
    // (a) error surge, judged on the short window first (seconds matter to SREs), and against
    // the rest of the fleet right now: an issuer outage raises every region alike.
    let surge: (RateVerdict & { w: number; k: number; n: number; rest: number }) | undefined;
    let surgeClear = true;
    let lastV: (RateVerdict & { w: number; k: number; n: number; rest: number }) | undefined;
    for (const w of wins) {
      if (!read(ctx, 'region', key, w, m)) continue;
      read(ctx, 'fleet', FLEET_KEY, w, f);
      const k = METRICS.outageErrors(m);
      const n = m[M.auths]!;
      const restN = f[M.auths]! - n;
      const rest = restN > 0 ? (METRICS.outageErrors(f) - k) / restN : 0;
      const v = { ...judgeRate(k, n, Math.max(base, rest), p), w, k, n, rest };
      if (v.suspect) markElevated(ctx, 'region', key);
      if (!v.clear) surgeClear = false;
      lastV ??= v;
      if (v.fire && !surge) surge = v;
    }
    let surgeTerminals = 0;
    if (surge) {
      const list = failuresOf(
        ctx,
        ctx.tracker.byRegion.get(key) ?? [],
        windowStart(ctx, surge.w),
        RULE_CATS.regional_outage,
      );
      surgeTerminals = breadth(list, 'terminal', ctx);
      if (surgeTerminals < p.minTerminals) surge = undefined;
    }

    // (b) traffic collapse: auths far below the region's normal for this hour, heartbeats too.
    let collapse = false;
    let collapseClear = true;
    let expectedAuths = 0;
    let expectedBeats = 0;
    let observed = 0;
    let beats = 0;
    let pCollapse = 1;
    const vol = ctx.regionVolume.get(key);
    const ea = vol?.auths.expected(ctx.now);
    const eh = vol?.heartbeats.expected(ctx.now);
    if (ea && read(ctx, 'region', key, cw, m)) {
      // Signs of life are auths and heartbeats together: a quiet region at lunch still has its
      // heartbeats (one per terminal per 5 min), a region cut off has neither.
      expectedAuths = ea.value * scale;
      expectedBeats = (eh?.value ?? 0) * scale;
      observed = m[M.auths]!;
      beats = m[M.heartbeats]!;
      const expected = expectedAuths + expectedBeats;
      const seen = observed + beats;
      const low = expected >= p.collapse.minExpected && seen <= p.collapse.ratio * expected;
      // The Poisson tail only when the cheap tests pass (counts can be thousands).
      pCollapse = low ? poissonCdf(seen, expected) : 1;
      const beatsGone = expectedBeats < 10 || beats <= p.collapse.heartbeatRatio * expectedBeats;
      collapse = low && pCollapse < p.collapse.pValue && beatsGone;
      collapseClear = seen >= 0.6 * expected;
    }
    const fire = surge !== undefined || collapse;
    const clear = surgeClear && collapseClear;
    if (!fire && !cand.open.has(key)) continue;
    const v = surge ?? lastV;
    // A collapse that has not recovered yet is still the story, not an error surge.
    const useCollapse = !surge && (collapse || !collapseClear);
    const now = ctx.now;
    const counts = Float64Array.from(m);
    const sig: Signal = {
      rule,
      scope: 'region',
      key,
      fire,
      clear,
      severity: p.severity,
      window: useCollapse
        ? p.collapse.window
        : windowLabel(ctx.engine.config.windowsMs[v?.w ?? 0]!),
      metric: useCollapse ? 'auth_volume' : 'outage_error_rate',
      value: useCollapse ? observed : (v?.rate ?? 0),
      threshold: useCollapse ? p.collapse.ratio * expectedAuths : (v?.threshold ?? 0),
      baseline: useCollapse ? expectedAuths : base,
      count: useCollapse ? Math.round(expectedAuths - observed) : (v?.k ?? 0),
      region: key,
      evidence: () => {
        const terms = ctx.tracker.byRegion.get(key) ?? new Set<string>();
        const ev: Record<string, unknown> = {
          trigger: useCollapse ? 'traffic_collapse' : 'error_surge',
          terminals: terms.size,
        };
        if (v) {
          const list = failuresOf(
            ctx,
            sortedIds(terms),
            windowStart({ ...ctx, now }, v.w),
            RULE_CATS.regional_outage,
          );
          ev.errors = v.k;
          ev.auths = v.n;
          ev.errorRate = round(v.rate);
          ev.restOfFleetErrorRate = round(v.rest);
          ev.topResponseCodes = topCodes(list.map((x) => x.f));
          ev.affectedTerminalCount = breadth(list, 'terminal', ctx);
          ev.affectedTerminals = terminalsByCount(list).map((t) => t.terminalId);
        }
        if (expectedAuths > 0) {
          ev.volume = {
            window: p.collapse.window,
            auths: observed,
            expectedAuths: round(expectedAuths, 1),
            heartbeats: beats,
            expectedHeartbeats: round(expectedBeats, 1),
            pValue: pCollapse,
          };
        }
        ev.byCategory = categoryCounts(counts);
        return ev;
      },
    };
    emit(ctx, sig);
  }
}

interface SpreadSpec {
  rule: 'issuer_degradation' | 'firmware_regression';
  scope: 'issuer' | 'firmware';
  p: RateRuleConfig;
  num: Metric;
  metric: string;
  /** failures of this key (its terminals' rings, filtered) since `from` */
  failures(key: string, from: number): { terminal: string; f: Failure }[];
  /** minimum breadth of the failures (distinct merchants or terminals) */
  breadth: { by: 'terminal' | 'merchant'; min: number };
  extra(key: string): Record<string, unknown>;
}

/**
 * Rules on a key that spans the fleet (an issuer, a software version): far above its own past
 * AND above the rest of the fleet right now, on enough volume, and spread over enough
 * merchants or terminals that no single shop explains it.
 */
function spreadRule(ctx: Ctx, spec: SpreadSpec): void {
  const { rule, scope, p } = spec;
  if (!p.enabled) return;
  const prior = fleetRate(ctx, spec.num, METRICS.auths);
  const f = bufs[1]!;
  const cand = withOpen(ctx, rule, scope, ctx.engine.keys(SCOPE[scope]));
  for (const key of cand.keys) {
    const base = keyBaseline(ctx, scope, key, spec.num, METRICS.auths, prior);
    let first: (RateVerdict & { w: number; k: number; rest: number; m: Float64Array }) | undefined;
    let firing: typeof first;
    for (const label of p.windows) {
      const w = ctx.win(label);
      const m = new Float64Array(METRIC_COUNT);
      if (!read(ctx, scope, key, w, m)) continue;
      const k = spec.num(m);
      const n = m[M.auths]!;
      const restN = read(ctx, 'fleet', FLEET_KEY, w, f) ? f[M.auths]! - n : 0;
      const rest = restN > 0 ? (spec.num(f) - k) / restN : prior;
      const v = { ...judgeRate(k, n, Math.max(base, prior, rest), p), w, k, rest, m };
      if (v.suspect) markElevated(ctx, scope, key);
      if (v.fire) {
        const wide = breadth(spec.failures(key, windowStart(ctx, w)), spec.breadth.by, ctx);
        if (wide < spec.breadth.min) v.fire = false;
      }
      first ??= v;
      if (v.fire && !firing) firing = v;
    }
    const open = cand.open.has(key);
    if (!first) {
      if (open) emit(ctx, gone(rule, scope, key, p.windows[0]!));
      continue;
    }
    if (!firing && !open) continue;
    const v = firing ?? first;
    const now = ctx.now;
    const inner = rateEvidence(ctx, rule, scope, key, v.w, v.m, {
      count: v.k,
      restOfFleetRate: round(v.rest),
      lowerBound: round(v.lower),
      ...spec.extra(key),
    });
    emit(ctx, {
      rule,
      scope,
      key,
      fire: firing !== undefined,
      clear: !firing && first.clear,
      severity: v.severity,
      window: windowLabel(ctx.engine.config.windowsMs[v.w]!),
      metric: spec.metric,
      value: v.rate,
      threshold: v.threshold,
      baseline: Math.max(base, prior, v.rest),
      count: v.k,
      evidence: () => {
        const ev = inner();
        const list = spec.failures(key, windowStart({ ...ctx, now }, v.w));
        const ms = new Map<string, number>();
        for (const x of list) {
          const mid = ctx.tracker.terminals.get(x.terminal)?.merchantId ?? '';
          ms.set(mid, (ms.get(mid) ?? 0) + 1);
        }
        ev.affectedMerchantCount = ms.size;
        ev.affectedMerchants = [...ms]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, 20)
          .map(([id]) => id);
        return ev;
      },
    });
  }
}

export function issuerDegradation(ctx: Ctx): void {
  const p = ctx.cfg.rules.issuer_degradation;
  spreadRule(ctx, {
    rule: 'issuer_degradation',
    scope: 'issuer',
    p,
    num: METRICS.issuerErrors,
    metric: 'issuer_error_rate',
    failures: (key, from) =>
      failuresOf(
        ctx,
        ctx.tracker.terminals.keys(),
        from,
        RULE_CATS.issuer_degradation,
        (x) => x.issuerId === key,
      ),
    breadth: { by: 'merchant', min: p.minMerchants },
    extra: () => ({}),
  });
}

export function firmwareRegression(ctx: Ctx): void {
  const p = ctx.cfg.rules.firmware_regression;
  spreadRule(ctx, {
    rule: 'firmware_regression',
    scope: 'firmware',
    p,
    num: METRICS.softwareFaults,
    metric: 'software_fault_rate',
    failures: (key, from) =>
      failuresOf(ctx, scopeTerminals(ctx, 'firmware', key), from, RULE_CATS.firmware_regression),
    breadth: { by: 'terminal', min: p.minTerminals },
    extra: (key) => ({ terminalsOnVersion: scopeTerminals(ctx, 'firmware', key).length }),
  });
}
