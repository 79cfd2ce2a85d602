import { z } from 'zod';

/** Rule catalogue (docs/contract.md §3). Ids are part of the contract. */
export const RULE_IDS = [
  'terminal_fault_spike',
  'terminal_network_errors',
  'regional_outage',
  'terminal_silent',
  'reversal_spike',
  'failed_but_charged',
  'no_settlement',
  'input_errors',
  'card_testing',
  'firmware_regression',
  'issuer_degradation',
  // (added) a terminal whose events arrive stamped minutes away from its partition's time
  'terminal_clock_drift',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export const SCOPES = ['terminal', 'merchant', 'region', 'firmware', 'issuer'] as const;
export type Scope = (typeof SCOPES)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const LANGUAGES = ['en', 'zh'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Which scopes each rule may be raised on. */
export const RULE_SCOPES: Readonly<Record<RuleId, readonly Scope[]>> = {
  terminal_fault_spike: ['terminal'],
  terminal_network_errors: ['terminal'],
  regional_outage: ['region'],
  terminal_silent: ['terminal'],
  reversal_spike: ['terminal', 'merchant'],
  failed_but_charged: ['terminal'],
  no_settlement: ['merchant', 'terminal'],
  input_errors: ['terminal'],
  card_testing: ['merchant', 'terminal'],
  firmware_regression: ['firmware'],
  issuer_degradation: ['issuer'],
  terminal_clock_drift: ['terminal'],
};

const isoTime = z.iso.datetime({ offset: true });

export const alertSchema = z.looseObject({
  alertId: z.string().min(1),
  rule: z.enum(RULE_IDS),
  severity: z.enum(SEVERITIES),
  status: z.enum(['firing', 'resolved']),
  scope: z.enum(SCOPES),
  key: z.string().min(1),
  merchantId: z.string().optional(),
  region: z.string().optional(),
  window: z.string().regex(/^\d+(ms|s|m|h|d)$/),
  metric: z.string(),
  value: z.number(),
  threshold: z.number(),
  baseline: z.number(),
  evidence: z.record(z.string(), z.unknown()),
  /** how sure the rule is (optional, added): `low` when the evidence is thin (no history for
   *  this hour yet); such an alert is never `critical` */
  confidence: z.enum(['high', 'medium', 'low']).optional(),
  probableCauses: z.array(z.string()),
  actions: z.array(z.string()),
  firstSeen: isoTime,
  lastSeen: isoTime,
  ts: isoTime,
});
export type Alert = z.infer<typeof alertSchema>;
export type AlertStatus = Alert['status'];

/** "5m" from 300000; the window label used in alerts and the API. */
export function windowLabel(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function parseWindowLabel(label: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(label);
  if (!m) throw new Error(`bad window "${label}": use e.g. 30s, 5m, 1h`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return n * unit;
}
