import type { IncidentLabel } from '@tillwatch/simulator';

/**
 * Scoring alerts against the simulator's labels. Definitions (printed with the tables):
 *
 * - An *episode* is one alertId: its first `firing` transition and its `resolved` one (if any).
 *   Its severity is the highest any of its `firing` transitions carried (an update may escalate).
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
 * - A *false critical* is an FP episode whose severity is `critical`: a page for nothing.
 * - A detected label is *late* when its first firing comes after the label's due time
 *   (targets.ts: the figure each kind of incident must be alerted within).
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
  severity?: string;
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
  severity: string;
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
  falseCriticals: number;
  /** per label id: delay in ms, or null when missed */
  delays: Record<string, number | null>;
  /** per label id with a figure (targets.ts): the delay allowed, ms after detectFrom */
  allowed: Record<string, number>;
  /** detected labels whose first firing came after their due time */
  late: number;
  falsePositives: Episode[];
}

/** One rule's share of a Score: its labels and its own episodes. */
export interface RuleScore extends Score {
  rule: string;
}

const BEFORE = 5 * 60_000;
const AFTER = 30 * 60_000;
const FLAP_MS = 3_600_000;
const RANK: Readonly<Record<string, number>> = { info: 0, warning: 1, critical: 2 };

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
        severity: t.severity ?? 'info',
        merchantId: t.merchantId,
        region: t.region,
      };
      byId.set(t.alertId, e);
    }
    if (t.status === 'resolved') e.resolvedAt = Date.parse(t.ts);
    else if ((RANK[t.severity ?? 'info'] ?? 0) > (RANK[e.severity] ?? 0)) e.severity = t.severity!;
  }
  return [...byId.values()].sort((a, b) => a.firedAt - b.firedAt);
}

function inWindow(l: IncidentLabel, ts: number): boolean {
  return ts >= l.detectFrom - BEFORE && ts <= l.detectUntil + AFTER;
}

/** merchant and region of each terminal, from the fleet */
export type Where = ReadonlyMap<string, { merchantId: string; region: string }>;

export interface ScoreOptions {
  /** match on scope and key only (the naive baseline has one rule for everything) */
  anyRule?: boolean;
  /** label id → event time its first alert is due by (targets.ts) */
  due?: Readonly<Record<string, number>>;
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

function emptyScore(labels: number): Score {
  return {
    labels,
    detected: 0,
    episodes: 0,
    tp: 0,
    related: 0,
    fp: 0,
    flaps: 0,
    falseCriticals: 0,
    delays: {},
    allowed: {},
    late: 0,
    falsePositives: [],
  };
}

/** The stream's score and each rule's: labels by their rule, episodes by theirs. */
export function scoreByRule(
  transitions: readonly Transition[],
  labels: readonly IncidentLabel[],
  where: Where,
  opts: ScoreOptions = {},
): { total: Score; rules: Map<string, RuleScore> } {
  const eps = episodesOf(transitions);
  const total = emptyScore(0);
  const rules = new Map<string, RuleScore>();
  const of = (rule: string): RuleScore => {
    let r = rules.get(rule);
    if (!r) rules.set(rule, (r = { rule, ...emptyScore(0) }));
    return r;
  };
  for (const l of labels) {
    const hit = eps.find(
      (e) =>
        (opts.anyRule || e.rule === l.rule) &&
        e.scope === l.scope &&
        e.key === l.key &&
        inWindow(l, e.firedAt),
    );
    const delay = hit ? hit.firedAt - l.detectFrom : null;
    const due = opts.due?.[l.id];
    for (const s of [total, of(l.rule)]) {
      s.labels++;
      s.delays[l.id] = delay;
      if (due !== undefined) s.allowed[l.id] = due - l.detectFrom;
      if (hit) s.detected++;
      if (hit && due !== undefined && hit.firedAt > due) s.late++;
    }
  }
  const lastResolved = new Map<string, number>();
  for (const e of eps) {
    const v = classify(e, labels, where, opts);
    const id = `${e.rule}|${e.scope}|${e.key}`;
    const prev = lastResolved.get(id);
    const flap = prev !== undefined && e.firedAt - prev < FLAP_MS;
    if (e.resolvedAt !== undefined) lastResolved.set(id, e.resolvedAt);
    for (const s of [total, of(e.rule)]) {
      s.episodes++;
      if (v === 'TP') s.tp++;
      else if (v === 'related') s.related++;
      else {
        s.fp++;
        s.falsePositives.push(e);
        if (e.severity === 'critical') s.falseCriticals++;
      }
      if (flap) s.flaps++;
    }
  }
  return { total, rules };
}

export function score(
  transitions: readonly Transition[],
  labels: readonly IncidentLabel[],
  where: Where,
  opts: ScoreOptions = {},
): Score {
  return scoreByRule(transitions, labels, where, opts).total;
}

/** Scores of several streams added up (delays keyed by label id, which are unique per stream). */
export function addScores<S extends Score>(into: S, s: Score, prefix = ''): S {
  into.labels += s.labels;
  into.detected += s.detected;
  into.episodes += s.episodes;
  into.tp += s.tp;
  into.related += s.related;
  into.fp += s.fp;
  into.flaps += s.flaps;
  into.falseCriticals += s.falseCriticals;
  into.late += s.late;
  for (const [k, v] of Object.entries(s.delays)) into.delays[prefix + k] = v;
  for (const [k, v] of Object.entries(s.allowed)) into.allowed[prefix + k] = v;
  into.falsePositives.push(...s.falsePositives);
  return into;
}

export function zeroScore(): Score {
  return emptyScore(0);
}

export function precision(s: Pick<Score, 'tp' | 'fp'>): number {
  return s.tp + s.fp === 0 ? 1 : s.tp / (s.tp + s.fp);
}

export function recall(s: Pick<Score, 'labels' | 'detected'>): number {
  return s.labels === 0 ? 1 : s.detected / s.labels;
}
