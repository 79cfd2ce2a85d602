import type { Calendar } from './calendar';
import { HOUR_MS, type Fleet, type FleetOptions } from './fleet';
import type { IncidentLabel, IncidentScenario, ScenarioName, SimEvent } from './types';

/** 2026-03-02 00:00 China time (a Monday): the default start of a run. */
export const DEFAULT_START = Date.UTC(2026, 2, 1, 16, 0, 0);
export const DEFAULT_DURATION_MS = 24 * HOUR_MS;

export interface DemoOptions {
  /** when the first incident starts (epoch ms); default start + 15 min */
  firstAt?: number;
  /** a new incident starts this often (sim time); default 2 min */
  everyMs?: number;
  /** each incident lasts this long (sim time); default 8 min */
  lastsMs?: number;
  /** rotation; default every incident scenario (settlement-gap only with a deadline <= 10 min) */
  scenarios?: readonly IncidentScenario[];
}

export interface ExtraIncident {
  scenario: IncidentScenario;
  /** epoch ms; default: placed by the seed in business hours */
  start?: number;
  durationMs?: number;
  /** terminal/merchant id, region, issuer id; default chosen by the seed */
  key?: string;
}

export interface SimulationOptions {
  seed: number | string;
  /** default `healthy` */
  scenario?: ScenarioName;
  /** epoch ms; default 2026-03-02T00:00+08:00 */
  start?: number;
  /** default 24 h; `demo` defaults to Infinity; `settlement-gap` to deadline + 20 h */
  durationMs?: number;
  fleet?: FleetOptions;
  /**
   * Public holidays, make-up workdays and shopping festivals, by local date (the fleet's time
   * zone); default DEFAULT_CALENDAR (2026, mainland China). `[]` for weekdays and weekends only.
   */
  calendar?: Calendar;
  /** multiplies every terminal's traffic; default 1 (demo 2.5) */
  volumeScale?: number;
  /** multiplies incident effect probabilities (capped); default 1, demo 1.5 */
  intensity?: number;
  /** settlements arrive within this after the auth, in batches; default 6 h (must be < the deadline) */
  settlementDelayMs?: number;
  /** the engine's settlement deadline, for settlement-gap labels and placement; default 24 h */
  settlementDeadlineMs?: number;
  /** the engine's reversal grace period, for failed-but-charged labels; default 60 s */
  reversalGraceMs?: number;
  /** default 5 min */
  heartbeatIntervalMs?: number;
  /** share of auths/heartbeats delivered late (ts up to maxDelayMs earlier than their neighbours) */
  outOfOrder?: { fraction?: number; maxDelayMs?: number };
  /** share of events whose ts is an ISO-8601 string (+08:00) instead of epoch ms; default 0 */
  isoFraction?: number;
  /** more incidents on top of the scenario's */
  incidents?: readonly ExtraIncident[];
  demo?: DemoOptions;
}

export interface SimulationCounts {
  auth: number;
  reversal: number;
  settlement: number;
  heartbeat: number;
  total: number;
}

export interface Simulation extends Iterable<SimEvent> {
  readonly seed: number;
  readonly scenario: ScenarioName;
  readonly start: number;
  /** exclusive end of event time; Infinity for an endless demo */
  readonly end: number;
  readonly fleet: Fleet;
  /** ground truth so far: complete up front, except `demo`, which adds incidents as it goes */
  readonly labels: readonly IncidentLabel[];
  /** event time the generator has reached (the next event is at or after it) */
  readonly position: number;
  readonly counts: Readonly<SimulationCounts>;
  /** timers and scheduled events held (terminals' next auth/heartbeat, pending reversals and settlements) */
  readonly pending: number;
  /** the next event, or undefined at the end */
  nextEvent(): SimEvent | undefined;
  /** every event up to and including event time `untilMs` (at most `max`), for real-time feeds */
  pull(untilMs: number, max?: number): SimEvent[];
  /** lazy generator over the remaining events */
  events(): Generator<SimEvent, void, undefined>;
  /** labels of incidents acting at event time `atMs` */
  activeAt(atMs: number): IncidentLabel[];
}
