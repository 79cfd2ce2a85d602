import { M, SCOPE } from '@tillwatch/core';
import { METRICS, bufs, judgeRate, read, type Ctx } from './context';
import { RATE_RULES, rateRule } from './rate-rule';

/**
 * Rules judged per merchant as well as per terminal (their config's `scopes`): reversal spikes
 * and card testing, where a merchant alert says more than its terminals' alerts.
 */

export function reversalSpike(
  ctx: Ctx,
  scope: 'terminal' | 'merchant',
  keys: Iterable<string>,
  screened = false,
) {
  const p = ctx.cfg.rules.reversal_spike;
  if (!p.scopes.includes(scope)) return;
  const tb = bufs[1]!;
  rateRule(
    ctx,
    {
      rule: 'reversal_spike',
      scope,
      p,
      num: RATE_RULES.reversal_spike.num,
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
                if (read(ctx, 'terminal', id, w, tb) && METRICS.reversed(tb) > worst) {
                  worst = METRICS.reversed(tb);
                  worstN = tb[M.auths]!;
                }
              }
              const k = METRICS.reversed(m) - worst;
              const n = m[M.auths]! - worstN;
              const rest = judgeRate(k, n, v.threshold / p.factor, p);
              return { fire: rest.fire };
            }
          : undefined,
    },
    keys,
    screened,
  );
}

/**
 * card_testing: a burst of declined small-amount auths (probes of 1..5 CNY) over many distinct
 * cards. The metric is small declines per auth: near zero in normal trade (a few small sales,
 * rarely declined), so the burst stands out even at a busy merchant with several tills.
 */
export function cardTesting(
  ctx: Ctx,
  scope: 'terminal' | 'merchant',
  keys: Iterable<string>,
  screened = false,
) {
  const p = ctx.cfg.rules.card_testing;
  if (!p.scopes.includes(scope)) return;
  rateRule(
    ctx,
    {
      rule: 'card_testing',
      scope,
      p,
      num: RATE_RULES.card_testing.num,
      den: METRICS.auths,
      metric: 'small_amount_decline_rate',
      check: (key, m, v, w) => {
        const cards = ctx.engine.distinctDeclinedCards(SCOPE[scope], key, w);
        // early (thin evidence): as many distinct cards as the early count asks declines
        const need =
          v.early && p.early ? Math.min(p.minDistinctCards, p.early.minCount) : p.minDistinctCards;
        return {
          fire: cards >= need,
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
    screened,
  );
}
