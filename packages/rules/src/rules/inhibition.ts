import { INPUT_ERROR_CODES, type RuleId, type Scope } from '@tillwatch/contracts';
import { episodeKey } from '../episodes';
import type { Failure } from '../tracker';
import type { Ctx } from './context';
import { FEED_KEY } from './feed-outage';

/** Inhibition: which open parent episode a child alert folds into. */

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

export function parentFor(
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
    // a region of a feed outage whose own outage alert did not open (all failing alike)
    if (where.region !== undefined && ctx.notes?.feedRegions.has(where.region)) {
      const q = openParent(ctx, 'regional_outage', 'region', FEED_KEY);
      if (q) return q;
    }
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
