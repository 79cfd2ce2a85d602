export * from './events';
export * from './alerts';
export * from './codes';
export * from './topics';
export * from './rates';
export * from './fast-decode';
export * from './rollups';
export * from './api-errors';
