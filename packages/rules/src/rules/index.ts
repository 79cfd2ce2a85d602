/**
 * The rule catalogue (docs/contract.md §3). Each rule reads engine windows, compares them with the
 * key's own baseline and the fleet's, and hands a Signal to the episode book. The decision is
 * always "a minimum count AND a lower confidence bound above the reference", never a bare
 * ratio, and always excludes the cardholder category from anything that blames a terminal.
 */

export {
  CROSS_PARTITION_CATEGORIES,
  CROSS_PARTITION_RULES,
  METRICS,
  durationMs,
  fleetRate,
  judgeRate,
  type Ctx,
  type RegionVolume,
} from './context';
export { ReadCache } from './read-cache';
export { screen, ScreenMemo } from './rate-rule';
export {
  inputErrors,
  quietTimes,
  terminalFaultSpike,
  terminalNetworkErrors,
  terminalSilent,
} from './terminal';
export { cardTesting, reversalSpike } from './merchant';
export { failedButCharged, noSettlement, noSettlementKeys } from './settlement';
export { firmwareRegression, issuerDegradation, regionalOutage } from './cross-partition';
export { FEED_KEY, feedOutage, newCrossNotes } from './feed-outage';
