import { describe, expect, it } from 'vitest';
import { matchLabel } from './labels';
import type { IncidentLabel } from './types';

const label: IncidentLabel = {
  id: 'terminal-fault#1',
  scenario: 'terminal-fault',
  rule: 'terminal_fault_spike',
  scope: 'terminal',
  key: 'T000001',
  start: 1_000_000,
  end: 2_000_000,
  startIso: new Date(1_000_000).toISOString(),
  endIso: new Date(2_000_000).toISOString(),
  detectFrom: 1_000_000,
  detectUntil: 2_000_000,
  alsoMatches: [{ rule: 'reversal_spike', scope: 'terminal', key: 'T000001' }],
  description: '',
  params: {},
};

describe('matchLabel', () => {
  const alert = { rule: 'terminal_fault_spike', scope: 'terminal', key: 'T000001' };
  it('matches the primary alert inside the detection window, ISO or epoch', () => {
    expect(matchLabel(label, { ...alert, firstSeen: 1_500_000 })).toBe('primary');
    expect(matchLabel(label, { ...alert, firstSeen: new Date(1_500_000).toISOString() })).toBe(
      'primary',
    );
  });
  it('accepts listed consequences as `also`', () => {
    expect(
      matchLabel(label, {
        rule: 'reversal_spike',
        scope: 'terminal',
        key: 'T000001',
        firstSeen: 1_500_000,
      }),
    ).toBe('also');
  });
  it('rejects other keys, other rules and alerts far outside the window', () => {
    expect(matchLabel(label, { ...alert, key: 'T000002', firstSeen: 1_500_000 })).toBeNull();
    expect(matchLabel(label, { ...alert, rule: 'input_errors', firstSeen: 1_500_000 })).toBeNull();
    expect(matchLabel(label, { ...alert, firstSeen: 1_000_000 - 61_000 })).toBeNull();
    expect(matchLabel(label, { ...alert, firstSeen: 2_000_000 + 3_600_001 })).toBeNull();
    expect(matchLabel(label, { ...alert, firstSeen: 2_000_000 + 3_600_000 })).toBe('primary');
  });
});
