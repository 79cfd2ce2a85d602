import type { RuleId, Scope } from '@tillwatch/contracts';
import { METRIC_COUNT, type ScopeName } from '@tillwatch/core';
import type { RateRuleConfig } from '../config';
import { episodeKey, type Signal } from '../episodes';
import { poissonSf, round } from '../stats';
import {
  METRICS,
  METRICS_AT,
  RULE_CATS,
  emit,
  fleetRate,
  gone,
  judgeRate,
  keyBaseline,
  markElevated,
  read,
  windowBuf,
  withOpen,
  type Ctx,
  type Metric,
  type MetricAt,
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
import { ReadCache } from './read-cache';

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
    v: RateVerdict & { early?: boolean },
    w: number,
  ): { fire: boolean; extra?: object };
}

interface WindowVerdict extends RateVerdict {
  /** fired on thin evidence (config `early`): a warning at most, confidence medium */
  early?: boolean;
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
  /** the key has an open episode: the early test is for opening one, never for keeping one
   *  firing (a long window's leftovers would hold it open long after the fault) */
  isOpen: boolean,
): { pick: WindowVerdict; fire: boolean; clear: boolean } | undefined {
  let first: WindowVerdict | undefined;
  let firing: WindowVerdict | undefined;
  let shortestClear = true;
  const labels = spec.p.windows;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    const w = ctx.win(label);
    const m = windowBuf(i); // (the checks read numbers from it, keep nothing)
    if (!read(ctx, spec.scope, key, w, m)) continue;
    const k = spec.num(m);
    const n = spec.den(m);
    // (Object.assign, not a spread: a spread copy of the verdict allocated ~3 KB per event in
    // a replay, judgeRate's object extended in place costs a small literal)
    const v: WindowVerdict = Object.assign(judgeRate(k, n, ref, spec.p), {
      w,
      label,
      k,
      n,
      m,
      extra: {},
    });
    // (and only while the shortest window still shows bad events: an incident going on, not
    // the leftovers of one that ended in a long window)
    // (nor while this window still holds an episode of the key that resolved within it: its
    // leftovers would reopen it as "early" on the next stray failure)
    if (
      !v.fire &&
      !isOpen &&
      spec.p.early &&
      (first?.k ?? k) > 0 &&
      judgeEarly(
        k,
        n,
        ref,
        spec.p.early.above === 'factor' ? ref * spec.p.factor : v.threshold,
        spec.p.early,
      ) &&
      !ctx.episodes.isOpenOrRecent(
        episodeKey(spec.rule, spec.scope, key),
        ctx.now,
        ctx.engine.config.windowsMs[w]!,
      )
    ) {
      v.fire = true;
      v.early = true;
      v.severity = v.severity === 'critical' ? 'warning' : v.severity;
    }
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
    // a window with the full evidence wins over one that fired early
    if (v.fire && (!firing || (firing.early && !v.early))) firing = v;
  }
  if (!first) return undefined;
  return { pick: firing ?? first, fire: firing !== undefined, clear: !firing && shortestClear };
}

/**
 * The early test (config `early`): k of n bad, at least early.minCount and at a rate above the
 * rule's threshold, with k this unlikely under the reference rate (Poisson tail).
 */
export function judgeEarly(
  k: number,
  n: number,
  ref: number,
  threshold: number,
  e: { minCount: number; pValue: number },
): boolean {
  return k >= e.minCount && n > 0 && k / n > threshold && poissonSf(k, n * ref) < e.pValue;
}

/**
 * A rate rule over `keys`. `screened`: the keys are screen()'s list for this rule (the cheap
 * test passed), so no key is tested again; the rule's open keys are added either way.
 */
export function rateRule(
  ctx: Ctx,
  spec: RateRuleSpec,
  keys: Iterable<string>,
  screened = false,
): void {
  const { rule, scope, p } = spec;
  if (!p.enabled) return;
  const prior = fleetRate(ctx, spec.num, spec.den);
  // only the keys that pass the cheap test (screenWith), and every key with an open episode
  const passed = screened
    ? keys
    : screenWith(ctx, scope, [...keys], [{ rule, p, num: spec.num }]).get(rule)!;
  const cand = withOpen(ctx, rule, scope, passed);
  for (const key of cand.keys) {
    const isOpen = cand.open.has(key);
    const base = keyBaseline(ctx, scope, key, spec.num, spec.den, prior);
    const ref = Math.max(base, prior);
    const j = judgeWindows(ctx, spec, key, ref, isOpen);
    if (ctx.episodes.unchangedBy(isOpen, j?.fire === true)) continue;
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
      evidence: rateEvidence(ctx, rule, scope, key, v.w, v.m, {
        count: v.k,
        lowerBound: round(v.lower),
        ...v.extra,
      }),
    };
    // (fields set, not spread in: see judgeWindows)
    if (j.fire && v.early) sig.confidence = 'medium';
    if (scope === 'terminal') Object.assign(sig, where);
    else {
      sig.merchantId = key;
      sig.region = where.region;
    }
    if (j.fire) {
      sig.parent = parentFor(ctx, rule, scope, key, where, () =>
        failuresOf(ctx, scopeTerminals(ctx, scope, key), from, RULE_CATS[rule]).map((x) => x.f),
      );
    }
    emit(ctx, sig);
  }
}

/**
 * The cheap test's bar: fewer bad events than this in the rule's shortest and in its longest
 * window, and a key without an open episode is passed over (half the fewest that can fire).
 * Both windows: the longest window's panes are coarse (2 min), so its newest pane shows late; a
 * skip on it alone kept a build-up from being marked suspect, and the baseline learnt the
 * incident's first failures.
 */
export function skipBelow(p: RateRuleConfig): number {
  return Math.ceil(Math.min(p.minCount, p.early?.minCount ?? p.minCount) / 2);
}

/** The rate rules judged per terminal or merchant, and the count each one tests (its `num`). */
export const RATE_RULES = {
  terminal_fault_spike: {
    num: METRICS.terminalFaults,
    numAt: METRICS_AT.terminalFaults,
    scopes: ['terminal'],
  },
  terminal_network_errors: {
    num: METRICS.timeouts,
    numAt: METRICS_AT.timeouts,
    scopes: ['terminal'],
  },
  input_errors: { num: METRICS.inputErrors, numAt: METRICS_AT.inputErrors, scopes: ['terminal'] },
  /** (and the scopes of its config) */
  reversal_spike: {
    num: METRICS.reversed,
    numAt: METRICS_AT.reversed,
    scopes: ['terminal', 'merchant'],
  },
  card_testing: {
    num: METRICS.smallDeclines,
    numAt: METRICS_AT.smallDeclines,
    scopes: ['terminal', 'merchant'],
  },
} as const satisfies Partial<
  Record<RuleId, { num: Metric; numAt: MetricAt; scopes: readonly Scope[] }>
>;

export type RateRuleId = keyof typeof RATE_RULES;

/** a read's counters for a test without numAt (screenWith), reused read after read */
const screenBuf = new Float64Array(METRIC_COUNT);
/** per window position in screenWith(): where the read cache keeps the key's counters */
let screenOffsets = new Int32Array(4);

/**
 * The cheap test of every enabled rate rule of a scope over the same sorted keys (screenWith):
 * each rule's list for rateRule's `screened`; a rule not judged in the scope has no list.
 */
export function screen(
  ctx: Ctx,
  scope: 'terminal' | 'merchant',
  keys: readonly string[],
): Map<RuleId, string[]> {
  const rules: CheapTest[] = [];
  for (const rule of Object.keys(RATE_RULES) as RateRuleId[]) {
    const p = ctx.cfg.rules[rule] as RateRuleConfig & { scopes?: readonly Scope[] };
    if (!p.enabled || !(RATE_RULES[rule].scopes as readonly Scope[]).includes(scope)) continue;
    if (p.scopes && !p.scopes.includes(scope)) continue;
    rules.push({ rule, p, num: RATE_RULES[rule].num, numAt: RATE_RULES[rule].numAt });
  }
  const memo = ctx.screens?.[scope];
  if (!memo || rules.length === 0 || rules.length > 8) return screenWith(ctx, scope, keys, rules);
  return screenAgain(ctx, scope, keys, rules, memo);
}

/**
 * What screen() passed at its last call in a scope (Ctx.screens), and where the windows it
 * read ended then: while none of those ends moves, a key's counts in them are final
 * (WindowEngine.windowEnd), so its verdict stands. The terminal rules read the 15 min window
 * (30 s panes) and the hour (2 min panes): at two evaluations of three neither moves, and only
 * the keys new in the recheck list are read.
 */
export class ScreenMemo {
  /** the rules tested, in order, their windows and bars */
  sig = '';
  ends: number[] = [];
  keys: readonly string[] = [];
  /** per key of `keys`: bit i set when the i-th rule passed it */
  pass = new Uint8Array(0);
}

/** screen()'s lists from the memo where it holds, from screenWith() for the rest (then kept). */
function screenAgain(
  ctx: Ctx,
  scope: 'terminal' | 'merchant',
  keys: readonly string[],
  rules: readonly CheapTest[],
  memo: ScreenMemo,
): Map<RuleId, string[]> {
  let sig = '';
  const ends: number[] = [];
  for (const t of rules) {
    const s = ctx.win(t.p.windows[0]!);
    const l = ctx.win(t.p.windows[t.p.windows.length - 1]!);
    sig += `${t.rule}:${s}:${l}:${skipBelow(t.p)},`; // (the bar too: rules can be set anew)
    ends.push(windowEndOf(ctx, s), windowEndOf(ctx, l));
  }
  // (NaN, an engine that promises no end, never equals: every key is read)
  const holds = sig === memo.sig && ends.every((e, i) => e === memo.ends[i]);
  const bits = new Uint8Array(keys.length);
  /** the keys whose verdict is not in the memo, in `keys`' order, and where they are */
  const fresh: string[] = [];
  const at: number[] = [];
  if (holds) {
    // both lists sorted (the recheck's): a walk; a key it does not find is read again
    const mk = memo.keys;
    let j = 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      while (j < mk.length && mk[j] !== k && mk[j]! < k) j++;
      if (j < mk.length && mk[j] === k) bits[i] = memo.pass[j++]!;
      else {
        fresh.push(k);
        at.push(i);
      }
    }
  }
  const read = holds ? fresh : keys;
  let all: Map<RuleId, string[]> | undefined;
  if (read.length) {
    const got = screenWith(ctx, scope, read, rules);
    if (!holds) all = got;
    rules.forEach((t, r) => {
      // each list is in `read`'s order: one walk sets the rule's bit on its keys
      const list = got.get(t.rule)!;
      let j = 0;
      for (let i = 0; i < read.length && j < list.length; i++) {
        if (read[i] === list[j]) {
          bits[holds ? at[i]! : i]! |= 1 << r;
          j++;
        }
      }
    });
  }
  memo.sig = sig;
  memo.ends = ends;
  memo.keys = keys.slice();
  memo.pass = bits;
  if (all) return all;
  const out = new Map<RuleId, string[]>();
  rules.forEach((t, r) => {
    const list: string[] = [];
    const bit = 1 << r;
    for (let i = 0; i < keys.length; i++) if (bits[i]! & bit) list.push(keys[i]!);
    out.set(t.rule, list);
  });
  return out;
}

function windowEndOf(ctx: Ctx, w: number): number {
  return ctx.engine.windowEnd ? ctx.engine.windowEnd(w) : Number.NaN;
}

/** A rule's cheap test: its count (`num`) in its shortest and longest window, and its bar. */
export interface CheapTest {
  rule: RuleId;
  p: RateRuleConfig;
  num: Metric;
  /** `num` read in place (METRICS_AT); without it the screen copies each read into a buffer */
  numAt?: MetricAt;
}

/** a cheap test's count in the read at offset `o` of `c` (ReadCache.readAt; -1: untracked, 0) */
function countAt(t: Pick<CheapTest, 'num' | 'numAt'>, c: Float64Array, o: number): number {
  if (o < 0) return 0;
  if (t.numAt) return t.numAt(c, o);
  for (let i = 0; i < METRIC_COUNT; i++) screenBuf[i] = c[o + i]!;
  return t.num(screenBuf);
}

/**
 * The cheap test of several rules over the same keys, key by key: each window some rule tests
 * is read once per key (through the evaluation's read cache), not once per rule and window (the
 * terminal rules test 15m and 1h, 1h, 5m and 15m: 9 reads of a key became 3, the rules' largest
 * cost in a profile). Returns each rule's passing keys, in `keys`' order.
 */
export function screenWith(
  ctx: Ctx,
  scope: ScopeName,
  keys: readonly string[],
  rules: readonly CheapTest[],
): Map<RuleId, string[]> {
  const windows: number[] = [];
  const at = (w: number): number => {
    let i = windows.indexOf(w);
    if (i < 0) i = windows.push(w) - 1;
    return i;
  };
  const tests = rules.map(({ rule, p, num, numAt }) => ({
    num,
    numAt,
    longest: at(ctx.win(p.windows[p.windows.length - 1]!)),
    shortest: at(ctx.win(p.windows[0]!)),
    below: skipBelow(p),
    out: [] as string[],
    rule,
  }));
  // each window read once per key, its counters where the read cache keeps them (readAt)
  const cache = (ctx.reads ??= new ReadCache());
  const off =
    screenOffsets.length >= windows.length ? screenOffsets : new Int32Array(windows.length);
  screenOffsets = off;
  for (const key of keys) {
    for (let i = 0; i < windows.length; i++) {
      off[i] = cache.readAt(ctx.engine, scope, key, windows[i]!);
    }
    const c = cache.counters; // (after the reads: a read may grow it)
    for (const t of tests) {
      const inLongest = countAt(t, c, off[t.longest]!);
      const inShortest = t.shortest !== t.longest ? countAt(t, c, off[t.shortest]!) : 0;
      if (Math.max(inLongest, inShortest) >= t.below) t.out.push(key);
    }
  }
  return new Map(tests.map((t) => [t.rule, t.out]));
}
