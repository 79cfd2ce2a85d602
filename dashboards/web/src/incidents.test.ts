import { describe, expect, it } from 'vitest';
import { foldedIntoId, groupByIncident } from './incidents';
import type { AlertItem } from './types';

const item = (
  alertId: string,
  o: { rule?: string; scope?: string; key?: string; evidence?: Record<string, unknown> } = {},
): AlertItem =>
  ({
    alert: {
      alertId,
      rule: o.rule ?? 'terminal_network_errors',
      scope: o.scope ?? 'terminal',
      key: o.key ?? alertId,
      evidence: o.evidence ?? {},
    },
    workflow: { state: 'open' },
  }) as unknown as AlertItem;

const into = (alertId: string) => ({
  foldedInto: { alertId, rule: 'regional_outage', scope: 'region', key: 'CN-42' },
});

describe('groupByIncident', () => {
  it('puts a folded alert under its incident, at the place of the group’s first member', () => {
    const child = item('t1', { key: 'T1', evidence: into('out') });
    const lone = item('t9', { key: 'T9' });
    const outage = item('out', {
      rule: 'regional_outage',
      scope: 'region',
      key: 'CN-42',
      evidence: {
        foldedCount: 3,
        folded: [
          { rule: 'terminal_network_errors', scope: 'terminal', key: 'T1', since: 1 },
          { rule: 'terminal_network_errors', scope: 'terminal', key: 'T2', since: 2 },
          { rule: 'merchant_failure_spike', scope: 'merchant', key: 'M7', since: 3 },
        ],
      },
    });
    // the feed's order: the child ranked first (critical), then a lone alert, then the incident
    const groups = groupByIncident([child, lone, outage]);
    expect(groups.map((g) => g.item.alert.alertId)).toEqual(['out', 't9']);
    expect(groups[0]!.children.map((c) => c.alert.alertId)).toEqual(['t1']);
    // T1 has its own card under the incident: not named again among the explained
    expect(groups[0]!.explained).toEqual([
      { rule: 'terminal_network_errors', scope: 'terminal', key: 'T2' },
      { rule: 'merchant_failure_spike', scope: 'merchant', key: 'M7' },
    ]);
    expect(groups[0]!.explainedCount).toBe(3);
    expect(groups[1]!).toMatchObject({ children: [], explained: [], explainedCount: 0 });
  });

  it('leaves an alert alone when its incident is not in the list (filtered out or gone)', () => {
    const child = item('t1', { evidence: into('out') });
    expect(groupByIncident([child]).map((g) => [g.item.alert.alertId, g.children.length])).toEqual([
      ['t1', 0],
    ]);
  });

  it('counts at least what it lists, whatever foldedCount says, and skips malformed entries', () => {
    const outage = item('out', {
      evidence: {
        foldedCount: 'many',
        folded: [{ rule: 'r', scope: 'terminal', key: 'T5' }, 7, null],
      },
    });
    const [g] = groupByIncident([outage, item('t1', { evidence: into('out') })]);
    expect(g!.explained).toEqual([{ rule: 'r', scope: 'terminal', key: 'T5' }]);
    expect(g!.explainedCount).toBe(2);
  });

  it('nests one level only: an alert folded into a folded one stays with its own group', () => {
    const a = item('a', { evidence: into('b') });
    const b = item('b', { evidence: into('c') });
    const c = item('c');
    const groups = groupByIncident([a, b, c]);
    expect(
      groups.map((g) => [g.item.alert.alertId, g.children.map((x) => x.alert.alertId)]),
    ).toEqual([
      ['a', []],
      ['c', ['b']],
    ]);
  });

  it('reads foldedInto only when it names an alert id', () => {
    expect(foldedIntoId(item('x', { evidence: into('out') }))).toBe('out');
    expect(foldedIntoId(item('x', { evidence: { foldedInto: 'out' } }))).toBeUndefined();
    expect(foldedIntoId(item('x', { evidence: { foldedInto: { alertId: '' } } }))).toBeUndefined();
    expect(foldedIntoId(item('x'))).toBeUndefined();
  });
});
