export { createGateway, type Gateway, type CreateGatewayOptions } from './gateway';
export {
  gatewayConfigSchema,
  loadGatewayConfig,
  defaultGatewayConfig,
  DEFAULT_WEB_DIST,
  type GatewayConfig,
  type GatewayEnv,
  type ProductionConfig,
} from './config';
export {
  ROLES,
  KeyRing,
  apiKeyEntrySchema,
  parseApiKeys,
  formatApiKeys,
  generateDemoKeys,
  keyFingerprint,
  type Role,
  type ApiKeyEntry,
  type Principal,
} from './auth';
export { MemoryStore, GatewayStoreError, type MemoryStoreOptions } from './memory-store';
export { MemoryKeyStore, savedKeySchema, type SavedKey } from './managed-keys';
export { boardSettingsSchema, savedSilenceSchema, type BoardSettings } from './board-settings';
export { ClickHouseStore, type ClickHouseStoreOptions } from './clickhouse-store';
export { createAlertFeed, type AlertFeed, type AlertFeedOptions } from './alert-feed';
export { startProductionGateway, NotProductionError, type ProductionGateway } from './production';
export * from './store';
export {
  audienceRoom,
  type RatesMessage,
  type AlertMessage,
  type AuditMessage,
  type ServerToClient,
  type ClientToServer,
} from './socket';
export type { ErrorBody } from './errors';
export { syntheticRow, syntheticAlert, syntheticAuth } from './fixtures';
