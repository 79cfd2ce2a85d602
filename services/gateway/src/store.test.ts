import { describe, expect, it } from 'vitest';
import { applyWorkflowAction, type AlertWorkflow, type WorkflowAction } from './store';

const AT = '2026-03-02T10:00:00.000Z';
const LATER = '2026-03-02T10:05:00.000Z';

/** Fold actions from an open alert, as both stores do. */
const fold = (actions: (WorkflowAction & { at?: string })[]): AlertWorkflow =>
  actions.reduce<AlertWorkflow>((w, a) => applyWorkflowAction(w, a, a.at ?? AT), { state: 'open' });

describe('applyWorkflowAction', () => {
  it('acknowledge moves open to acknowledged and records who and when', () => {
    expect(fold([{ kind: 'acknowledge', actor: 'ana' }])).toEqual({
      state: 'acknowledged',
      acknowledgedBy: 'ana',
      acknowledgedAt: AT,
    });
  });

  it('a second acknowledge keeps the state and records the latest', () => {
    expect(
      fold([
        { kind: 'acknowledge', actor: 'ana' },
        { kind: 'acknowledge', actor: 'bo', at: LATER },
      ]),
    ).toEqual({ state: 'acknowledged', acknowledgedBy: 'bo', acknowledgedAt: LATER });
  });

  it('acknowledge does not reopen a resolved alert', () => {
    const w = fold([
      { kind: 'resolve', actor: 'sre' },
      { kind: 'acknowledge', actor: 'ana', at: LATER },
    ]);
    expect(w.state).toBe('resolved');
    expect(w).toMatchObject({ resolvedBy: 'sre', resolvedAt: AT, acknowledgedBy: 'ana' });
  });

  it('unack returns an acknowledged alert to open and forgets the acknowledgement', () => {
    expect(
      fold([
        { kind: 'assign', actor: 'ana', assignee: 'field-team' },
        { kind: 'acknowledge', actor: 'ana' },
        { kind: 'unack', actor: 'ana', at: LATER },
      ]),
    ).toEqual({ state: 'open', assignee: 'field-team' });
  });

  it('unack leaves open and resolved alerts as they are', () => {
    expect(fold([{ kind: 'unack', actor: 'ana' }])).toEqual({ state: 'open' });
    const resolved = fold([
      { kind: 'acknowledge', actor: 'ana' },
      { kind: 'resolve', actor: 'sre', at: LATER },
    ]);
    expect(applyWorkflowAction(resolved, { kind: 'unack', actor: 'ana' }, LATER)).toEqual(resolved);
  });

  it('assign sets the assignee in any state; an empty assignee changes nothing', () => {
    expect(fold([{ kind: 'assign', actor: 'ana', assignee: 'field-team' }])).toEqual({
      state: 'open',
      assignee: 'field-team',
    });
    expect(
      fold([
        { kind: 'assign', actor: 'ana', assignee: 'field-team' },
        { kind: 'assign', actor: 'ana', assignee: '' },
      ]).assignee,
    ).toBe('field-team');
    expect(
      fold([
        { kind: 'resolve', actor: 'sre' },
        { kind: 'assign', actor: 'ana', assignee: 'night-shift' },
      ]),
    ).toMatchObject({ state: 'resolved', assignee: 'night-shift' });
  });

  it('resolve closes from open or acknowledged, keeping the acknowledgement', () => {
    expect(fold([{ kind: 'resolve', actor: 'sre' }])).toEqual({
      state: 'resolved',
      resolvedBy: 'sre',
      resolvedAt: AT,
    });
    expect(
      fold([
        { kind: 'acknowledge', actor: 'ana' },
        { kind: 'resolve', actor: 'sre', at: LATER },
      ]),
    ).toEqual({
      state: 'resolved',
      acknowledgedBy: 'ana',
      acknowledgedAt: AT,
      resolvedBy: 'sre',
      resolvedAt: LATER,
    });
  });

  it('resolve records its verdict with who and when; the latest verdict wins; a resolve without one keeps it', () => {
    expect(fold([{ kind: 'resolve', actor: 'ana', verdict: 'expected' }])).toEqual({
      state: 'resolved',
      resolvedBy: 'ana',
      resolvedAt: AT,
      verdict: 'expected',
      verdictBy: 'ana',
      verdictAt: AT,
    });
    const w = fold([
      { kind: 'resolve', actor: 'ana', verdict: 'expected' },
      { kind: 'resolve', actor: 'bo', verdict: 'true_incident', at: LATER },
      { kind: 'resolve', actor: 'cy', at: LATER },
      { kind: 'acknowledge', actor: 'dee', at: LATER },
    ]);
    expect(w).toMatchObject({
      resolvedBy: 'cy',
      verdict: 'true_incident',
      verdictBy: 'bo',
      verdictAt: LATER,
    });
  });

  it('note changes nothing, and the workflow passed in is never modified', () => {
    const w: AlertWorkflow = { state: 'open' };
    const frozen = Object.freeze({ ...w });
    expect(applyWorkflowAction(frozen, { kind: 'note', actor: 'm' }, AT)).toEqual(w);
    for (const kind of ['acknowledge', 'unack', 'assign', 'resolve'] as const) {
      const next = applyWorkflowAction(frozen, { kind, actor: 'x', assignee: 'y' }, AT);
      expect(next).not.toBe(frozen);
    }
    expect(frozen).toEqual({ state: 'open' });
  });
});
