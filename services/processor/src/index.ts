export { processorConfigSchema, loadProcessorConfig, type ProcessorEnv } from './config';
export { startProcessorRetention } from './retention';
export { createProcessor, type Processor, type ProcessorOptions } from './processor';
export { createStore, type Store, type Rows } from './store';
export { PaneTickWriter, paneLine } from './pane-rows';
export { createMetrics, type Metrics } from './metrics';
export { bundleRollups, bundleRollupsJson, BUNDLE_BYTES } from './rollup-bundle';
export { TsvWriter, tsvEscape } from './tsv';
