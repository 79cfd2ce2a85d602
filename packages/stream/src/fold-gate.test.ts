import { describe, expect, it } from 'vitest';
import type { Alert } from '@tillwatch/contracts';
import { FoldGate } from './fold-gate';

const T = Date.UTC(2026, 2, 2, 2, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

function alert(
  rule: Alert['rule'],
  key: string,
  region: string,
  status: Alert['status'],
  at: number,
  id = `${rule}:${key}`,
): Alert {
  return {
    alertId: id,
    rule,
    severity: 'warning',
    status,
    scope: rule === 'regional_outage' ? 'region' : 'terminal',
    key,
    region,
    window: '5m',
    metric: 'm',
    value: 1,
    threshold: 0.5,
    baseline: 0,
    evidence: {},
    probableCauses: [],
    actions: [],
    firstSeen: iso(at),
    lastSeen: iso(at),
    ts: iso(at),
  } as Alert;
}

describe('FoldGate', () => {
  const gate = () => new FoldGate(() => new Set(['terminal_network_errors']));

  it('folds a child of an open regional outage, for its whole episode', () => {
    const g = gate();
    g.parent(alert('regional_outage', 'CN-31', 'CN-31', 'firing', T));
    expect(g.pass(alert('terminal_network_errors', 'T1', 'CN-31', 'firing', T + 5_000))).toBe(
      false,
    );
    g.parent(alert('regional_outage', 'CN-31', 'CN-31', 'resolved', T + 600_000));
    // its resolve after the parent's is folded too: the firing never went out
    expect(g.pass(alert('terminal_network_errors', 'T1', 'CN-31', 'resolved', T + 700_000))).toBe(
      false,
    );
    expect(g.foldedCount).toBe(1);
  });

  it('lets through other regions, rules the inhibit list does not name, and children long after', () => {
    const g = gate();
    g.parent(alert('regional_outage', 'CN-31', 'CN-31', 'firing', T));
    expect(g.pass(alert('terminal_network_errors', 'T2', 'CN-44', 'firing', T + 5_000))).toBe(true);
    expect(g.pass(alert('input_errors', 'T3', 'CN-31', 'firing', T + 5_000))).toBe(true);
    g.parent(alert('regional_outage', 'CN-31', 'CN-31', 'resolved', T + 600_000));
    // within the hour after the outage: still its consequence
    expect(g.pass(alert('terminal_network_errors', 'T4', 'CN-31', 'firing', T + 1_800_000))).toBe(
      false,
    );
    // past it: a page of its own, and its later transitions with it
    expect(g.pass(alert('terminal_network_errors', 'T5', 'CN-31', 'firing', T + 5_000_000))).toBe(
      true,
    );
    expect(g.pass(alert('terminal_network_errors', 'T5', 'CN-31', 'resolved', T + 5_600_000))).toBe(
      true,
    );
  });

  it('a child that fired before the outage keeps its episode', () => {
    const g = gate();
    expect(g.pass(alert('terminal_network_errors', 'T6', 'CN-31', 'firing', T - 60_000))).toBe(
      true,
    );
    g.parent(alert('regional_outage', 'CN-31', 'CN-31', 'firing', T));
    expect(g.pass(alert('terminal_network_errors', 'T6', 'CN-31', 'resolved', T + 60_000))).toBe(
      true,
    );
  });
});
