export {
  createMonitor,
  defaultEngineFactory,
  type Monitor,
  type MonitorOptions,
  type MonitorStats,
  type RatesOptions,
  type EngineFactory,
} from './monitor';
export type { AlertRecord } from './episodes';
export { alertIdOf } from './episodes';
export {
  DEFAULT_RULES_CONFIG,
  DEFAULT_RULES_PATH,
  RulesConfigError,
  loadRulesFile,
  parseRulesConfig,
  parseRulesText,
  rulesConfigSchema,
  type RulesConfig,
  type RulesConfigInput,
  type RateRuleConfig,
} from './config';
export {
  SilenceSet,
  fromStoredSilence,
  silenceSchema,
  type Silence,
  type SilenceInput,
  type StoredSilenceLike,
} from './silences';
export { RULE_TEXTS, textsFor, type RuleTexts } from './texts';
export { wilsonLower, wilsonUpper, poissonCdf, poissonSf } from './stats';
export { watchRulesFile, type RulesWatcher, type WatchRulesOptions } from './watch';
export { CROSS_PARTITION_RULES, CROSS_PARTITION_CATEGORIES } from './rules';
export {
  Calendar,
  isTimeZone,
  type CalendarConfig,
  type CalendarDay,
  type DayKind,
} from './calendar';
export type { SilenceChange } from './tracker';
export { MEMORY_VERSION, type RulesMemory } from './memory';
