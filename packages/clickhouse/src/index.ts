// What other packages use: each name here has an importer outside this package (or is the type
// of one's parameters or result). Helpers only this package uses stay unexported from here.
export {
  createClickHouse,
  ensureDatabase,
  type ClickHouse,
  type ClickHouseOptions,
} from './client';
export { TwClickHouseError, isRetriableClickHouseError } from './errors';
export { sql, ident, raw, join, inList, SqlFragment, type SqlValue } from './sql';
export { TABLES, MIGRATIONS, PANE_TICKS_VIEW, type Migration, type TableName } from './schema';
export { WINDOW_STATS_COUNTERS, WINDOW_STATS_COLUMNS } from './window-stats';
export {
  PANE_MS,
  PANE_COUNTERS,
  PANE_COUNTER_COLUMNS,
  PANE_COUNTS_COLUMNS,
  PANE_TICKS_COLUMNS,
  type PaneCounter,
} from './pane-counts';
export {
  paneToRow,
  paneSumsToRate,
  paneWindowMs,
  zeroPaneCounts,
  type PaneInput,
  type PaneRow,
  type PaneCounts,
  type PaneSums,
} from './pane-rows';
export { migrate, type MigrateResult } from './migrate';
export {
  eventToRow,
  alertToRow,
  rateToRow,
  deadLetterToRow,
  rulesMemoryToRow,
  type RulesMemoryRowInput,
  type EventInput,
  type StoredEvent,
  type AlertAction,
  type AlertActionInput,
  type StoredSilence,
  type DeadLetterInput,
} from './rows';
export { tableWriter } from './writer';
export { DAY_PARTITIONED_TABLES } from './retention';
export {
  startRetention,
  parseRetentionPolicy,
  type RetentionTable,
  type RetentionPolicy,
  type RetentionPass,
  type RetentionScheduleOptions,
} from './retention-schedule';
export {
  queryLatestRates,
  queryTopRates,
  querySeries,
  querySeriesPoints,
  queryRateFreshness,
  queryRateChanges,
  queryWindowRates,
  regionChunkMs,
  queryRegionAuthChunks,
  queryRegionPanesUpTo,
  queryTerminalMerchant,
  FRESHNESS_LOOKBACK_MS,
  queryAlerts,
  queryAlertTransitions,
  queryAlertTimelines,
  insertAlertActions,
  queryAlertActions,
  queryAlertActionsFor,
  queryRuleVerdicts,
  queryDrillDown,
  summarizeDrillDown,
  upsertSilences,
  deleteSilences,
  listSilences,
  type LatestRatesQuery,
  type TopRatesQuery,
  type SeriesQuery,
  type SeriesPointsQuery,
  type SeriesPointRow,
  type AlertsQuery,
  type AlertTimelineRow,
  type RuleVerdictsQuery,
  type DrillDownQuery,
} from './queries';
