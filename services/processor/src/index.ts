export { processorConfigSchema, loadProcessorConfig, type ProcessorEnv } from './config';
export { startProcessorRetention } from './retention';
export { createProcessor, type Processor, type ProcessorOptions } from './processor';
export { createStore, STAT_COUNTERS, type Store, type Rows } from './store';
export {
  EventTask,
  RollupTask,
  processorEngineWindows,
  statLine,
  writeStat,
  PARTITION_LOCAL_SCOPES,
  ROLLUP_SCOPES,
  FORWARD_CATEGORIES,
  eventMonitor,
  rollupMonitor,
  rulesForStage,
  type RollupMessage,
  type RollupRecord,
  type PartialRecord,
  type TickRecord,
  type StatRow,
  type BundleRecord,
} from './tasks';
export { createMetrics, type Metrics } from './metrics';
export { MergedWindows } from './rollup-engine';
export { bundleRollups, partitionerFor, BUNDLE_BYTES } from './rollup-bundle';
export { TsvWriter, tsvEscape } from './tsv';
