import type { RuleId, Scope, TerminalEventIn } from '@tillwatch/contracts';
import type { Rng } from './rng';

/** Incident scenarios: each injects one labelled incident (docs/contract.md §3 rule it should trip). */
export const INCIDENT_SCENARIOS = [
  'regional-outage-errors',
  'regional-outage-silence',
  'terminal-fault',
  'terminal-network',
  'reversal-storm',
  'failed-but-charged',
  'settlement-gap',
  'input-errors',
  'card-testing',
  'firmware-regression',
  'issuer-outage',
  'terminal-silent',
  'carrier-outage',
  'outage-at-closing',
] as const;
export type IncidentScenario = (typeof INCIDENT_SCENARIOS)[number];

/**
 * Every `scenario` value createSimulation accepts: `healthy` (no incident), one incident
 * scenario, `all` (every incident scenario once, on distinct targets, spread over the run) and
 * `demo` (an endless run that starts a new incident every few minutes).
 */
export const SCENARIO_NAMES = ['healthy', ...INCIDENT_SCENARIOS, 'all', 'demo'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export function isScenarioName(s: string): s is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(s);
}

/** One (rule, scope, key) an alert may name. */
export interface LabelMatch {
  rule: RuleId;
  scope: Scope;
  key: string;
}

/**
 * Ground truth of one injected incident. `rule/scope/key` is the alert the incident must raise.
 * `start..end` is when the fault acts on events (event time, epoch ms); `detectFrom..detectUntil`
 * is when its evidence is visible in event time (differs for settlement gaps, whose evidence
 * appears only at the settlement deadline). `alsoMatches` lists alerts that are true
 * consequences of this incident (a terminal fault also raises reversals at that terminal) and
 * must not be scored as false positives.
 */
export interface IncidentLabel {
  id: string;
  scenario: IncidentScenario;
  rule: RuleId;
  scope: Scope;
  key: string;
  start: number;
  end: number;
  startIso: string;
  endIso: string;
  detectFrom: number;
  detectUntil: number;
  merchantId?: string;
  region?: string;
  /** affected terminals (all of a region, the upgraded ones for firmware, ...) */
  terminals?: string[];
  alsoMatches: LabelMatch[];
  description: string;
  params: Record<string, string | number>;
}

/** What the generator yields: contract-valid terminal events (ts epoch ms unless isoFraction). */
export type SimEvent = TerminalEventIn;

/** Reversal plans for one auth (what follows it); numbers for a cheap hot path. */
export const enum Rev {
  None = 0,
  /** timeout reversal, succeeded within seconds (inside the 60 s grace) */
  TimeoutOk = 1,
  /** timeout reversal, succeeded but after the grace period */
  TimeoutLate = 2,
  /** a failed reversal, then a succeeded retry minutes later */
  TimeoutFailedThenOk = 3,
  /** a failed reversal and nothing after */
  TimeoutFailed = 4,
  CustomerCancel = 5,
  TerminalError = 6,
  HostError = 7,
  Other = 8,
}

export const enum Settle {
  None = 0,
  Settled = 1,
  Rejected = 2,
}

/** The mutable draft of one auth while incidents act on it. */
export interface AuthDraft {
  terminal: number;
  ts: number;
  code: string;
  latency: number;
  entryMode: 'chip' | 'swipe' | 'contactless' | 'manual' | 'qr';
  amount: number;
  currency: string;
  card: number;
  issuer: number;
  firmware: number;
  rev: Rev;
  settle: Settle;
}

export interface HeartbeatDraft {
  terminal: number;
  ts: number;
  firmware: number;
  signal: number;
}

/**
 * A running incident. `mask` marks the affected terminals (null: every terminal, e.g. an issuer
 * outage filtered by `issuer`). Hooks run only for events of affected terminals while active.
 */
export interface Incident {
  label: IncidentLabel;
  start: number;
  end: number;
  mask: Uint8Array | null;
  /** issuer index the incident is limited to, or -1 */
  issuer: number;
  /** affected terminals send nothing (no auths, no heartbeats) */
  silence: boolean;
  /** when `silence` is false: the affected terminals that send nothing (a carrier's SIMs) */
  silentMask?: Uint8Array;
  /** phase 1: may change the response code, latency, entry mode */
  code?(d: AuthDraft, rng: Rng): void;
  /** phase 2, after default follow-ups are planned: may change reversal/settlement plans */
  plan?(d: AuthDraft, rng: Rng): void;
  heartbeat?(h: HeartbeatDraft, rng: Rng): void;
  /** firmware override of an affected terminal at time ts, or -1 */
  firmwareAt?(terminal: number, ts: number): number;
  /** extra auths (card testing); called at `nextAt`, returns the following time or Infinity */
  source?: IncidentSource;
}

export interface IncidentSource {
  /** terminal the extra auths come from */
  terminal: number;
  nextAt: number;
  /** fill the draft for an auth at d.ts; return the next time or Infinity */
  step(d: AuthDraft, rng: Rng): number;
}
