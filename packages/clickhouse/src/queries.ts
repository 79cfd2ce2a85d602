/**
 * Reads the gateway needs. Every parameter is parsed by zod first, then rendered through
 * sql``. Exact despite ReplacingMergeTree's merge-time dedup: readers use FINAL or argMax per
 * row identity, so a replayed write never shows twice.
 */
export {
  RATE_METRICS,
  type RateMetric,
  latestRatesQuerySchema,
  type LatestRatesQuery,
  queryLatestRates,
  topRatesQuerySchema,
  type TopRatesQuery,
  queryTopRates,
  seriesQuerySchema,
  type SeriesQuery,
  querySeries,
  seriesPointsQuerySchema,
  type SeriesPointsQuery,
  type SeriesPointRow,
  querySeriesPoints,
  rateFreshnessQuerySchema,
  queryRateFreshness,
  rateChangesQuerySchema,
  queryRateChanges,
  windowRatesQuerySchema,
  queryWindowRates,
  regionChunkMs,
  queryRegionAuthChunks,
  queryRegionPanesUpTo,
  queryTerminalMerchant,
  FRESHNESS_LOOKBACK_MS,
} from './queries-rates';
export {
  alertsQuerySchema,
  type AlertsQuery,
  queryAlerts,
  queryAlertTransitions,
  type AlertTimelineRow,
  queryAlertTimelines,
  insertAlertActions,
  queryAlertActions,
  queryAlertActionsFor,
  ruleVerdictsQuerySchema,
  type RuleVerdictsQuery,
  queryRuleVerdicts,
} from './queries-alerts';
export {
  drillDownQuerySchema,
  type DrillDownQuery,
  queryDrillDown,
  summarizeDrillDown,
} from './queries-events';
export { upsertSilences, deleteSilences, listSilences } from './queries-silences';
