import { statSync } from 'node:fs';
import { RULE_IDS, SEVERITIES } from '@tillwatch/contracts';
import {
  DEFAULT_RULES_CONFIG,
  RULE_TEXTS,
  loadRulesFile,
  type RulesConfig,
} from '@tillwatch/rules';
import { z } from 'zod';

/**
 * GET /api/rules: the rules the processor runs, read from the same RULES_FILE (merged over the
 * shipped defaults by @tillwatch/rules, as the processor merges it) and followed as the
 * processor follows it: an edit is read on the next request; an edit the rules refuse keeps
 * the last valid set, as the processor keeps it, and says why (`refused`).
 */

const factValue = z.union([z.number(), z.string(), z.boolean(), z.array(z.string())]);
/** One configured parameter: `name` is its key in the rules file, dotted below the rule. */
export const ruleFactSchema = z.object({ name: z.string(), value: factValue });
export type RuleFact = z.infer<typeof ruleFactSchema>;

const textsSchema = z.object({ probableCauses: z.array(z.string()), actions: z.array(z.string()) });

export const ruleInForceSchema = z.object({
  rule: z.enum(RULE_IDS),
  enabled: z.boolean(),
  severity: z.enum(SEVERITIES),
  /** the windows the rule judges, shortest first (`window` for the single-window rules) */
  windows: z.array(z.string()),
  /** how long the clear condition holds before the alert resolves (the rule's, else the top level's) */
  hold: z.string(),
  /** every other parameter as configured: minCount, z, factor, minExcess, collapse.ratio, ... */
  thresholds: z.array(ruleFactSchema),
  /** the early test on thin evidence (minCount, pValue, ...), null when the rule has none */
  early: z.array(ruleFactSchema).nullable(),
  /** rules folded into this one while it fires */
  inhibits: z.array(z.enum(RULE_IDS)),
  /** the guides' probable causes and actions in both languages */
  texts: z.object({ en: textsSchema, zh: textsSchema }),
});
export type RuleInForce = z.infer<typeof ruleInForceSchema>;

export const rulesReportSchema = z.object({
  /** `file`: RULES_FILE merged over the defaults; `defaults`: no rules file is configured */
  source: z.enum(['file', 'defaults']),
  /** why the rules file's current content was refused (the last valid set is shown), else null */
  refused: z.string().nullable(),
  evaluateEvery: z.string(),
  reopenGuard: z.string(),
  rules: z.array(ruleInForceSchema),
});
export type RulesReport = z.infer<typeof rulesReportSchema>;

/** Keys shown apart from the thresholds. */
const APART = new Set(['enabled', 'severity', 'windows', 'window', 'hold', 'early']);

function flatten(prefix: string, obj: Record<string, unknown>, out: RuleFact[]): RuleFact[] {
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) out.push({ name, value: v.map(String) });
    else if (typeof v === 'object') flatten(name, v as Record<string, unknown>, out);
    else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') {
      out.push({ name, value: v });
    }
  }
  return out;
}

/** The report of a rule set: one entry per contract rule id, in the contract's order. */
export function rulesReport(
  cfg: RulesConfig,
  source: RulesReport['source'],
  refused: string | null = null,
): RulesReport {
  const rules = RULE_IDS.map((rule): RuleInForce => {
    const r = cfg.rules[rule] as Record<string, unknown> & {
      enabled: boolean;
      severity: RuleInForce['severity'];
      windows?: string[];
      window?: string;
      hold?: string;
      early?: Record<string, unknown>;
    };
    const rest = Object.fromEntries(Object.entries(r).filter(([k]) => !APART.has(k)));
    return {
      rule,
      enabled: r.enabled,
      severity: r.severity,
      windows: r.windows ? [...r.windows] : r.window ? [r.window] : [],
      hold: r.hold ?? cfg.hold,
      thresholds: flatten('', rest, []),
      early: r.early ? flatten('', r.early, []) : null,
      inhibits: [...(cfg.inhibit[rule] ?? [])],
      texts: {
        en: structuredClone(RULE_TEXTS[rule].en),
        zh: structuredClone(RULE_TEXTS[rule].zh),
      },
    };
  });
  return {
    source,
    refused,
    evaluateEvery: cfg.evaluateEvery,
    reopenGuard: cfg.reopenGuard,
    rules,
  };
}

/** The rule set in force: RULES_FILE's (re-read when it changes), else the defaults. */
export class RulesInForce {
  private config: RulesConfig;
  private stamp = '';
  private refused: string | null = null;

  constructor(private readonly file?: string) {
    this.config = file ? loadRulesFile(file) : DEFAULT_RULES_CONFIG;
    if (file) this.stamp = this.stampOf(file);
  }

  report(): RulesReport {
    if (this.file) this.follow(this.file);
    return rulesReport(this.config, this.file ? 'file' : 'defaults', this.refused);
  }

  private stampOf(file: string): string {
    try {
      const s = statSync(file);
      return `${s.mtimeMs}:${s.size}`;
    } catch {
      return 'missing';
    }
  }

  private follow(file: string): void {
    const stamp = this.stampOf(file);
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    try {
      this.config = loadRulesFile(file);
      this.refused = null;
    } catch (e) {
      this.refused = (e as Error).message;
    }
  }
}
