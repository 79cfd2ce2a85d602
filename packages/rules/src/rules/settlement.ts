import type { RuleId } from '@tillwatch/contracts';
import { M, SCOPE } from '@tillwatch/core';
import type { Signal } from '../episodes';
import { poissonSf } from '../stats';
import type { Charged } from '../tracker';
import {
  METRICS,
  bufs,
  emit,
  fleetRate,
  gone,
  keyBaseline,
  markElevated,
  read,
  withOpen,
  type Ctx,
  type Metric,
} from './context';
import { failuresOf, terminalWhere, windowStart } from './evidence';
import { parentFor } from './inhibition';
import { rateRule, skipBelow } from './rate-rule';

/** Money that did not arrive or left twice: missing settlements, timeouts charged unreversed. */

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
 * no_settlement's candidates: every tracked key of the scope (`'all'`: the monitor's sweep, each
 * merchant once a minute and each terminal every 5) or the recent ones, less the keys the engine
 * does not list with an unsettled record in the rule's windows (WindowEngine.unsettledSince).
 * The rule's count is those records, so a key without one fails its cheap test (screenWith)
 * anyway: the sweep read every key of the partition for the few with a missed settlement. Keys
 * listed but no longer tracked fail the test as before. Without the engine's list, or with a
 * cheap test that a zero count passes, the keys as they were.
 */
export function noSettlementKeys(
  ctx: Ctx,
  scope: 'terminal' | 'merchant',
  keys: readonly string[] | 'all',
): readonly string[] {
  const e = ctx.engine;
  const p = ctx.cfg.rules.no_settlement;
  if (!e.unsettledSince || skipBelow(p) < 1) return keys === 'all' ? e.keys(SCOPE[scope]) : keys;
  // where the rule's windows' reads start, or earlier (a read ends at or before the watermark)
  const { windowsMs, panesMs } = e.config;
  let reach = 0;
  for (const label of p.windows) {
    const w = ctx.win(label);
    reach = Math.max(reach, windowsMs[w]! + panesMs[w]!);
  }
  const listed = e.unsettledSince(SCOPE[scope], Math.min(ctx.now, e.watermark) - reach);
  return keys === 'all' ? listed : intersectSorted(keys, listed);
}

/** The strings in both sorted, distinct lists, sorted. */
function intersectSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

export function failedButCharged(ctx: Ctx, keys: Iterable<string>): void {
  const p = ctx.cfg.rules.failed_but_charged;
  if (!p.enabled) return;
  const rule: RuleId = 'failed_but_charged';
  const wins = [ctx.win(p.window), ...(p.slow ? [ctx.win(p.slow.window)] : [])];
  const labels = [p.window, ...(p.slow ? [p.slow.window] : [])];
  const m = bufs[0]!;
  const prior = fleetRate(ctx, METRICS.charged, METRICS.auths, 0.0002);
  const timeoutPrior = fleetRate(ctx, METRICS.timeouts, METRICS.auths, 0.002);
  // the two kinds of charge apart: a host refusing to undo a sale is far rarer than a reversal
  // that has not come yet (a healthy fleet's failed reversals ~0.6 in 10,000 sales, unreversed
  // timeouts ~3x that)
  const failedPrior = fleetRate(ctx, METRICS.failedReversals, METRICS.auths, 0.0001);
  const unreversedPrior = fleetRate(ctx, METRICS.unreversed, METRICS.auths, 0.0002);
  const cand = withOpen(ctx, rule, 'terminal', keys);
  /** one window's verdict: charges k against expected, full or early fire */
  const judge = (key: string, wi: number, open: boolean) => {
    const w = wins[wi]!;
    read(ctx, 'terminal', key, w, m);
    // A timeout whose reversal failed after its grace ran out is counted twice by the window
    // (unreversed at the grace, failed reversal later): one customer, one charge. The tracker's
    // ring has the transactions (up to its capacity, plenty for minCount).
    const c = METRICS.charged(m);
    const from = windowStart(ctx, w);
    const k = c === 0 ? 0 : Math.min(c, distinctCharged(ctx, key, from, ctx.now));
    const rate = Math.max(
      prior,
      keyBaseline(ctx, 'terminal', key, METRICS.charged, METRICS.auths, prior),
    );
    const expected = rate * Math.max(1, m[M.auths]!);
    const pv = k === 0 ? 1 : poissonSf(k, expected);
    const full = k >= p.minCount && pv < p.pValue && k > expected * p.factor;
    // Early: fewer charges, but the terminal is timing out wholesale (a healthy terminal's rare
    // timeouts are reversed 94 % of the time; two of them charged in one window is not news),
    // or the charges alone are that unlikely (a slow till's two in a quarter hour), or they are
    // that unlikely told apart: failed reversals and unreversed timeouts, each against its own
    // rate (both counts at least as high as seen: two failed reversals in a quarter hour, or one
    // with an unreversed timeout, at a till whose host refuses one reversal in ten thousand).
    let early = false;
    if (!full && !open && p.early && k >= p.early.minCount && k > expected * p.factor) {
      const auths = Math.max(1, m[M.auths]!);
      const rate = (metric: Metric, prior: number) =>
        Math.max(prior, keyBaseline(ctx, 'terminal', key, metric, METRICS.auths, prior));
      const failed = distinctCharged(ctx, key, from, ctx.now, 'reversal_failed');
      early =
        pv < p.early.pValue ||
        poissonSf(m[M.timeout]!, rate(METRICS.timeouts, timeoutPrior) * auths) < p.early.pValue ||
        poissonSf(failed, rate(METRICS.failedReversals, failedPrior) * auths) *
          poissonSf(Math.max(0, k - failed), rate(METRICS.unreversed, unreversedPrior) * auths) <
          p.early.pValue;
    }
    return { wi, w, k, expected, pv, full, early };
  };
  const from0 = windowStart(ctx, wins[0]!);
  for (const key of cand.keys) {
    // Nothing in the terminal's charged ring in the short window: no settled charge, and every
    // verdict would find k = 0 (k counts the ring's transactions), so nothing to judge, and
    // nothing to read (most terminals never charged: no ring). Not while any re-fire is pending
    // (a verdict that does not fire forgets one: episodes.ts) or for an open episode.
    if (
      ctx.episodes.unchangedBy(cand.open.has(key), false) &&
      !ctx.tracker.chargedIn(key, from0, ctx.now)
    ) {
      continue;
    }
    if (!read(ctx, 'terminal', key, wins[0]!, m)) {
      emit(ctx, gone(rule, 'terminal', key, p.window));
      continue;
    }
    const open = cand.open.has(key);
    // A settlement of a sale the till showed as failed is the charge itself, not a suspicion:
    // one is enough for a warning (a healthy fleet's timed-out sales are reversed or never
    // settle); the full test still decides the page.
    const settled = settledCharges(ctx, key, from0, ctx.now);
    // Nothing charged in the short window (so no slow window either) and no settled failed
    // sale: nothing to judge (the judgement would find k = 0 in every window).
    if (!open && settled === 0 && METRICS.charged(m) === 0) continue;
    const short = judge(key, 0, open);
    // (a till selling enough to show minCount charges in the window is judged on it alone: the
    // long window would keep an incident's charges an hour after it ended)
    // (and only while it is charging: a charge in the window; an hour's window would otherwise
    // page again for an incident that ended up to an hour ago)
    const slow = p.slow !== undefined && m[M.auths]! < p.slow.maxAuths && short.k >= 1;
    const verdicts = slow ? [short, judge(key, 1, open)] : [short];
    if (!open && settled === 0 && verdicts.every((v) => v.k === 0)) continue;
    // the short window first: the long one speaks for a till too slow to show minCount in it
    const v = verdicts.find((x) => x.full) ?? verdicts.find((x) => x.early) ?? short;
    const { k, expected, pv, full } = v;
    const proven = !full && settled > 0;
    const early = !full && !proven && v.early;
    const fire = full || proven || early;
    // Any unlikely charge keeps the terminal's baseline from learning this round: a fault's
    // first charge learnt raises the reference its next ones are judged against.
    if (verdicts.some((x) => x.k >= 1 && x.pv < 0.05)) markElevated(ctx, 'terminal', key);
    if (ctx.episodes.unchangedBy(open, fire)) continue;
    read(ctx, 'terminal', key, v.w, m);
    const counts = Float64Array.from(m);
    const clear = verdicts.every((x) => x.k < Math.ceil(p.minCount / 2));
    const where = terminalWhere(ctx, key);
    const from = windowStart(ctx, v.w);
    const now = ctx.now;
    const sig: Signal = {
      rule,
      scope: 'terminal',
      key,
      fire,
      clear,
      severity: (early || proven) && p.severity === 'critical' ? 'warning' : p.severity,
      ...(early ? { confidence: 'medium' as const } : {}),
      window: labels[v.wi]!,
      metric: 'unreversed_timeouts_and_failed_reversals',
      value: k,
      threshold: Math.max(p.minCount, Math.ceil(expected * p.factor)),
      baseline: expected,
      count: k,
      ...where,
      evidence: () => {
        const t = ctx.tracker.terminals.get(key);
        // one line a sale; a settlement that proved its charge says so (why: settled)
        const byTxn = new Map<string, Charged>();
        for (const c of t?.charged?.toArray() ?? []) {
          if (c.ts < from || c.ts >= now) continue;
          const had = byTxn.get(c.txnId);
          if (!had || c.why === 'settled') byTxn.set(c.txnId, had ? { ...c, ts: had.ts } : c);
        }
        const charged = [...byTxn.values()];
        return {
          auths: counts[M.auths],
          timeouts: counts[M.timeout],
          unreversedTimeouts: counts[M.unreversedTimeouts],
          failedReversals: counts[M.reversalsFailed],
          settledFailedSales: settled,
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

/** Settlements in [from, to) of sales the terminal showed as timed out (tracker ring). */
function settledCharges(ctx: Ctx, key: string, from: number, to: number): number {
  const ring = ctx.tracker.terminals.get(key)?.charged;
  if (!ring) return 0;
  let n = 0;
  for (let i = 0; i < ring.size; i++) {
    const c = ring.at(i);
    if (c.why === 'settled' && c.ts >= from && c.ts < to) n++;
  }
  return n;
}

/** Distinct transactions charged at the terminal in [from, to) (tracker ring, bounded); with
 *  `why`, only those charged for that reason. */
function distinctCharged(
  ctx: Ctx,
  key: string,
  from: number,
  to: number,
  why?: Charged['why'],
): number {
  const ring = ctx.tracker.terminals.get(key)?.charged;
  if (!ring) return 0;
  const ids = new Set<string>();
  for (let i = 0; i < ring.size; i++) {
    const c = ring.at(i);
    if (c.ts >= from && c.ts < to && (why === undefined || c.why === why)) ids.add(c.txnId);
  }
  return ids.size;
}
