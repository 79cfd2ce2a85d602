import {
  parseWindowLabel,
  type Category,
  type RuleId,
  type Scope,
  type Severity,
} from '@tillwatch/contracts';
import { FLEET_KEY, M, METRIC_COUNT, type ScopeName, type WindowEngine } from '@tillwatch/core';
import { baselineRate, type BaselineStore, type DayFloor, type HourlyProfile } from '../baseline';
import type { RateRuleConfig, RulesConfig } from '../config';
import type { AlertRecord, EpisodeBook, Signal } from '../episodes';
import { wilsonLower } from '../stats';
import { OUTAGE_CATS, type Tracker } from '../tracker';
import type { CrossNotes } from './feed-outage';
import type { ScreenMemo } from './rate-rule';
import { ReadCache } from './read-cache';

/**
 * What every rule shares: the evaluation context, the metrics rules read from engine counters,
 * the fleet and key references and the statistical verdict, and the way a rule hands a Signal
 * to the episode book.
 */

export type Metric = (m: Float64Array) => number;

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
  /** sales undone: succeeded reversals (a reversal that failed and was retried is one sale
   *  undone, not two; one that failed for good is a charge, failed_but_charged's) */
  reversed: (m) => m[M.reversals]! - m[M.reversalsFailed]!,
  charged: (m) => m[M.unreversedTimeouts]! + m[M.reversalsFailed]!,
  failedReversals: (m) => m[M.reversalsFailed]!,
  unreversed: (m) => m[M.unreversedTimeouts]!,
  unsettled: (m) => m[M.unsettled]!,
  settlementDue: (m) => m[M.settlementDue]!,
  inputErrors: (m) => m[M.inputErrors]!,
  smallDeclines: (m) => m[M.smallDeclines]!,
} satisfies Record<string, Metric>;

/** A metric of the counters at offset `o` of `c` (ReadCache.readAt: no copy into a buffer). */
export type MetricAt = (c: Float64Array, o: number) => number;

/** METRICS the rate rules' screen tests, read in place: the same sums (screen.test.ts) */
export const METRICS_AT = {
  terminalFaults: (c, o) => c[o + M.terminal]! + c[o + M.other]!,
  timeouts: (c, o) => c[o + M.timeout]!,
  inputErrors: (c, o) => c[o + M.inputErrors]!,
  reversed: (c, o) => c[o + M.reversals]! - c[o + M.reversalsFailed]!,
  smallDeclines: (c, o) => c[o + M.smallDeclines]!,
} satisfies Partial<Record<keyof typeof METRICS, MetricAt>>;

/** Which failure categories each rule's evidence ring filter keeps. */
export const RULE_CATS: Partial<Record<RuleId, readonly Category[]>> = {
  terminal_fault_spike: ['terminal', 'other'],
  terminal_network_errors: ['timeout'],
  regional_outage: OUTAGE_CATS,
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
  region: string;
  auths: HourlyProfile;
  heartbeats: HourlyProfile;
  /** its fewest events in a slot over the last day (tills never switched off) */
  floor: DayFloor;
  /** the last evaluation at which the region's short window still had traffic */
  activeAt?: number;
  /** the first evaluation of the current run at which the region's short window was empty (no
   *  auth, no heartbeat): the region has been dark since about a short window before it */
  quietSince?: number;
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
  /** what the wider-incident judgements keep between evaluations (feed-outage.ts) */
  notes?: CrossNotes;
  /** the rate rules' cheap test's last verdicts per scope, kept between evaluations */
  screens?: Partial<Record<'terminal' | 'merchant', ScreenMemo>>;
}

/**
 * Scratch counters shared by the rule modules, one slot per role so that a helper called inside
 * a rule's loop does not overwrite the loop's counters: 0 for the rule's own key, 1 for what it
 * compares the key with (its region, its terminals, the fleet), 3 for fleetRate.
 */
export const bufs: Float64Array[] = Array.from({ length: 4 }, () => new Float64Array(METRIC_COUNT));

/**
 * Counters of a rule's i-th window while it judges one key, reused key after key (a
 * Float64Array of 22 counters is an off-heap buffer, ~200 ns to make, and the rules judged
 * several windows per event). Rules that judge windows (judgeWindows, spreadRule) never run
 * inside one another; nothing keeps these arrays: rateEvidence copies the counters it keeps.
 */
const windowBufs: Float64Array[] = [];
export function windowBuf(i: number): Float64Array {
  return (windowBufs[i] ??= new Float64Array(METRIC_COUNT));
}

/** Read a window's counters into buf, once per evaluation per scope/key/window (ReadCache). */
export function read(
  ctx: Ctx,
  scope: ScopeName,
  key: string,
  w: number,
  buf: Float64Array,
): boolean {
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

export function keyBaseline(
  ctx: Ctx,
  scope: ScopeName,
  key: string,
  num: Metric,
  den: Metric,
  prior: number,
): number {
  return baselineRate(ctx.baselines[scope].get(key), num, den, prior, ctx.cfg.baseline.priorWeight);
}

export interface RateVerdict {
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

export function markElevated(ctx: Ctx, scope: Scope | 'fleet', key: string): void {
  ctx.elevated.add(`${scope}|${key}`);
}

export function emit(ctx: Ctx, sig: Signal): void {
  if (sig.fire) ctx.elevated.add(`${sig.scope}|${sig.key}`);
  ctx.episodes.apply(sig, ctx.now, ctx.out);
}

/**
 * Keys to evaluate: the given candidates plus every key with an open episode, sorted; and the
 * keys with an open episode, so a rule asks a set instead of building an episode id per key
 * (nothing a rule emits for one key changes another key's episode).
 */
export function withOpen(
  ctx: Ctx,
  rule: RuleId,
  scope: Scope,
  keys: Iterable<string>,
): { keys: readonly string[]; open: ReadonlySet<string> } {
  const openKeys = ctx.episodes.openKeys(rule, scope); // sorted
  const open = new Set(openKeys);
  // The candidates usually come sorted and distinct (the monitor's recheck, the engine's keys):
  // then a merge with the few open keys, not a set of every candidate and a sort per rule.
  if (Array.isArray(keys) && sortedDistinct(keys)) {
    return { keys: openKeys.length ? mergeSorted(keys, openKeys) : keys, open };
  }
  const s = new Set(keys);
  for (const k of open) s.add(k);
  return { keys: [...s].sort(), open };
}

/** Whether the list is in sort() order with no repeat (code-unit order, as sort() sorts). */
function sortedDistinct(xs: readonly string[]): boolean {
  for (let i = 1; i < xs.length; i++) if (!(xs[i - 1]! < xs[i]!)) return false;
  return true;
}

/** Two sorted distinct lists as one, each key once. */
export function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x < y)) out.push(a[i++]!);
    else if (x === undefined || y < x) out.push(b[j++]!);
    else {
      out.push(a[i++]!);
      j++;
    }
  }
  return out;
}

/** A quiet signal for a key the engine no longer knows: lets its episode resolve. */
export function gone(rule: RuleId, scope: Scope, key: string, window: string): Signal {
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

export function durationMs(label: string): number {
  return parseWindowLabel(label);
}
