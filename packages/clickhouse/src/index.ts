export {
  createClickHouse,
  ensureDatabase,
  CLICKHOUSE_SETTINGS,
  type ClickHouse,
  type ClickHouseOptions,
} from './client';
export { TwClickHouseError, isRetriableClickHouseError } from './errors';
export {
  sql,
  lit,
  ident,
  raw,
  join,
  inList,
  quoteString,
  SqlFragment,
  SqlValueError,
  type SqlValue,
} from './sql';
export { TABLES, RETIRED_TABLES, MIGRATIONS, type Migration, type TableName } from './schema';
export {
  migrate,
  toClickHouseDateTime,
  fromClickHouseDateTime,
  type MigrateResult,
} from './migrate';
export * from './rows';
export { BatchWriter, tableWriter, type BatchWriterOptions, type PressureState } from './writer';
export {
  dropPartitionsOlderThan,
  applyRetention,
  cutoffPartition,
  DAY_PARTITIONED_TABLES,
} from './retention';
export {
  startRetention,
  parseRetentionPolicy,
  DEFAULT_RETENTION_DAYS,
  MIN_RETENTION_DAYS,
  type RetentionTable,
  type RetentionPolicy,
  type RetentionPass,
  type RetentionScheduleOptions,
} from './retention-schedule';
export * from './queries';
