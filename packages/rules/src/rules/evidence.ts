import { CATEGORIES, type Category, type RuleId, type Scope } from '@tillwatch/contracts';
import { M } from '@tillwatch/core';
import type { Failure, TerminalState } from '../tracker';
import { RULE_CATS, type Ctx } from './context';

/** What rules put in an alert's evidence and where a key sits: failures, codes, terminals. */

export function categoryCounts(m: Float64Array): Record<Category, number> {
  const out = {} as Record<Category, number>;
  CATEGORIES.forEach((c, i) => (out[c] = m[M.approved + i]!));
  return out;
}

export function topCodes(failures: readonly Failure[], n = 5): { code: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(f.code, (counts.get(f.code) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([code, count]) => ({ code, count }));
}

export function windowStart(ctx: Ctx, w: number): number {
  const pane = ctx.engine.config.panesMs[w]!;
  const end = Math.floor(ctx.now / pane) * pane;
  return end - ctx.engine.config.windowsMs[w]!;
}

export function failuresOf(
  ctx: Ctx,
  terminals: Iterable<string>,
  from: number,
  cats?: readonly Category[],
  filter?: (f: Failure) => boolean,
): { terminal: string; f: Failure }[] {
  const out: { terminal: string; f: Failure }[] = [];
  for (const id of terminals) collect(ctx, out, ctx.tracker.terminals.get(id), from, cats, filter);
  return out;
}

/** failuresOf terminals given as their states (Tracker.statesOf), without a lookup by id. */
export function failuresIn(
  ctx: Ctx,
  terminals: readonly TerminalState[],
  from: number,
  cats?: readonly Category[],
): { terminal: string; f: Failure }[] {
  const out: { terminal: string; f: Failure }[] = [];
  for (const t of terminals) collect(ctx, out, t, from, cats, undefined);
  return out;
}

/**
 * failuresOf every terminal the tracker knows, in its order, without a lookup by id (the
 * issuer rule asks the whole fleet).
 */
export function allFailures(
  ctx: Ctx,
  from: number,
  cats?: readonly Category[],
  filter?: (f: Failure) => boolean,
): { terminal: string; f: Failure }[] {
  const out: { terminal: string; f: Failure }[] = [];
  for (const t of ctx.tracker.terminals.values()) collect(ctx, out, t, from, cats, filter);
  return out;
}

function collect(
  ctx: Ctx,
  out: { terminal: string; f: Failure }[],
  t: TerminalState | undefined,
  from: number,
  cats: readonly Category[] | undefined,
  filter: ((f: Failure) => boolean) | undefined,
): void {
  if (!t) return;
  for (const f of ctx.tracker.failuresSince(t, from)) {
    if (cats && !cats.includes(f.cat)) continue;
    if (filter && !filter(f)) continue;
    out.push({ terminal: t.id, f });
  }
}

export function terminalsByCount(
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

export function sortedIds(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

export function scopeTerminals(ctx: Ctx, scope: Scope, key: string): readonly string[] {
  switch (scope) {
    case 'terminal':
      return [key];
    case 'merchant':
      return ctx.tracker.sorted(ctx.tracker.byMerchant.get(key));
    case 'region':
      return ctx.tracker.sorted(ctx.tracker.byRegion.get(key));
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
export function rateEvidence(
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
    // The window's failures, also when the evidence is built later: a resolve tells its last
    // firing's evidence, and rules memory builds an open episode's at the hour. The ring then
    // holds failures after the window too: a resolve listed terminals that failed after its
    // firing, and another list after a restart, whose memory had built it earlier.
    const to = from + ctx.engine.config.windowsMs[w]!;
    const cats = RULE_CATS[rule];
    const filter =
      scope === 'issuer'
        ? (f: Failure) => f.ts < to && f.issuerId === key
        : (f: Failure) => f.ts < to;
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

export function terminalWhere(ctx: Ctx, id: string): { merchantId?: string; region?: string } {
  const t = ctx.tracker.terminals.get(id);
  const info = t ?? ctx.engine.terminalInfo(id);
  return info ? { merchantId: info.merchantId, region: info.region } : {};
}

export function merchantRegion(ctx: Ctx, merchantId: string): string | undefined {
  const ids = ctx.tracker.byMerchant.get(merchantId);
  if (!ids) return undefined;
  for (const id of ids) return ctx.tracker.terminals.get(id)?.region;
  return undefined;
}

/** Distinct keys (terminals or merchants) among failures, for breadth checks. */
export function breadth(
  list: { terminal: string; f: Failure }[],
  by: 'terminal' | 'merchant',
  ctx: Ctx,
) {
  const s = new Set<string>();
  for (const x of list) {
    s.add(
      by === 'terminal' ? x.terminal : (ctx.tracker.terminals.get(x.terminal)?.merchantId ?? ''),
    );
  }
  return s.size;
}
