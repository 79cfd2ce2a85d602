export * from './types';
export { DEFAULT_ENGINE_CONFIG, resolveConfig } from './config';
export { ReferenceEngine } from './reference';
export { Engine, EngineError, createEngine, type EngineTuning } from './engine';
