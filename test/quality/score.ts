import type { IncidentLabel } from '@tillwatch/simulator';

/**
 * Scoring alerts against the simulator's labels. Definitions (printed with the table):
 *
 * - An *episode* is one alertId: its first `firing` transition and its `resolved` one (if any).
 * - A label is *detected* when an episode with exactly the label's rule, scope and key first
 *   fires inside [detectFrom - 5 min, detectUntil + 30 min]. Recall = detected / labels.
 * - *Delay* = that first firing's ts - detectFrom (event time; detectFrom = start except for
 *   settlement gaps, whose evidence appears at the settlement deadline).
 * - Every episode is then one of:
 *   TP       it detects a label (right rule, scope, key, time);
 *   related  same time window, and either listed in the label's alsoMatches (true
 *            consequences the simulator declares, e.g. reversals at a faulty terminal) or on
 *            the label's own footprint (one of its terminals, their merchant or region);
 *   FP       anything else.
 *   Precision = TP / (TP + FP); strict precision = TP / all episodes.
 * - A *flap* is an episode of a (rule, scope, key) that fires less than 1 h after the previous
 *   episode of the same (rule, scope, key) resolved.
 */

export interface Transition {
  alertId: string;
  rule: string;
  scope: string;
  key: string;
  status: 'firing' | 'resolved';
  ts: string;
  merchantId?: string;
  region?: string;
}

export interface Episode {
  alertId: string;
  rule: string;
  scope: string;
  key: string;
  firedAt: number;
  resolvedAt?: number;
  merchantId?: string;
  region?: string;
}

export type Verdict = 'TP' | 'related' | 'FP';

export interface Score {
  labels: number;
  detected: number;
  episodes: number;
  tp: number;
  related: number;
  fp: number;
  flaps: number;
  /** per label id: delay in ms, or null when missed */
  delays: Record<string, number | null>;
  falsePositives: Episode[];
}

const BEFORE = 5 * 60_000;
const AFTER = 30 * 60_000;
const FLAP_MS = 3_600_000;

export function episodesOf(transitions: readonly Transition[]): Episode[] {
  const byId = new Map<string, Episode>();
  for (const t of transitions) {
    let e = byId.get(t.alertId);
    if (!e) {
      if (t.status !== 'firing') continue;
      e = {
        alertId: t.alertId,
        rule: t.rule,
        scope: t.scope,
        key: t.key,
        firedAt: Date.parse(t.ts),
        merchantId: t.merchantId,
        region: t.region,
      };
      byId.set(t.alertId, e);
    }
    if (t.status === 'resolved') e.resolvedAt = Date.parse(t.ts);
  }
  return [...byId.values()].sort((a, b) => a.firedAt - b.firedAt);
}

function inWindow(l: IncidentLabel, ts: number): boolean {
  return ts >= l.detectFrom - BEFORE && ts <= l.detectUntil + AFTER;
}

/** merchant and region of each terminal, from the event stream */
export type Where = ReadonlyMap<string, { merchantId: string; region: string }>;

export interface ScoreOptions {
  /** match on scope and key only (the naive baseline has one rule for everything) */
  anyRule?: boolean;
}

export function classify(
  e: Episode,
  labels: readonly IncidentLabel[],
  where: Where,
  opts: ScoreOptions = {},
): Verdict {
  let related = false;
  const same = (rule: string) => opts.anyRule || rule === e.rule;
  for (const l of labels) {
    if (!inWindow(l, e.firedAt)) continue;
    if (same(l.rule) && l.scope === e.scope && l.key === e.key) return 'TP';
    if (l.alsoMatches.some((m) => same(m.rule) && m.scope === e.scope && m.key === e.key)) {
      related = true;
      continue;
    }
    const terms = new Set(l.terminals ?? []);
    const merchants = new Set<string>();
    const regions = new Set<string>();
    if (l.merchantId) merchants.add(l.merchantId);
    if (l.region) regions.add(l.region);
    for (const t of terms) {
      const w = where.get(t);
      if (w) {
        merchants.add(w.merchantId);
        if (l.scope !== 'firmware') regions.add(w.region);
      }
    }
    if (
      (e.scope === 'terminal' && terms.has(e.key)) ||
      (e.scope === 'merchant' && merchants.has(e.key)) ||
      (e.scope === 'region' && regions.has(e.key) && l.scope === 'region')
    ) {
      related = true;
    }
  }
  return related ? 'related' : 'FP';
}

export function score(
  transitions: readonly Transition[],
  labels: readonly IncidentLabel[],
  where: Where,
  opts: ScoreOptions = {},
): Score {
  const eps = episodesOf(transitions);
  const s: Score = {
    labels: labels.length,
    detected: 0,
    episodes: eps.length,
    tp: 0,
    related: 0,
    fp: 0,
    flaps: 0,
    delays: {},
    falsePositives: [],
  };
  for (const l of labels) {
    const hit = eps.find(
      (e) =>
        (opts.anyRule || e.rule === l.rule) &&
        e.scope === l.scope &&
        e.key === l.key &&
        inWindow(l, e.firedAt),
    );
    s.delays[l.id] = hit ? hit.firedAt - l.detectFrom : null;
    if (hit) s.detected++;
  }
  const lastResolved = new Map<string, number>();
  for (const e of eps) {
    const v = classify(e, labels, where, opts);
    if (v === 'TP') s.tp++;
    else if (v === 'related') s.related++;
    else {
      s.fp++;
      s.falsePositives.push(e);
    }
    const id = `${e.rule}|${e.scope}|${e.key}`;
    const prev = lastResolved.get(id);
    if (prev !== undefined && e.firedAt - prev < FLAP_MS) s.flaps++;
    if (e.resolvedAt !== undefined) lastResolved.set(id, e.resolvedAt);
  }
  return s;
}

export function precision(s: Pick<Score, 'tp' | 'fp'>): number {
  return s.tp + s.fp === 0 ? 1 : s.tp / (s.tp + s.fp);
}
