import { describe, expect, it } from 'vitest';
import { qualityReport, qualityReportSchema, type RuleVerdictCounts } from './quality';
import { auditEntrySchema, alertWorkflowSchema } from './socket';

const SINCE = Date.parse('2026-02-01T00:00:00.000Z');
const UNTIL = Date.parse('2026-03-03T00:00:00.000Z');
const c = (
  rule: RuleVerdictCounts['rule'],
  raised: number,
  t: number,
  f: number,
  e: number,
): RuleVerdictCounts => ({ rule, raised, true_incident: t, false_alarm: f, expected: e });

describe('qualityReport', () => {
  it('precision is true / (true + false); expected ones are apart; the rest have no verdict', () => {
    const r = qualityReport({
      days: 30,
      since: SINCE,
      until: UNTIL,
      counts: [c('regional_outage', 10, 3, 1, 4), c('terminal_fault_spike', 5, 0, 0, 0)],
    });
    expect(qualityReportSchema.parse(r)).toEqual(r);
    expect(r.since).toBe('2026-02-01T00:00:00.000Z');
    expect(r.rules).toEqual([
      {
        rule: 'terminal_fault_spike',
        raised: 5,
        verdicts: { true_incident: 0, false_alarm: 0, expected: 0 },
        withVerdict: 0,
        withoutVerdict: 5,
        precision: null,
        withoutVerdictShare: 1,
      },
      {
        rule: 'regional_outage',
        raised: 10,
        verdicts: { true_incident: 3, false_alarm: 1, expected: 4 },
        withVerdict: 8,
        withoutVerdict: 2,
        precision: 0.75,
        withoutVerdictShare: 0.2,
      },
    ]);
    expect(r.total).toEqual({
      raised: 15,
      verdicts: { true_incident: 3, false_alarm: 1, expected: 4 },
      withVerdict: 8,
      withoutVerdict: 7,
      precision: 0.75,
      withoutVerdictShare: 7 / 15,
    });
  });

  it('only expected verdicts: no precision; nothing raised: no rows and no shares', () => {
    const only = qualityReport({
      days: 7,
      since: SINCE,
      until: UNTIL,
      counts: [c('terminal_silent', 2, 0, 0, 2)],
    });
    expect(only.rules[0]).toMatchObject({ precision: null, withoutVerdictShare: 0 });
    const none = qualityReport({ days: 7, since: SINCE, until: UNTIL, counts: [] });
    expect(none.rules).toEqual([]);
    expect(none.total).toMatchObject({ raised: 0, precision: null, withoutVerdictShare: null });
  });

  it('rows of one rule from several parts are added up; a rule with nothing raised is left out', () => {
    const r = qualityReport({
      days: 30,
      since: SINCE,
      until: UNTIL,
      counts: [
        c('card_testing', 2, 1, 1, 0),
        c('card_testing', 3, 2, 0, 0),
        c('input_errors', 0, 0, 0, 0),
      ],
    });
    expect(r.rules.map((x) => [x.rule, x.raised, x.precision])).toEqual([
      ['card_testing', 5, 0.75],
    ]);
  });

  it('workflow and audit lines carry a verdict only from the list', () => {
    const at = '2026-03-02T10:00:00.000Z';
    expect(
      alertWorkflowSchema.parse({
        state: 'resolved',
        verdict: 'expected',
        verdictBy: 'ana',
        verdictAt: at,
      }).verdict,
    ).toBe('expected');
    expect(alertWorkflowSchema.safeParse({ state: 'resolved', verdict: 'maybe' }).success).toBe(
      false,
    );
    const entry = { id: 'x', alertId: 'a', at, action: 'resolve', actor: 'ana', role: 'analyst' };
    expect(auditEntrySchema.parse({ ...entry, verdict: 'false_alarm' }).verdict).toBe(
      'false_alarm',
    );
    expect(auditEntrySchema.safeParse({ ...entry, verdict: 'nope' }).success).toBe(false);
  });
});
