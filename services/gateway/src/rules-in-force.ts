import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RULE_IDS, SEVERITIES } from '@tillwatch/contracts';
import {
  DEFAULT_RULES_CONFIG,
  RULE_TEXTS,
  RulesConfigError,
  loadRulesFile,
  parseRulesText,
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

/** The rules file as an editor sees it: its text and the hash an edit must start from. */
export const rulesFileSchema = z.object({
  path: z.string(),
  text: z.string(),
  sha256: z.string(),
});
export type RulesFileView = z.infer<typeof rulesFileSchema>;

/** One edit of the rules file: who, when, the text before and after (by hash), and the text. */
export const rulesEditSchema = z.object({
  at: z.string(),
  by: z.string(),
  before: z.string().nullable(),
  after: z.string(),
  text: z.string(),
});
export type RulesEdit = z.infer<typeof rulesEditSchema>;

/** Why an edit was not made: the text is refused (400), or the file cannot take it (409). */
export class RulesEditError extends Error {
  constructor(
    readonly kind: 'invalid' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'RulesEditError';
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

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

  /** The rules file's text (admins edit it); undefined without RULES_FILE. */
  fileView(): RulesFileView | undefined {
    if (!this.file) return undefined;
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      // a missing file reads as empty: the defaults are in force
    }
    return { path: this.file, text, sha256: sha256(text) };
  }

  /**
   * Replace the rules file with `text` for `by`, if it is valid rules (parsed as the processor
   * parses them) and the file is still the one the editor started from (`base`, its sha256).
   * Written to a temporary file in the same directory and renamed over the old one, so a
   * processor watching the directory reads the old text or the new, never half of one. Each edit
   * is appended to `<file>.history.jsonl` (who, when, the text).
   */
  edit(text: string, base: string, by: string, now = Date.now()): RulesEdit {
    const view = this.fileView();
    if (!view) {
      throw new RulesEditError(
        'conflict',
        'no RULES_FILE: the processor runs the shipped defaults; give the gateway and the processor one writable RULES_FILE to edit rules here',
      );
    }
    if (view.sha256 !== base) {
      throw new RulesEditError(
        'conflict',
        'the rules file changed since it was opened: reload it and make the edit again',
      );
    }
    try {
      parseRulesText(text, basename(view.path));
    } catch (e) {
      throw new RulesEditError(
        'invalid',
        e instanceof RulesConfigError ? e.message : (e as Error).message,
      );
    }
    const entry: RulesEdit = {
      at: new Date(now).toISOString(),
      by,
      before: view.text === '' ? null : view.sha256,
      after: sha256(text),
      text,
    };
    const tmp = join(dirname(view.path), `.${basename(view.path)}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, text);
      renameSync(tmp, view.path);
      appendFileSync(`${view.path}.history.jsonl`, `${JSON.stringify(entry)}\n`);
    } catch (e) {
      throw new RulesEditError(
        'conflict',
        `the rules file cannot be written here (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): edit it where it is kept (a ConfigMap, a volume)`,
      );
    }
    this.follow(view.path);
    return entry;
  }

  /** The edits made through the gateway, newest first (`limit` of them). */
  history(limit = 50): RulesEdit[] {
    if (!this.file) return [];
    let lines: string[];
    try {
      lines = readFileSync(`${this.file}.history.jsonl`, 'utf8').split('\n');
    } catch {
      return [];
    }
    const out: RulesEdit[] = [];
    for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
      const line = lines[i]!.trim();
      if (!line) continue;
      const r = rulesEditSchema.safeParse(JSON.parse(line));
      if (r.success) out.push(r.data);
    }
    return out;
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
