import { z } from 'zod';
import { RULE_IDS, type RuleId } from './alerts';

/**
 * Analysts' verdicts and the per-rule precision report built from them (`GET /api/quality`).
 * Closing an alert (`POST /api/alerts/:id/resolve`) requires one verdict:
 * - `true_incident`: the rule saw something real that needed people;
 * - `false_alarm`: nothing was wrong, the rule should not have fired;
 * - `expected`: real but planned or known (maintenance, a shop closing on the minute): neither
 *   a hit nor a false alarm of the rule, so it is counted apart and kept out of precision.
 */
export const VERDICTS = ['true_incident', 'false_alarm', 'expected'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** What a store counts per rule: episodes raised in the period and their latest verdicts. */
export interface RuleVerdictCounts {
  rule: RuleId;
  /** alert episodes whose firstSeen is in the period */
  raised: number;
  /** of those, how many carry each verdict (an episode's latest verdict only) */
  true_incident: number;
  false_alarm: number;
  expected: number;
}

const count = z.number().int().nonnegative();
const share = z.number().min(0).max(1).nullable();

const qualityFigures = {
  raised: count,
  verdicts: z.object({ true_incident: count, false_alarm: count, expected: count }),
  /** episodes with a verdict, and without one */
  withVerdict: count,
  withoutVerdict: count,
  /** true / (true + false); null when neither was given (expected ones are not in it) */
  precision: share,
  /** withoutVerdict / raised; null when nothing was raised */
  withoutVerdictShare: share,
};

export const ruleQualitySchema = z.object({ rule: z.enum(RULE_IDS), ...qualityFigures });
export type RuleQuality = z.infer<typeof ruleQualitySchema>;

export const qualityTotalSchema = z.object(qualityFigures);
export type QualityTotal = z.infer<typeof qualityTotalSchema>;

/** The body of `GET /api/quality`. */
export const qualityReportSchema = z.object({
  days: z.number().int().min(1).max(365),
  /** the period: episodes whose firstSeen is at or after `since` (whole seconds), until now */
  since: z.iso.datetime({ offset: true }),
  until: z.iso.datetime({ offset: true }),
  /** rules that raised anything in the period, in catalogue order */
  rules: z.array(ruleQualitySchema),
  total: qualityTotalSchema,
});
export type QualityReport = z.infer<typeof qualityReportSchema>;

function figures(c: Omit<RuleVerdictCounts, 'rule'>): QualityTotal {
  const withVerdict = c.true_incident + c.false_alarm + c.expected;
  // a store never counts more verdicts than episodes; clamp so a share stays a share if one did
  const withoutVerdict = Math.max(0, c.raised - withVerdict);
  const judged = c.true_incident + c.false_alarm;
  return {
    raised: c.raised,
    verdicts: {
      true_incident: c.true_incident,
      false_alarm: c.false_alarm,
      expected: c.expected,
    },
    withVerdict,
    withoutVerdict,
    precision: judged > 0 ? c.true_incident / judged : null,
    withoutVerdictShare: c.raised > 0 ? withoutVerdict / c.raised : null,
  };
}

/**
 * The report from a store's counts: the one definition of precision and of the share without a
 * verdict, which the gateway serves and the board and the CLI only print. Rules in catalogue
 * order; a rule that raised nothing in the period is left out.
 */
export function qualityReport(p: {
  days: number;
  since: number;
  until: number;
  counts: readonly RuleVerdictCounts[];
}): QualityReport {
  const byRule = new Map<RuleId, Omit<RuleVerdictCounts, 'rule'>>();
  const sum = { raised: 0, true_incident: 0, false_alarm: 0, expected: 0 };
  for (const c of p.counts) {
    const acc = byRule.get(c.rule) ?? { raised: 0, true_incident: 0, false_alarm: 0, expected: 0 };
    for (const k of ['raised', 'true_incident', 'false_alarm', 'expected'] as const) {
      acc[k] += c[k];
      sum[k] += c[k];
    }
    byRule.set(c.rule, acc);
  }
  const rules: RuleQuality[] = [];
  for (const rule of RULE_IDS) {
    const c = byRule.get(rule);
    if (c && c.raised > 0) rules.push({ rule, ...figures(c) });
  }
  return {
    days: p.days,
    since: new Date(p.since).toISOString(),
    until: new Date(p.until).toISOString(),
    rules,
    total: figures(sum),
  };
}
