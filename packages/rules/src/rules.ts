import {
  CATEGORIES,
  INPUT_ERROR_CODES,
  parseWindowLabel,
  windowLabel,
  type Category,
  type RuleId,
  type Scope,
  type Severity,
} from '@tillwatch/contracts';
import {
  FLEET_KEY,
  M,
  METRIC_COUNT,
  SCOPE,
  type ScopeName,
  type WindowEngine,
} from '@tillwatch/core';
import { baselineRate, type BaselineStore, type HourlyProfile } from './baseline';
import type { RateRuleConfig, RulesConfig } from './config';
import { episodeKey, type AlertRecord, type EpisodeBook, type Signal } from './episodes';
import { poissonCdf, poissonSf, round, wilsonLower } from './stats';
import type { Failure, TerminalState, Tracker } from './tracker';

/**
 * The rule catalogue (CONTRACT.md §3). Each rule reads engine windows, compares them with the
 * key's own baseline and the fleet's, and hands a Signal to the episode book. The decision is
 * always "a minimum count AND a lower confidence bound above the reference", never a bare
 * ratio, and always excludes the cardholder category from anything that blames a terminal.
 */

type Metric = (m: Float64Array) => number;

export const METRICS = {
  auths: (m) => m[M.auths]!,
  failures: (m) => m[M.auths]! - m[M.approved]!,
  /** the terminal's own faults: terminal-side codes and unknown codes, never cardholder */
  terminalFaults: (m) => m[M.terminal]! + m[M.other]!,
  timeouts: (m) => m[M.timeout]!,
  /** what a network or host outage looks like from a region: timeouts and issuer/switch errors */
  outageErrors: (m) => m[M.timeout]! + m[M.issuer]!,
  issuerErrors: (m) => m[M.issuer]! + m[M.timeout]!,
  /** what a bad software version does: terminal-side codes, timeouts, unknown codes */
  softwareFaults: (m) => m[M.terminal]! + m[M.timeout]! + m[M.other]!,
  reversals: (m) => m[M.reversals]!,
  charged: (m) => m[M.unreversedTimeouts]! + m[M.reversalsFailed]!,
  unsettled: (m) => m[M.unsettled]!,
  settlementDue: (m) => m[M.settlementDue]!,
  inputErrors: (m) => m[M.inputErrors]!,
  smallDeclines: (m) => m[M.smallDeclines]!,
} satisfies Record<string, Metric>;

/** Which failure categories each rule's evidence ring filter keeps. */
const RULE_CATS: Partial<Record<RuleId, readonly Category[]>> = {
  terminal_fault_spike: ['terminal', 'other'],
  terminal_network_errors: ['timeout'],
  regional_outage: ['timeout', 'issuer'],
  issuer_degradation: ['issuer', 'timeout'],
  firmware_regression: ['terminal', 'timeout', 'other'],
  card_testing: ['cardholder', 'issuer', 'terminal', 'security', 'timeout', 'other'],
};

/**
 * Rules whose keys (region, issuer, firmware version) span every source partition: the Kafka
 * processor runs them in its rollup stage, over merged windows and the failures the source
 * partitions forward, not per partition.
 */
export const CROSS_PARTITION_RULES = [
  'regional_outage',
  'issuer_degradation',
  'firmware_regression',
] as const satisfies readonly RuleId[];

/** Failure categories the cross-partition rules read from the tracker (breadth and evidence). */
export const CROSS_PARTITION_CATEGORIES: readonly Category[] = [
  ...new Set(CROSS_PARTITION_RULES.flatMap((r) => RULE_CATS[r] ?? [])),
];

export interface RegionVolume {
  auths: HourlyProfile;
  heartbeats: HourlyProfile;
}

export interface Ctx {
  now: number;
  engine: WindowEngine;
  cfg: RulesConfig;
  /** engine window index of a label (validated when the rules were set) */
  win(label: string): number;
  tracker: Tracker;
  episodes: EpisodeBook;
  baselines: Record<ScopeName, BaselineStore>;
  regionVolume: Map<string, RegionVolume>;
  /** scope|key of keys whose fire condition held: their baselines do not learn this round */
  elevated: Set<string>;
  out: AlertRecord[];
  /** sorted lastSeen of the terminals quiet for at least terminal_silent.minGap */
  quietTimes?: Float64Array;
  /** counters read in this evaluation, per scope, window and key: rules share one read */
  reads?: ReadCache;
}

// ---------------------------------------------------------------------------------------------
// shared helpers

const bufs: Float64Array[] = Array.from({ length: 4 }, () => new Float64Array(METRIC_COUNT));

/**
 * The counters read in one evaluation: six terminal rules look at the same 15m and 1h windows
 * of a terminal, so each scope/window/key is read from the engine once. Keyed by the key string
 * in one map per scope and window (a `${scope}|${w}|${key}` string per lookup cost a concat and
 * a fresh hash every time), counters in one reused array (no Float64Array per read).
 */
export class ReadCache {
  private readonly maps = new Map<number, Map<string, number>>();
  private pool = new Float64Array(256 * METRIC_COUNT);
  private used = 0;

  /** forget the previous evaluation's reads */
  reset(): void {
    for (const m of this.maps.values()) m.clear();
    this.used = 0;
  }

  read(engine: WindowEngine, scope: ScopeName, key: string, w: number, buf: Float64Array): boolean {
    const id = SCOPE[scope] * 64 + w;
    let map = this.maps.get(id);
    if (!map) this.maps.set(id, (map = new Map()));
    let at = map.get(key);
    if (at === undefined) {
      if (!engine.read(SCOPE[scope], key, w, buf)) {
        map.set(key, -1);
        return false;
      }
      if ((this.used + 1) * METRIC_COUNT > this.pool.length) {
        const grown = new Float64Array(this.pool.length * 2);
        grown.set(this.pool);
        this.pool = grown;
      }
      at = this.used++ * METRIC_COUNT;
      this.pool.set(buf, at);
      map.set(key, at);
      return true;
    }
    if (at < 0) return false;
    const pool = this.pool;
    for (let i = 0; i < METRIC_COUNT; i++) buf[i] = pool[at + i]!;
    return true;
  }
}

/** Read a window's counters into buf, once per evaluation per scope/key/window (ReadCache). */
function read(ctx: Ctx, scope: ScopeName, key: string, w: number, buf: Float64Array): boolean {
  return (ctx.reads ??= new ReadCache()).read(ctx.engine, scope, key, w, buf);
}

/** Fleet rate of num/den: its EWMA baseline once it has an hour of windows, else the longest
 *  window now. A floor keeps a spotless fleet from making any single failure "infinitely" odd. */
export function fleetRate(ctx: Ctx, num: Metric, den: Metric, floor = 0.0005): number {
  const e = ctx.baselines.fleet.get(FLEET_KEY);
  if (e && e.weight >= 6 && den(e.sums) > 0) return Math.max(floor, num(e.sums) / den(e.sums));
  const b = bufs[3]!;
  const longest = ctx.engine.config.windowsMs.length - 1;
  if (read(ctx, 'fleet', FLEET_KEY, longest, b) && den(b) > 0) {
    return Math.max(floor, num(b) / den(b));
  }
  return floor;
}

function keyBaseline(
  ctx: Ctx,
  scope: ScopeName,
  key: string,
  num: Metric,
  den: Metric,
  prior: number,
): number {
  return baselineRate(ctx.baselines[scope].get(key), num, den, prior, ctx.cfg.baseline.priorWeight);
}

interface RateVerdict {
  /** significantly above the reference, even if not yet above the threshold: the baseline must
   *  not learn this window (it would chase an incident that is still building up) */
  suspect: boolean;
  fire: boolean;
  clear: boolean;
  rate: number;
  lower: number;
  threshold: number;
  severity: Severity;
}

/** k bad of n against reference rate `ref`: fire on min count AND Wilson lower bound. */
export function judgeRate(k: number, n: number, ref: number, p: RateRuleConfig): RateVerdict {
  const threshold = Math.min(0.95, Math.max(ref * p.factor, ref + p.minExcess));
  const rate = n > 0 ? k / n : 0;
  const lower = wilsonLower(k, n, p.z);
  const fire = k >= p.minCount && lower > threshold;
  const suspect = k >= Math.ceil(p.minCount / 2) && lower > ref;
  const clear = k < Math.ceil(p.minCount / 2) || rate < threshold * p.resolveRatio;
  const severity: Severity =
    p.criticalRate > 0 && rate >= p.criticalRate && fire ? 'critical' : p.severity;
  return { suspect, fire, clear, rate, lower, threshold, severity };
}

function categoryCounts(m: Float64Array): Record<Category, number> {
  const out = {} as Record<Category, number>;
  CATEGORIES.forEach((c, i) => (out[c] = m[M.approved + i]!));
  return out;
}

function topCodes(failures: readonly Failure[], n = 5): { code: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(f.code, (counts.get(f.code) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([code, count]) => ({ code, count }));
}

function windowStart(ctx: Ctx, w: number): number {
  const pane = ctx.engine.config.panesMs[w]!;
  const end = Math.floor(ctx.now / pane) * pane;
  return end - ctx.engine.config.windowsMs[w]!;
}

function failuresOf(
  ctx: Ctx,
  terminals: Iterable<string>,
  from: number,
  cats?: readonly Category[],
  filter?: (f: Failure) => boolean,
): { terminal: string; f: Failure }[] {
  const out: { terminal: string; f: Failure }[] = [];
  for (const id of terminals) {
    const t = ctx.tracker.terminals.get(id);
    if (!t) continue;
    for (const f of ctx.tracker.failuresSince(t, from)) {
      if (cats && !cats.includes(f.cat)) continue;
      if (filter && !filter(f)) continue;
      out.push({ terminal: id, f });
    }
  }
  return out;
}

function terminalsByCount(
  list: { terminal: string; f: Failure }[],
  n = 20,
): { terminalId: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const x of list) counts.set(x.terminal, (counts.get(x.terminal) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([terminalId, count]) => ({ terminalId, count }));
}

function sortedIds(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

function scopeTerminals(ctx: Ctx, scope: Scope, key: string): string[] {
  switch (scope) {
    case 'terminal':
      return [key];
    case 'merchant':
      return sortedIds(ctx.tracker.byMerchant.get(key) ?? []);
    case 'region':
      return sortedIds(ctx.tracker.byRegion.get(key) ?? []);
    case 'firmware': {
      const out: string[] = [];
      for (const t of ctx.tracker.terminals.values()) if (t.firmware === key) out.push(t.id);
      return out.sort();
    }
    case 'issuer':
      return sortedIds(ctx.tracker.terminals.keys());
  }
}

/** Standard evidence of a rate rule: counts per category, top codes, terminals or txnIds. */
function rateEvidence(
  ctx: Ctx,
  rule: RuleId,
  scope: Scope,
  key: string,
  w: number,
  m: Float64Array,
  extra: Record<string, unknown> = {},
): () => Record<string, unknown> {
  const counts = Float64Array.from(m);
  const now = ctx.now;
  return () => {
    const from = windowStart({ ...ctx, now }, w);
    const cats = RULE_CATS[rule];
    const filter = scope === 'issuer' ? (f: Failure) => f.issuerId === key : undefined;
    const fails = failuresOf(ctx, scopeTerminals(ctx, scope, key), from, cats, filter);
    const ev: Record<string, unknown> = {
      auths: counts[M.auths],
      byCategory: categoryCounts(counts),
      inputErrors: counts[M.inputErrors],
      reversals: counts[M.reversals],
      ...extra,
      topResponseCodes: topCodes(fails.map((x) => x.f)),
    };
    if (scope === 'terminal') {
      ev.txnIds = fails
        .slice(-20)
        .map((x) => x.f.txnId)
        .reverse();
    } else {
      const terms = terminalsByCount(fails);
      ev.affectedTerminals = terms.map((t) => t.terminalId);
      ev.affectedTerminalCount = new Set(fails.map((x) => x.terminal)).size;
    }
    return ev;
  };
}

function terminalWhere(ctx: Ctx, id: string): { merchantId?: string; region?: string } {
  const t = ctx.tracker.terminals.get(id);
  const info = t ?? ctx.engine.terminalInfo(id);
  return info ? { merchantId: info.merchantId, region: info.region } : {};
}

function merchantRegion(ctx: Ctx, merchantId: string): string | undefined {
  const ids = ctx.tracker.byMerchant.get(merchantId);
  if (!ids) return undefined;
  for (const id of ids) return ctx.tracker.terminals.get(id)?.region;
  return undefined;
}

function markElevated(ctx: Ctx, scope: Scope | 'fleet', key: string): void {
  ctx.elevated.add(`${scope}|${key}`);
}

function emit(ctx: Ctx, sig: Signal): void {
  if (sig.fire) ctx.elevated.add(`${sig.scope}|${sig.key}`);
  ctx.episodes.apply(sig, ctx.now, ctx.out);
}

/**
 * Keys to evaluate: the given candidates plus every key with an open episode, sorted; and the
 * keys with an open episode, so a rule asks a set instead of building an episode id per key
 * (nothing a rule emits for one key changes another key's episode).
 */
function withOpen(
  ctx: Ctx,
  rule: RuleId,
  scope: Scope,
  keys: Iterable<string>,
): { keys: string[]; open: ReadonlySet<string> } {
  const open = new Set(ctx.episodes.openKeys(rule, scope));
  const s = new Set(keys);
  for (const k of open) s.add(k);
  return { keys: [...s].sort(), open };
}

/** A quiet signal for a key the engine no longer knows: lets its episode resolve. */
function gone(rule: RuleId, scope: Scope, key: string, window: string): Signal {
  return {
    rule,
    scope,
    key,
    fire: false,
    clear: true,
    severity: 'info',
    window,
    metric: 'none',
    value: 0,
    threshold: 0,
    baseline: 0,
    count: 0,
    evidence: () => ({}),
  };
}

// ---------------------------------------------------------------------------------------------
// inhibition: which open parent episode a child alert folds into

/** The parent's episode id if it is open or ended within the last hour (the longest window:
 *  a child's evidence may still be the parent's incident). */
function openParent(ctx: Ctx, parent: RuleId, scope: Scope, key: string | undefined) {
  if (key === undefined) return undefined;
  const id = episodeKey(parent, scope, key);
  return ctx.episodes.isOpenOrRecent(id, ctx.now, 3_600_000) ? id : undefined;
}

const INPUT_CODES = new Set(INPUT_ERROR_CODES);

function inhibits(ctx: Ctx, parent: RuleId, child: RuleId): boolean {
  return ctx.cfg.inhibit[parent]?.includes(child) ?? false;
}

/** Issuers with an open issuer_degradation episode. */
function degradedIssuers(ctx: Ctx): Set<string> {
  return new Set(ctx.episodes.openKeys('issuer_degradation', 'issuer'));
}

/** The degraded issuer that accounts for at least half of these failures, if any. */
function dominantIssuer(failures: readonly Failure[], degraded: Set<string>): string | undefined {
  if (degraded.size === 0 || failures.length === 0) return undefined;
  const counts = new Map<string, number>();
  for (const f of failures) {
    if (f.issuerId !== undefined && degraded.has(f.issuerId)) {
      counts.set(f.issuerId, (counts.get(f.issuerId) ?? 0) + 1);
    }
  }
  let best: string | undefined;
  let bestN = 0;
  for (const [k, n] of [...counts].sort()) if (n > bestN) [best, bestN] = [k, n];
  return best !== undefined && bestN * 2 >= failures.length ? best : undefined;
}

function parentFor(
  ctx: Ctx,
  child: RuleId,
  scope: Scope,
  key: string,
  where: { merchantId?: string; region?: string },
  failures: () => Failure[],
): string | undefined {
  if (inhibits(ctx, 'regional_outage', child)) {
    const p = openParent(ctx, 'regional_outage', 'region', where.region);
    if (p) return p;
  }
  if (scope === 'terminal' && inhibits(ctx, 'firmware_regression', child)) {
    const fw = ctx.tracker.terminals.get(key)?.firmware;
    const p = openParent(ctx, 'firmware_regression', 'firmware', fw);
    if (p) return p;
  }
  if (inhibits(ctx, 'issuer_degradation', child)) {
    const issuer = dominantIssuer(failures(), degradedIssuers(ctx));
    if (issuer !== undefined) return openParent(ctx, 'issuer_degradation', 'issuer', issuer);
  }
  // Terminal faults that are mostly operator input codes (13, 30) belong to input_errors.
  if (scope === 'terminal' && inhibits(ctx, 'input_errors', child)) {
    const p = openParent(ctx, 'input_errors', 'terminal', key);
    const fs = p ? failures() : [];
    const input = fs.filter((f) => INPUT_CODES.has(f.code)).length;
    if (p && fs.length > 0 && input * 2 >= fs.length) return p;
  }
  // Terminal alerts of a rule that also fires for their whole merchant fold into the merchant's.
  if (scope === 'terminal') {
    const p = openParent(ctx, child, 'merchant', where.merchantId);
    if (p) return p;
    for (const parent of ['card_testing'] as const) {
      if (inhibits(ctx, parent, child)) {
        const q = openParent(ctx, parent, 'merchant', where.merchantId);
        if (q) return q;
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// generic terminal/merchant rate rule

interface RateRuleSpec {
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

function rateRule(ctx: Ctx, spec: RateRuleSpec, keys: Iterable<string>): void {
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

// ---------------------------------------------------------------------------------------------
// the rules

export function terminalFaultSpike(ctx: Ctx, keys: Iterable<string>): void {
  rateRule(
    ctx,
    {
      rule: 'terminal_fault_spike',
      scope: 'terminal',
      p: ctx.cfg.rules.terminal_fault_spike,
      num: METRICS.terminalFaults,
      den: METRICS.auths,
      metric: 'terminal_fault_rate',
    },
    keys,
  );
}

export function terminalNetworkErrors(ctx: Ctx, keys: Iterable<string>): void {
  const p = ctx.cfg.rules.terminal_network_errors;
  const rb = bufs[1]!;
  rateRule(
    ctx,
    {
      rule: 'terminal_network_errors',
      scope: 'terminal',
      p,
      num: METRICS.timeouts,
      den: METRICS.auths,
      metric: 'timeout_rate',
      // Only when its region is healthy: the rest of the region's timeouts are not elevated.
      check: (key, m, _v, w) => {
        const region = terminalWhere(ctx, key).region;
        if (region === undefined || !read(ctx, 'region', region, w, rb)) {
          return { fire: true };
        }
        const k = rb[M.timeout]! - m[M.timeout]!;
        const n = rb[M.auths]! - m[M.auths]!;
        const prior = fleetRate(ctx, METRICS.timeouts, METRICS.auths);
        const base = Math.max(
          prior,
          keyBaseline(ctx, 'region', region, METRICS.timeouts, METRICS.auths, prior),
        );
        const regionLower = wilsonLower(k, n, p.z);
        const unhealthy = regionLower > Math.max(base * 2, base + p.minExcess / 4);
        return {
          fire: !unhealthy,
          extra: { regionTimeoutRate: round(n > 0 ? k / n : 0), regionAuths: n },
        };
      },
    },
    keys,
  );
}

export function reversalSpike(ctx: Ctx, scope: 'terminal' | 'merchant', keys: Iterable<string>) {
  const p = ctx.cfg.rules.reversal_spike;
  if (!p.scopes.includes(scope)) return;
  const tb = bufs[1]!;
  rateRule(
    ctx,
    {
      rule: 'reversal_spike',
      scope,
      p,
      num: METRICS.reversals,
      den: METRICS.auths,
      metric: 'reversal_rate',
      // A merchant alert only when the reversals are not one terminal's: without its worst
      // terminal the merchant must still be significant. Otherwise the terminal alert says it.
      check:
        scope === 'merchant'
          ? (key, m, v, w) => {
              let worst = 0;
              let worstN = 0;
              for (const id of ctx.tracker.byMerchant.get(key) ?? []) {
                if (read(ctx, 'terminal', id, w, tb) && tb[M.reversals]! > worst) {
                  worst = tb[M.reversals]!;
                  worstN = tb[M.auths]!;
                }
              }
              const k = m[M.reversals]! - worst;
              const n = m[M.auths]! - worstN;
              const rest = judgeRate(k, n, v.threshold / p.factor, p);
              return { fire: rest.fire };
            }
          : undefined,
    },
    keys,
  );
}

export function inputErrors(ctx: Ctx, keys: Iterable<string>): void {
  rateRule(
    ctx,
    {
      rule: 'input_errors',
      scope: 'terminal',
      p: ctx.cfg.rules.input_errors,
      num: METRICS.inputErrors,
      den: METRICS.auths,
      metric: 'input_error_rate',
    },
    keys,
  );
}

export function noSettlement(ctx: Ctx, scope: 'terminal' | 'merchant', keys: Iterable<string>) {
  if (!ctx.cfg.rules.no_settlement.scopes.includes(scope)) return;
  rateRule(
    ctx,
    {
      rule: 'no_settlement',
      scope,
      p: ctx.cfg.rules.no_settlement,
      num: METRICS.unsettled,
      den: METRICS.settlementDue,
      metric: 'no_settlement_rate',
    },
    keys,
  );
}

/**
 * card_testing: a burst of declined small-amount auths (probes of 1..5 CNY) over many distinct
 * cards. The metric is small declines per auth: near zero in normal trade (a few small sales,
 * rarely declined), so the burst stands out even at a busy merchant with several tills.
 */
export function cardTesting(ctx: Ctx, scope: 'terminal' | 'merchant', keys: Iterable<string>) {
  const p = ctx.cfg.rules.card_testing;
  if (!p.scopes.includes(scope)) return;
  rateRule(
    ctx,
    {
      rule: 'card_testing',
      scope,
      p,
      num: METRICS.smallDeclines,
      den: METRICS.auths,
      metric: 'small_amount_decline_rate',
      check: (key, m, _v, w) => {
        const cards = ctx.engine.distinctDeclinedCards(SCOPE[scope], key, w);
        return {
          fire: cards >= p.minDistinctCards,
          extra: {
            distinctDeclinedCards: cards,
            declines: METRICS.failures(m),
            smallAmountDeclines: m[M.smallDeclines],
            smallAmountAuths: m[M.smallAuths],
          },
        };
      },
    },
    keys,
  );
}

export function failedButCharged(ctx: Ctx, keys: Iterable<string>): void {
  const p = ctx.cfg.rules.failed_but_charged;
  if (!p.enabled) return;
  const rule: RuleId = 'failed_but_charged';
  const w = ctx.win(p.window);
  const m = bufs[0]!;
  const prior = fleetRate(ctx, METRICS.charged, METRICS.auths, 0.0002);
  const cand = withOpen(ctx, rule, 'terminal', keys);
  for (const key of cand.keys) {
    if (!read(ctx, 'terminal', key, w, m)) {
      emit(ctx, gone(rule, 'terminal', key, p.window));
      continue;
    }
    const k = METRICS.charged(m);
    if (k === 0 && !cand.open.has(key)) continue;
    const rate = Math.max(
      prior,
      keyBaseline(ctx, 'terminal', key, METRICS.charged, METRICS.auths, prior),
    );
    const expected = rate * Math.max(1, m[M.auths]!);
    const pv = poissonSf(k, expected);
    const fire = k >= p.minCount && pv < p.pValue && k > expected * p.factor;
    if (k >= 2 && pv < 0.01) markElevated(ctx, 'terminal', key);
    const clear = k < Math.ceil(p.minCount / 2);
    const where = terminalWhere(ctx, key);
    const from = windowStart(ctx, w);
    const now = ctx.now;
    const counts = Float64Array.from(m);
    const sig: Signal = {
      rule,
      scope: 'terminal',
      key,
      fire,
      clear,
      severity: p.severity,
      window: p.window,
      metric: 'unreversed_timeouts_and_failed_reversals',
      value: k,
      threshold: Math.max(p.minCount, Math.ceil(expected * p.factor)),
      baseline: expected,
      count: k,
      ...where,
      evidence: () => {
        const t = ctx.tracker.terminals.get(key);
        const charged = (t?.charged?.toArray() ?? []).filter((c) => c.ts >= from && c.ts < now);
        return {
          auths: counts[M.auths],
          timeouts: counts[M.timeout],
          unreversedTimeouts: counts[M.unreversedTimeouts],
          failedReversals: counts[M.reversalsFailed],
          pValue: pv,
          transactions: charged.slice(-20).map((c) => ({
            txnId: c.txnId,
            ts: new Date(c.ts).toISOString(),
            amount: c.amount,
            why: c.why,
          })),
          txnIds: charged.slice(-20).map((c) => c.txnId),
        };
      },
    };
    if (fire) {
      sig.parent = parentFor(ctx, rule, 'terminal', key, where, () =>
        failuresOf(ctx, [key], from, ['timeout']).map((x) => x.f),
      );
    }
    emit(ctx, sig);
  }
}

/** Distinct keys (terminals or merchants) among failures, for breadth checks. */
function breadth(list: { terminal: string; f: Failure }[], by: 'terminal' | 'merchant', ctx: Ctx) {
  const s = new Set<string>();
  for (const x of list) {
    s.add(
      by === 'terminal' ? x.terminal : (ctx.tracker.terminals.get(x.terminal)?.merchantId ?? ''),
    );
  }
  return s.size;
}

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

/** Sorted lastSeen of every known terminal (for closing-wave checks). */
export function quietTimes(ctx: Ctx): Float64Array {
  const xs = new Float64Array(ctx.tracker.terminals.size);
  let i = 0;
  for (const t of ctx.tracker.terminals.values()) xs[i++] = t.lastSeen;
  return xs.sort();
}

function countBetween(sorted: Float64Array, lo: number, hi: number): number {
  const lower = (x: number) => {
    let a = 0;
    let b = sorted.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (sorted[mid]! < x) a = mid + 1;
      else b = mid;
    }
    return a;
  };
  return lower(hi + 1e-9) - lower(lo);
}

/**
 * terminal_silent: a terminal that normally talks (auths + heartbeats every 5 min) has sent
 * nothing for minGap and, by its hour-of-day history, should have sent minExpected events by
 * now. Without a day of history, a terminal is called silent only if it was on (heartbeating)
 * and its silence is not part of a closing wave: shops closing at 22:00 go quiet together,
 * a failed terminal goes quiet alone (or while its own shop's other tills keep selling).
 */
export function terminalSilent(ctx: Ctx): void {
  const p = ctx.cfg.rules.terminal_silent;
  if (!p.enabled) return;
  const rule: RuleId = 'terminal_silent';
  const gapMs = durationMs(p.minGap);
  const quiet = (ctx.quietTimes ??= quietTimes(ctx));
  // Terminals whose last event lies within 10 min of this one's went quiet with it.
  const WAVE = 10 * 60_000;
  // A shop's other tills that spoke after this one's last event + a heartbeat period (5 min
  // + jitter) are selling: the shop is open, this terminal is not closed for the night.
  const AFTER = 6 * 60_000;
  const candidates: TerminalState[] = [];
  const open = new Set(ctx.episodes.openKeys(rule, 'terminal'));
  for (const t of ctx.tracker.terminals.values()) {
    if (ctx.now - t.lastSeen >= gapMs || open.has(t.id)) candidates.push(t);
  }
  candidates.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const t of candidates) {
    const gap = ctx.now - t.lastSeen;
    if (gap < gapMs) {
      t.silent = false;
      emit(ctx, {
        ...gone(rule, 'terminal', t.id, p.minGap),
        merchantId: t.merchantId,
        region: t.region,
      });
      continue;
    }
    const hist = ctx.tracker.expectedFromProfile(t, t.lastSeen, ctx.now, p.minHistoryDays);
    let expected: number;
    let basis: string;
    let peersActive = 0;
    for (const id of ctx.tracker.byMerchant.get(t.merchantId) ?? []) {
      const peer = ctx.tracker.terminals.get(id);
      // ...and that sold right through: a peer back from its own gap does not count.
      const through = peer && peer.activeSince <= t.lastSeen + AFTER;
      if (id !== t.id && peer && through && peer.lastSeen > t.lastSeen + AFTER) peersActive++;
    }
    let wave = 0;
    if (hist !== undefined) {
      expected = hist;
      basis = 'hour_of_day_history';
    } else {
      // recentRate is events per hour as of lastSeen; 6/h = at least heartbeating.
      const wasOn = t.recentRate >= 6;
      wave = countBetween(quiet, t.lastSeen - WAVE, t.lastSeen + WAVE) - 1;
      const explained = wave >= 2 && peersActive === 0;
      expected = wasOn && !explained ? (t.recentRate * gap) / 3_600_000 : 0;
      basis = 'recent_rate';
    }
    const fire = expected >= p.minExpected;
    const open1 = open.has(t.id);
    if (!fire && !open1) continue;
    const where = { merchantId: t.merchantId, region: t.region };
    const now = ctx.now;
    const sig: Signal = {
      rule,
      scope: 'terminal',
      key: t.id,
      fire,
      clear: false,
      severity: p.severity,
      window: p.minGap,
      metric: 'events',
      value: 0,
      threshold: p.minExpected,
      baseline: expected,
      count: 1,
      ...where,
      evidence: () => ({
        lastSeen: new Date(t.lastSeen).toISOString(),
        silentMinutes: round((now - t.lastSeen) / 60_000, 1),
        expectedEvents: round(expected, 1),
        basis,
        merchantTerminalsActive: peersActive,
        quietAtSameTime: Math.max(0, wave),
        firmware: t.firmware,
      }),
    };
    if (fire) {
      sig.parent = parentFor(ctx, rule, 'terminal', t.id, where, () => []);
    }
    if (fire || open1) t.silent = true;
    emit(ctx, sig);
  }
}

export function durationMs(label: string): number {
  return parseWindowLabel(label);
}
