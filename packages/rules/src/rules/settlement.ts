import type { RuleId } from '@tillwatch/contracts';
import { M } from '@tillwatch/core';
import type { Signal } from '../episodes';
import { poissonSf } from '../stats';
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
} from './context';
import { failuresOf, terminalWhere, windowStart } from './evidence';
import { parentFor } from './inhibition';
import { rateRule } from './rate-rule';

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

export function failedButCharged(ctx: Ctx, keys: Iterable<string>): void {
  const p = ctx.cfg.rules.failed_but_charged;
  if (!p.enabled) return;
  const rule: RuleId = 'failed_but_charged';
  const w = ctx.win(p.window);
  const m = bufs[0]!;
  const prior = fleetRate(ctx, METRICS.charged, METRICS.auths, 0.0002);
  const timeoutPrior = fleetRate(ctx, METRICS.timeouts, METRICS.auths, 0.002);
  const cand = withOpen(ctx, rule, 'terminal', keys);
  for (const key of cand.keys) {
    if (!read(ctx, 'terminal', key, w, m)) {
      emit(ctx, gone(rule, 'terminal', key, p.window));
      continue;
    }
    // A timeout whose reversal failed after its grace ran out is counted twice by the window
    // (unreversed at the grace, failed reversal later): one customer, one charge. The tracker's
    // ring has the transactions (up to its capacity, plenty for minCount).
    const k = Math.min(METRICS.charged(m), distinctCharged(ctx, key, windowStart(ctx, w), ctx.now));
    if (k === 0 && !cand.open.has(key)) continue;
    const rate = Math.max(
      prior,
      keyBaseline(ctx, 'terminal', key, METRICS.charged, METRICS.auths, prior),
    );
    const expected = rate * Math.max(1, m[M.auths]!);
    const pv = poissonSf(k, expected);
    const full = k >= p.minCount && pv < p.pValue && k > expected * p.factor;
    // Early: fewer charges, but the terminal is timing out wholesale (a healthy terminal's rare
    // timeouts are reversed 94 % of the time; two of them charged in one window is not news).
    let early = false;
    if (
      !full &&
      !cand.open.has(key) &&
      p.early &&
      k >= p.early.minCount &&
      k > expected * p.factor
    ) {
      const tRate = Math.max(
        timeoutPrior,
        keyBaseline(ctx, 'terminal', key, METRICS.timeouts, METRICS.auths, timeoutPrior),
      );
      early = poissonSf(m[M.timeout]!, tRate * Math.max(1, m[M.auths]!)) < p.early.pValue;
    }
    const fire = full || early;
    // Any unlikely charge keeps the terminal's baseline from learning this round: a fault's
    // first charge learnt raises the reference its next ones are judged against.
    if (k >= 1 && pv < 0.05) markElevated(ctx, 'terminal', key);
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
      severity: early && p.severity === 'critical' ? 'warning' : p.severity,
      ...(early ? { confidence: 'medium' as const } : {}),
      window: p.window,
      metric: 'unreversed_timeouts_and_failed_reversals',
      value: k,
      threshold: Math.max(p.minCount, Math.ceil(expected * p.factor)),
      baseline: expected,
      count: k,
      ...where,
      evidence: () => {
        const t = ctx.tracker.terminals.get(key);
        const seen = new Set<string>();
        const charged = (t?.charged?.toArray() ?? []).filter(
          (c) => c.ts >= from && c.ts < now && !seen.has(c.txnId) && seen.add(c.txnId),
        );
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

/** Distinct transactions charged at the terminal in [from, to) (tracker ring, bounded). */
function distinctCharged(ctx: Ctx, key: string, from: number, to: number): number {
  const ring = ctx.tracker.terminals.get(key)?.charged;
  if (!ring) return 0;
  const ids = new Set<string>();
  for (const c of ring.toArray()) if (c.ts >= from && c.ts < to) ids.add(c.txnId);
  return ids.size;
}
