export { EventStage, type EventStageOptions } from './event-stage';
export { RollupStage, type HeldAlert, type RollupStageOptions } from './rollup-stage';
export { MergedWindows } from './merged-windows';
export { PaneSchedule } from './schedule';
export {
  PARTITION_LOCAL_SCOPES,
  ROLLUP_SCOPE_NAMES,
  streamWindows,
  type StreamWindows,
} from './windows';
export {
  FORWARD_CATEGORIES,
  applyRules,
  eventMonitor,
  rollupMonitor,
  rulesForStage,
  type Stage,
  type StageMonitorOptions,
} from './monitors';
export { murmur2, partitionerFor } from './partitioner';
export {
  ROLLUP_FRAME_MAGIC,
  ROLLUP_FRAME_VERSION,
  RollupFrameError,
  RollupFrameWriter,
  decodeRollupRecord,
  encodeRollups,
  isRollupFrame,
} from './rollup-codec';
export { AheadGuard, aheadOfSource, aheadReason, type Rejected } from './ahead-guard';
export {
  DEFAULT_IDLE_AFTER_MS,
  DEFAULT_PARTITIONS,
  LocalTopology,
  stageEngines,
  type TopologyOptions,
  type TopologyOutput,
  type TopologyStats,
} from './topology';
export { replay, type ReplayOptions, type ReplayResult } from './replay';
export type { MonitorLike, RollupMessage, StageMemory, StageSink, PaneRow } from './types';
export { LatestMemory, parseMemoryFile, type MemoryFile } from './memory-file';
