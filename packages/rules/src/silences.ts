import {
  RULE_IDS,
  SCOPES,
  compileRecurrence,
  hhmmSchema,
  inRecurrence,
  utcOffsetSchema,
  type CompiledRecurrence,
  type RuleId,
  type Scope,
  type SilenceRecurrence,
} from '@tillwatch/contracts';
import picomatch from 'picomatch';
import { z } from 'zod';

/**
 * Silences: planned maintenance and known problems. A silence matches by rule, scope and key
 * (exact or glob: `T0001*`, `CN-44-*`) within an absolute time range and/or a recurring daily
 * window (e.g. 02:00-04:00 at +08:00 on weekdays). A silenced alert is still tracked and
 * recorded; it is only kept from the sinks (Alertmanager's model).
 */

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const time = z.union([
  z.number().finite().nonnegative(),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);

export const silenceSchema = z
  .strictObject({
    id: z.string().min(1).optional(),
    /** a rule id, or a glob over rule ids (`terminal_*`) */
    rule: z.string().min(1).optional(),
    scope: z.enum(SCOPES).optional(),
    /** exact key or glob */
    key: z.string().min(1).optional(),
    /** the alert's merchant (exact or glob): a merchant's own alerts, whatever their scope */
    merchantId: z.string().min(1).optional(),
    /** the alert's region (exact or glob) */
    region: z.string().min(1).optional(),
    /** absolute range in event time: epoch ms or ISO-8601 with offset; either end open */
    from: time.optional(),
    until: time.optional(),
    recurring: z
      .strictObject({
        /** days of week the window starts on; all days when absent */
        days: z.array(z.union([z.enum(DAYS), z.number().int().min(0).max(6)])).optional(),
        start: hhmmSchema,
        /** end before start wraps past midnight (22:00-02:00) */
        end: hhmmSchema,
        utcOffset: utcOffsetSchema,
      })
      .optional(),
    comment: z.string().optional(),
  })
  .refine((s) => s.from === undefined || s.until === undefined || s.from < s.until, {
    message: 'from must be before until',
    path: ['until'],
  })
  .refine((s) => s.rule === undefined || matchesAnyRule(s.rule), {
    message: `matches no rule of the catalogue (${RULE_IDS.join(', ')})`,
    path: ['rule'],
  });

export type SilenceInput = z.input<typeof silenceSchema>;
export type Silence = z.output<typeof silenceSchema>;

function matchesAnyRule(pattern: string): boolean {
  const m = picomatch(pattern);
  return RULE_IDS.some((r) => m(r));
}

export interface SilenceTarget {
  rule: RuleId;
  scope: Scope;
  key: string;
  merchantId?: string | undefined;
  region?: string | undefined;
}

interface CompiledSilence {
  silence: Silence;
  rule?: (s: string) => boolean;
  key?: (s: string) => boolean;
  merchant?: (s: string) => boolean;
  region?: (s: string) => boolean;
  /** the daily window (@tillwatch/contracts: the gateway and the board match the same way) */
  recurring?: CompiledRecurrence;
}

function compile(s: Silence): CompiledSilence {
  const c: CompiledSilence = { silence: s };
  if (s.rule !== undefined) c.rule = picomatch(s.rule);
  if (s.key !== undefined) c.key = picomatch(s.key, { dot: true });
  if (s.merchantId !== undefined) c.merchant = picomatch(s.merchantId, { dot: true });
  if (s.region !== undefined) c.region = picomatch(s.region, { dot: true });
  if (s.recurring) {
    const r = s.recurring;
    c.recurring = compileRecurrence({
      start: r.start,
      end: r.end,
      utcOffset: r.utcOffset,
      ...(r.days ? { days: r.days.map((d) => (typeof d === 'number' ? d : DAYS.indexOf(d))) } : {}),
    });
  }
  return c;
}

function inRecurring(c: CompiledSilence, ts: number): boolean {
  return c.recurring === undefined || inRecurrence(c.recurring, ts);
}

export class SilenceSet {
  private compiled: CompiledSilence[] = [];

  constructor(list: readonly SilenceInput[] = []) {
    this.set(list);
  }

  /** Validate and replace the whole list; throws naming the silence and field on bad input. */
  set(list: readonly SilenceInput[]): void {
    const parsed = list.map((s, i) => {
      const r = silenceSchema.safeParse(s);
      if (!r.success) {
        const why = r.error.issues
          .map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`)
          .join('; ');
        throw Object.assign(new Error(`silence #${i}${s.id ? ` (${s.id})` : ''}: ${why}`), {
          code: 'TW_SILENCE',
          retriable: false,
        });
      }
      return r.data;
    });
    this.compiled = parsed.map(compile);
  }

  list(): Silence[] {
    return this.compiled.map((c) => c.silence);
  }

  /** The first silence that covers this alert at event time `ts`, if any. */
  match(target: SilenceTarget, ts: number): Silence | undefined {
    for (const c of this.compiled) {
      const s = c.silence;
      if (c.rule && !c.rule(target.rule)) continue;
      if (s.scope !== undefined && s.scope !== target.scope) continue;
      if (c.key && !c.key(target.key)) continue;
      // a merchant/region matcher never matches an alert without one (a region outage has no
      // merchant): silencing one shop must not mute the fleet's alerts
      if (c.merchant && (target.merchantId === undefined || !c.merchant(target.merchantId)))
        continue;
      if (c.region && (target.region === undefined || !c.region(target.region))) continue;
      if (s.from !== undefined && ts < s.from) continue;
      if (s.until !== undefined && ts >= s.until) continue;
      if (!inRecurring(c, ts)) continue;
      return s;
    }
    return undefined;
  }
}

/** A silence as the gateway stores it (@tillwatch/clickhouse StoredSilence, structurally). */
export interface StoredSilenceLike {
  id: string;
  matchers: { rule?: string; scope?: string; key?: string; merchantId?: string; region?: string };
  startsAt: string;
  endsAt: string;
  recurring?: SilenceRecurrence | undefined;
  comment?: string;
}

/** The gateway's silence (board, API) as the rules' silence: same matchers, same range. */
export function fromStoredSilence(s: StoredSilenceLike): SilenceInput {
  const m = s.matchers;
  return {
    id: s.id,
    ...(m.rule ? { rule: m.rule } : {}),
    ...(m.scope ? { scope: m.scope as Scope } : {}),
    ...(m.key ? { key: m.key } : {}),
    ...(m.merchantId ? { merchantId: m.merchantId } : {}),
    ...(m.region ? { region: m.region } : {}),
    from: Date.parse(s.startsAt),
    until: Date.parse(s.endsAt),
    ...(s.recurring ? { recurring: s.recurring } : {}),
    ...(s.comment ? { comment: s.comment } : {}),
  };
}
