import type { RuleId } from '@tillwatch/contracts';
import { METRIC_COUNT } from '@tillwatch/core';
import type { RateRuleConfig } from '../config';
import type { Signal } from '../episodes';
import { round } from '../stats';
import {
  RULE_CATS,
  bufs,
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
  failuresOf,
  merchantRegion,
  rateEvidence,
  scopeTerminals,
  terminalWhere,
  windowStart,
} from './evidence';
import { parentFor } from './inhibition';

// generic terminal/merchant rate rule

export interface RateRuleSpec {
  rule: RuleId;
  scope: 'terminal' | 'merchant';
  p: RateRuleConfig;
  num: Metric;
  den: Metric;
  metric: string;
  /** extra veto/explanation after the statistical test (e.g. region must be healthy) */
  check?(
    key: string,
    m: Float64Array,
    v: RateVerdict,
    w: number,
  ): { fire: boolean; extra?: object };
}

interface WindowVerdict extends RateVerdict {
  w: number;
  label: string;
  k: number;
  n: number;
  m: Float64Array;
  extra: object;
}

/**
 * Judge k/n on each of the rule's windows, shortest first. Fires on the first window that
 * shows the evidence; clear only when no window fires and the shortest is below the resolve
 * level, so an alert raised on the long window is not resolved by the short one.
 */
function judgeWindows(
  ctx: Ctx,
  spec: RateRuleSpec,
  key: string,
  ref: number,
): { pick: WindowVerdict; fire: boolean; clear: boolean } | undefined {
  let first: WindowVerdict | undefined;
  let firing: WindowVerdict | undefined;
  let shortestClear = true;
  for (const label of spec.p.windows) {
    const w = ctx.win(label);
    const m = new Float64Array(METRIC_COUNT);
    if (!read(ctx, spec.scope, key, w, m)) continue;
    const k = spec.num(m);
    const n = spec.den(m);
    const v: WindowVerdict = { ...judgeRate(k, n, ref, spec.p), w, label, k, n, m, extra: {} };
    if (v.suspect) markElevated(ctx, spec.scope, key);
    if (v.fire && spec.check) {
      const c = spec.check(key, m, v, w);
      v.fire = c.fire;
      v.extra = c.extra ?? {};
    }
    if (!first) {
      first = v;
      shortestClear = v.clear;
    }
    if (v.fire && !firing) firing = v;
  }
  if (!first) return undefined;
  return { pick: firing ?? first, fire: firing !== undefined, clear: !firing && shortestClear };
}

export function rateRule(ctx: Ctx, spec: RateRuleSpec, keys: Iterable<string>): void {
  const { rule, scope, p } = spec;
  if (!p.enabled) return;
  const prior = fleetRate(ctx, spec.num, spec.den);
  const probe = bufs[0]!;
  const cand = withOpen(ctx, rule, scope, keys);
  for (const key of cand.keys) {
    const isOpen = cand.open.has(key);
    // Cheap skip: nothing bad in the longest window and nothing open.
    if (!isOpen) {
      const longest = ctx.win(p.windows[p.windows.length - 1]!);
      if (!read(ctx, scope, key, longest, probe) || spec.num(probe) < p.minCount) continue;
    }
    const base = keyBaseline(ctx, scope, key, spec.num, spec.den, prior);
    const ref = Math.max(base, prior);
    const j = judgeWindows(ctx, spec, key, ref);
    if (!j) {
      emit(ctx, gone(rule, scope, key, p.windows[0]!));
      continue;
    }
    const v = j.pick;
    const where =
      scope === 'terminal' ? terminalWhere(ctx, key) : { region: merchantRegion(ctx, key) };
    const from = windowStart(ctx, v.w);
    const sig: Signal = {
      rule,
      scope,
      key,
      fire: j.fire,
      clear: j.clear,
      severity: v.severity,
      window: v.label,
      metric: spec.metric,
      value: v.rate,
      threshold: v.threshold,
      baseline: ref,
      count: v.k,
      ...(scope === 'terminal' ? where : { merchantId: key, region: where.region }),
      evidence: rateEvidence(ctx, rule, scope, key, v.w, v.m, {
        count: v.k,
        lowerBound: round(v.lower),
        ...v.extra,
      }),
    };
    if (j.fire) {
      sig.parent = parentFor(ctx, rule, scope, key, where, () =>
        failuresOf(ctx, scopeTerminals(ctx, scope, key), from, RULE_CATS[rule]).map((x) => x.f),
      );
    }
    emit(ctx, sig);
  }
}
