import type { RuleId, Scope } from '@tillwatch/contracts';
import { HOUR_MS, MINUTE_MS } from './fleet';
import type { IncidentScenario } from './types';

/**
 * Incident scenarios: what each one does to the events, which alert it must raise, and how its
 * target is chosen. Effects are probabilities scaled by `intensity` (1 = default), sized so that
 * a rule with a minimum count and a statistical bound catches them within its window while the
 * healthy fleet stays far below (healthy: ~0.12% terminal-side codes, ~0.2% timeouts, ~0.9%
 * input-error codes, ~0.5% reversals per terminal).
 */

interface ScenarioSpec {
  rule: RuleId;
  scope: Scope;
  /** default duration range, ms */
  duration: readonly [number, number];
}

export const SCENARIO_SPECS: Readonly<Record<IncidentScenario, ScenarioSpec>> = {
  'regional-outage-errors': {
    rule: 'regional_outage',
    scope: 'region',
    duration: [20 * MINUTE_MS, 40 * MINUTE_MS],
  },
  'regional-outage-silence': {
    rule: 'regional_outage',
    scope: 'region',
    duration: [20 * MINUTE_MS, 40 * MINUTE_MS],
  },
  'terminal-fault': {
    rule: 'terminal_fault_spike',
    scope: 'terminal',
    duration: [60 * MINUTE_MS, 120 * MINUTE_MS],
  },
  'terminal-network': {
    rule: 'terminal_network_errors',
    scope: 'terminal',
    duration: [45 * MINUTE_MS, 90 * MINUTE_MS],
  },
  'reversal-storm': {
    rule: 'reversal_spike',
    scope: 'terminal',
    duration: [45 * MINUTE_MS, 90 * MINUTE_MS],
  },
  'failed-but-charged': {
    rule: 'failed_but_charged',
    scope: 'terminal',
    duration: [45 * MINUTE_MS, 90 * MINUTE_MS],
  },
  'settlement-gap': {
    rule: 'no_settlement',
    scope: 'merchant',
    duration: [2 * HOUR_MS, 3 * HOUR_MS],
  },
  'input-errors': {
    rule: 'input_errors',
    scope: 'terminal',
    duration: [60 * MINUTE_MS, 120 * MINUTE_MS],
  },
  'card-testing': {
    rule: 'card_testing',
    scope: 'merchant',
    duration: [10 * MINUTE_MS, 20 * MINUTE_MS],
  },
  'firmware-regression': {
    rule: 'firmware_regression',
    scope: 'firmware',
    duration: [3 * HOUR_MS, 4 * HOUR_MS],
  },
  'issuer-outage': {
    rule: 'issuer_degradation',
    scope: 'issuer',
    duration: [30 * MINUTE_MS, 60 * MINUTE_MS],
  },
  'terminal-silent': {
    rule: 'terminal_silent',
    scope: 'terminal',
    duration: [60 * MINUTE_MS, 120 * MINUTE_MS],
  },
  'carrier-outage': {
    rule: 'regional_outage',
    scope: 'region',
    duration: [30 * MINUTE_MS, 60 * MINUTE_MS],
  },
  'outage-at-closing': {
    rule: 'regional_outage',
    scope: 'region',
    duration: [20 * MINUTE_MS, 40 * MINUTE_MS],
  },
};
