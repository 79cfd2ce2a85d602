import { readFileSync } from 'node:fs';
import { RULE_IDS, SEVERITIES, parseWindowLabel, type RuleId } from '@tillwatch/contracts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isTimeZone } from './calendar';
import defaults from './default-rules.json' with { type: 'json' };

/**
 * Rules and thresholds are configuration. A rules file (JSON or YAML) is deep-merged over the
 * shipped defaults (default-rules.json), then validated strictly: an unknown key, a bad
 * duration or an out-of-range number is refused with a reason that names the field.
 */

const DURATION = /^\d+(ms|s|m|h|d)$/;
const duration = z
  .string()
  .regex(DURATION, 'a duration like 30s, 5m, 1h')
  .refine((s) => !DURATION.test(s) || parseWindowLabel(s) > 0, 'must be > 0');
const rate = z.number().min(0).max(1);
const severity = z.enum(SEVERITIES);

/** Parameters every rate rule shares: the decision is k of n in `window`. */
const rateRule = {
  enabled: z.boolean(),
  severity,
  /** engine windows the rule judges, shortest first; it fires on the first that shows the
   *  evidence (a quiet terminal needs the longer window to gather enough auths) */
  windows: z.array(duration).min(1).max(4),
  /** minimum number of bad events in the window: low volume never fires */
  minCount: z.number().int().min(1),
  /** one-sided z of the Wilson lower bound (3.09 = 99.9 %) */
  z: z.number().positive().max(10),
  /** the lower bound must exceed baseline x factor ... */
  factor: z.number().min(1),
  /** ... and baseline + minExcess (absolute rate) */
  minExcess: rate,
  /** resolve once the point rate is below threshold x resolveRatio (hysteresis) */
  resolveRatio: z.number().gt(0).max(1),
  /** point rate from which the alert is critical; 0 = never escalate */
  criticalRate: rate,
  /** overrides the top-level hold for this rule */
  hold: duration.optional(),
  /**
   * Thin evidence said early: with fewer bad events than minCount (at least `minCount` of
   * these), the rule fires when the count is this unlikely under the key's reference rate
   * (Poisson tail P(X >= k) below pValue) and the rate is above the threshold. Such an alert
   * is at most a warning and carries `confidence: medium`; it becomes a normal alert (the
   * rule's severity, no confidence) once the full test passes.
   */
  early: z
    .strictObject({
      minCount: z.number().int().min(1),
      pValue: z.number().gt(0).lt(1),
      /** rules judged on breadth (regional_outage): distinct terminals failing, early */
      minTerminals: z.number().int().min(1).optional(),
      /**
       * What the window's rate must be above for the early test: the rule's `threshold`
       * (default), or `factor` x the reference alone, without minExcess: for a rule whose bad
       * events are news at any share of a busy key's traffic, its materiality judged elsewhere
       * (card testing: declines of small amounts over distinct cards; a 25-till merchant's
       * 200 auths in 5 min hid a burst of probes under the 5 % excess for 80 s)
       */
      above: z.enum(['threshold', 'factor']).optional(),
    })
    .optional(),
};

const rateRuleSchema = z.strictObject(rateRule);

/** Which of a rule's catalogue scopes are evaluated (docs/contract.md §3 lists the allowed ones). */
const scopes = (allowed: readonly ['merchant', 'terminal'] | readonly ['terminal', 'merchant']) =>
  z.array(z.enum(allowed)).min(1).max(2);

const timeZone = z.string().refine(isTimeZone, 'an IANA time zone, e.g. Asia/Shanghai');
const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a local date YYYY-MM-DD');

export const rulesConfigSchema = z.strictObject({
  /** trading calendar: the regions' time zones, public holidays, make-up workdays, peak days */
  calendar: z.strictObject({
    timeZone,
    regions: z.record(z.string(), timeZone),
    days: z.array(
      z.strictObject({
        date: localDate,
        to: localDate.optional(),
        kind: z.enum(['holiday', 'workday', 'peak']),
        name: z.string().min(1).max(64),
      }),
    ),
  }),
  /** rules are evaluated at this event-time cadence */
  evaluateEvery: duration,
  baseline: z.strictObject({
    /** per-scope EWMA half-life of past windows */
    halfLife: duration,
    /** weight (in auths) of the fleet prior in a key's baseline: shrinks small terminals */
    priorWeight: z.number().min(0),
    /** baselines take one closed window every this often */
    updateEvery: duration,
  }),
  /** a firing alert resolves after its clear condition held this long */
  hold: duration,
  /** after a resolve, the same rule/scope/key needs this long of clean time to re-fire (no flapping) */
  reopenGuard: duration,
  /** parent rule -> child rules folded into it while the parent fires */
  inhibit: z.partialRecord(z.enum(RULE_IDS), z.array(z.enum(RULE_IDS))),
  rules: z.strictObject({
    terminal_fault_spike: rateRuleSchema,
    terminal_network_errors: rateRuleSchema,
    regional_outage: z.strictObject({
      ...rateRule,
      /** distinct terminals with errors needed for an error-surge outage */
      minTerminals: z.number().int().min(1),
      collapse: z.strictObject({
        /** judged on this window (and its recovery), and first on the shorter fastWindow */
        window: duration,
        fastWindow: duration,
        /** expected events (auths + heartbeats) below which a collapse cannot be judged */
        minExpected: z.number().positive(),
        /** observed / expected events at or below this */
        ratio: rate,
        /** Poisson P(X <= observed | expected) of events must be below this */
        pValue: z.number().gt(0).max(0.1),
        /** a region dark for longer than fastWindow with P(no event in the gap) below this but
         *  not yet below pValue (a small region, two minutes in), judged against a profile that
         *  has seen this slot: a warning, confidence medium */
        darkPValue: z.number().gt(0).max(0.1),
        /** heartbeats observed / expected at or below this: terminals are gone, not just idle */
        heartbeatRatio: rate,
        /** observed / expected at or below this is a near-total silence: an outage (critical),
         *  whatever the calendar says; between this and `ratio`, only a profile that has seen
         *  this slot can call it, and only as a warning */
        nearTotal: rate,
        /** without a profile for the hour, a near-total silence that began within this many
         *  minutes after a local full hour is judged a likely closing: no page (a warning with
         *  confidence low when the region also shows outage errors) */
        closingMinutes: z.number().int().min(0).max(59),
        /** ...or in the last this many minutes before it: the last sales of a closing ring up
         *  just before the hour, and a region can fall quiet at 22:59 (a region cut at 16:58 is
         *  not closing: 2 minutes delayed such a cut by ten in a tuning week) */
        closingLeadMinutes: z.number().int().min(0).max(5),
        /** without a profile, a near-total silence pages only if this window (longer than the
         *  collapse windows) still held half the traffic expected: a cut is sudden, a region
         *  dwindling into the night is not */
        suddenWindow: duration,
        /** a silence judged a closing (above) is not one when the region's tills that stay on
         *  overnight (its fewest events in a slot over its last whole day) should have sent
         *  something in the gap: closing the shops does not switch those off. Below this p-value
         *  of their silence, the region is cut off: a warning, confidence medium. */
        nightFloorPValue: z.number().gt(0).max(0.1),
        /** a near-total silence of a region whose tills heard from in the 45 min before it
         *  fell quiet belong to fewer merchants than this is judged a likely closing: no page.
         *  One shop closing (or not opening) darkens such a region (a supermarket that is most
         *  of a small region, its street shops shut hours before); a cut there looks the same. */
        minMerchants: z.number().int().min(1),
      }),
      /** part of a region cut off: the terminals of one link (a carrier's cellular lines) gone
       *  silent or failing while the region's other links are not */
      partial: z.strictObject({
        enabled: z.boolean(),
        /** a terminal is silent after this long without an event (heartbeats come every 5 min) */
        gap: duration,
        /** affected terminals (silent or failing) of the link, at least */
        minTerminals: z.number().int().min(1),
        /** ... and at least this share of the link's live terminals in the region */
        share: rate,
        /** while at most this share of the region's other terminals went silent (a closing
         *  silences every link alike) */
        otherShare: rate,
        /** tills on and cut, at least: shops with a silent till while another of their tills
         *  kept selling, plus the link's tills still connected and failing (a closing switches a
         *  shop's tills off together and fails none); the affected tills span >= 3 shops. Twice
         *  as many page (`critical`); fewer than that is a warning of medium confidence */
        minOpenShops: z.number().int().min(0),
      }),
      /** a feed or platform outage: nearly every region that carries traffic silent, or failing
       *  with timeouts and switch errors, at the same evaluation; ONE alert (key `*`) that the
       *  regions' own outages fold into (rules/feed-outage.ts) */
      feed: z.strictObject({
        enabled: z.boolean(),
        /** affected regions / regions carrying traffic, at least */
        share: rate,
        /** and at least this many affected regions (fewer is what regional alerts are for) */
        minRegions: z.number().int().min(2),
        /** a region carries traffic when it is expected to send at least this many events
         *  (auths + heartbeats) in the window judged, or sent as many auths in it */
        minExpected: z.number().positive(),
        /** a region is silent when it sent at most this share of the events expected (less
         *  than a region's own nearTotal needs: the regions together are the evidence, and
         *  the feed's alert must be there before the first region's) */
        ratio: rate,
      }),
    }),
    terminal_silent: z.strictObject({
      enabled: z.boolean(),
      severity,
      /** no event at all for at least this long */
      minGap: duration,
      /** events the terminal normally sends in the gap (auths + heartbeats); P(0) = e^-12 */
      minExpected: z.number().positive(),
      /** days of hour-of-day history before a lone terminal can be called silent */
      minHistoryDays: z.number().min(0),
      hold: duration.optional(),
    }),
    reversal_spike: z.strictObject({ ...rateRule, scopes: scopes(['terminal', 'merchant']) }),
    failed_but_charged: z.strictObject({
      enabled: z.boolean(),
      severity,
      window: duration,
      /** A slow till (fewer than maxAuths auths in the window) is judged over this longer
       *  window too: its charges come many minutes apart, fewer than minCount in the window
       *  however faulty it is. */
      slow: z.strictObject({ window: duration, maxAuths: z.number().int().min(1) }).optional(),
      /** unreversed timeouts + failed reversals in the window */
      minCount: z.number().int().min(1),
      /** Poisson P(X >= count | baseline x auths) must be below this */
      pValue: z.number().gt(0).max(0.1),
      /** and count above baseline x factor */
      factor: z.number().min(1),
      hold: duration.optional(),
      /**
       * Early, on fewer charges (at least minCount) when the terminal's timeouts in the window
       * are this unlikely under its timeout rate (Poisson tail below pValue): a terminal
       * timing out wholesale whose timeouts come out charged; or when the charges are, either
       * together or told apart (failed reversals and unreversed timeouts, each against its own
       * rate, the product of the two tails). A warning, confidence medium.
       */
      early: z
        .strictObject({ minCount: z.number().int().min(1), pValue: z.number().gt(0).lt(1) })
        .optional(),
    }),
    no_settlement: z.strictObject({ ...rateRule, scopes: scopes(['merchant', 'terminal']) }),
    input_errors: rateRuleSchema,
    card_testing: z.strictObject({
      ...rateRule,
      /** distinct cards among the declines: one customer retrying one card is not testing */
      minDistinctCards: z.number().int().min(2),
      scopes: scopes(['merchant', 'terminal']),
    }),
    firmware_regression: z.strictObject({ ...rateRule, minTerminals: z.number().int().min(1) }),
    issuer_degradation: z.strictObject({ ...rateRule, minMerchants: z.number().int().min(1) }),
    terminal_clock_drift: z.strictObject({
      enabled: z.boolean(),
      severity,
      /** odd events counted over this much event time */
      window: duration,
      /** events stamped at least this far ahead of the partition's time, or late this far behind */
      minOffset: duration,
      /** ...at least this many of them in the window */
      minEvents: z.number().int().min(1),
      hold: duration.optional(),
    }),
  }),
});

export type RulesConfig = z.infer<typeof rulesConfigSchema>;
export type RateRuleConfig = z.infer<typeof rateRuleSchema>;
/** What a rules file may contain: any subset of RulesConfig, merged over the defaults. */
export type RulesConfigInput = DeepPartial<RulesConfig>;
type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export class RulesConfigError extends Error {
  readonly code = 'TW_RULES_CONFIG';
  readonly retriable = false;
  constructor(
    message: string,
    readonly source?: string,
  ) {
    super(source ? `rules config ${source}: ${message}` : `rules config: ${message}`);
    this.name = 'RulesConfigError';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return structuredClone(base);
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

export const DEFAULT_RULES_CONFIG: RulesConfig = rulesConfigSchema.parse(defaults);

/**
 * Validate a rules configuration (partial, merged over the defaults). Throws RulesConfigError
 * naming the field, e.g. `rules.card_testing.minDistinctCards: Too small: expected number to be >=2`.
 */
export function parseRulesConfig(input: unknown, source?: string): RulesConfig {
  if (input !== undefined && input !== null && !isPlainObject(input)) {
    throw new RulesConfigError('expected an object at the top level', source);
  }
  const merged = deepMerge(DEFAULT_RULES_CONFIG, input ?? {});
  const r = rulesConfigSchema.safeParse(merged);
  if (!r.success) {
    const reason = r.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    throw new RulesConfigError(reason, source);
  }
  const cfg = r.data;
  for (const [parent, children] of Object.entries(cfg.inhibit)) {
    if (children.includes(parent as RuleId)) {
      throw new RulesConfigError(`inhibit.${parent}: a rule cannot inhibit itself`, source);
    }
  }
  return cfg;
}

/** Parse the text of a rules file: YAML for .yaml/.yml, else JSON. */
export function parseRulesText(text: string, source = 'rules.json'): RulesConfig {
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(source) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new RulesConfigError(`cannot parse: ${(e as Error).message}`, source);
  }
  return parseRulesConfig(value, source);
}

/** Load and validate a rules file from disk. */
export function loadRulesFile(path: string): RulesConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RulesConfigError(`cannot read: ${(e as Error).message}`, path);
  }
  return parseRulesText(text, path);
}

/** Path of the shipped defaults, to copy as a starting point. */
export const DEFAULT_RULES_PATH = new URL('./default-rules.json', import.meta.url).pathname;
