export {
  createSimulation,
  DEFAULT_START,
  DEFAULT_DURATION_MS,
  type Simulation,
  type SimulationOptions,
  type SimulationCounts,
  type DemoOptions,
  type ExtraIncident,
} from './simulation';
export {
  writeScenario,
  type WriteScenarioOptions,
  type WriteScenarioResult,
  type WriteProgress,
} from './write';
export { createRealtimeFeed, type RealtimeFeed, type RealtimeFeedOptions } from './realtime';
export {
  INCIDENT_SCENARIOS,
  SCENARIO_NAMES,
  isScenarioName,
  type IncidentScenario,
  type ScenarioName,
  type IncidentLabel,
  type LabelMatch,
  type SimEvent,
} from './types';
export { SCENARIO_SPECS } from './scenarios';
export {
  buildFleet,
  DEFAULT_FLEET_SIZE,
  DEFAULT_REGIONS,
  DEFAULT_ISSUERS,
  DEFAULT_FIRMWARE,
  type Fleet,
  type FleetOptions,
  type Merchant,
  type Terminal,
  type RegionSpec,
  type Mall,
} from './fleet';
export {
  DEFAULT_CALENDAR,
  dayKind,
  type Calendar,
  type CalendarEntry,
  type DayKind,
} from './calendar';
export { firstMallClosing } from './targets';
export { Rng } from './rng';
export { TRADING_MONDAY, tradingDays } from './trading-days';
export { matchLabel, type AlertLike, type MatchOptions } from './labels';
