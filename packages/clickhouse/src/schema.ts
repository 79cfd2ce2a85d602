/**
 * Tables and their versioned migrations (docs/architecture.md "Storage").
 *
 * SQL that runs on 18.16 (Debian) and on current releases alike: DateTime('UTC') (no
 * DateTime64), String (no LowCardinality), no TTL (retention drops partitions), no query
 * parameters, no window functions.
 *
 * Idempotent writes: every table is a ReplacingMergeTree whose ORDER BY is the row's
 * deterministic identity (eventId; scope/key/window/pane end; alertId + transition time...).
 * Why not insert_deduplication_token: it does not exist before 22.x, and 18.16 deduplicates
 * identical blocks only on Replicated tables; a replay also re-batches rows differently, so
 * block hashes would not match anyway. ReplacingMergeTree collapses duplicates only when parts
 * merge, so every reader that must be exact uses FINAL or GROUP BY the identity (argMax).
 *
 * Each table with a time column is PARTITION BY toYYYYMMDD(<time>): retention drops whole
 * days (retention.ts). Each migration's statements are idempotent themselves (IF NOT EXISTS),
 * so a crash between a statement and its bookkeeping row is repaired by running it again.
 */

import { PANE_COUNTS_COLUMNS, PANE_TICKS_ARRAYS, PANE_TICKS_COLUMNS } from './pane-counts';
import { WINDOW_STATS_COLUMNS } from './window-stats';

export const TABLES = {
  migrations: 'schema_migrations',
  events: 'events_raw',
  rates: 'window_stats',
  alerts: 'alerts',
  alertActions: 'alert_actions',
  deadLetters: 'dead_letters',
  silences: 'silences',
  rulesMemory: 'rules_memory',
  /** per key and closed 5 s pane, its counts (pane-counts.ts); readers sum a window's panes */
  panes: 'pane_counts',
  /** one wide row per stage and tick (Null engine): the processor's writes, unfolded into panes */
  paneTicks: 'pane_ticks',
  /** API keys made by admins at run time (the gateway's ClickHouseKeyStore); config keys are not here */
  apiKeys: 'api_keys',
  // The webhook store's tables (@tillwatch/webhooks ClickHouseWebhookStore, shared by the
  // gateway and the notifier). Named `notifier_*` because that store created them itself before
  // migration 3 took them over: deployments keep their subscriptions and delivery log.
  webhookSubscriptions: 'notifier_subscriptions',
  webhookDeliveries: 'notifier_deliveries',
  webhookAttempts: 'notifier_attempts',
} as const;
/** The materialized view from pane_ticks into pane_counts (migration 8). */
export const PANE_TICKS_VIEW = 'pane_ticks_mv';

export type TableName = (typeof TABLES)[keyof typeof TABLES];

/**
 * Tables migration 1 creates that nothing reads or writes any more: the first webhook shape (one
 * secret, a minimum severity, attempts only), which cannot hold secret rotation, severity sets
 * or pending work. Kept out of TABLES so no new code uses them, and not dropped: a deployment
 * may still hold old delivery rows, and a DROP cannot be undone. Migration 1's text must not
 * change (it may have been applied), hence the names here.
 */
export const RETIRED_TABLES = {
  webhookSubscriptionsV1: 'webhook_subscriptions',
  webhookDeliveriesV1: 'webhook_deliveries',
} as const;

export interface Migration {
  id: number;
  name: string;
  /** one statement per entry: the HTTP interface runs one statement per request */
  statements: readonly string[];
}

export const MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS ${TABLES.migrations} (
  id UInt32,
  name String,
  applied_at DateTime('UTC')
) ENGINE = ReplacingMergeTree() ORDER BY id`;

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'initial tables',
    statements: [
      // Raw events for drill-down: who, when, which code, and the event as it arrived.
      `CREATE TABLE IF NOT EXISTS ${TABLES.events} (
        event_id String,
        type String,
        ts DateTime('UTC'),
        ts_ms UInt64,
        terminal_id String,
        merchant_id String,
        region String,
        txn_id String,
        response_code String,
        category String,
        amount Nullable(Int64),
        currency String,
        firmware String,
        issuer_id String,
        raw String,
        kafka_partition Int32,
        kafka_offset Int64,
        inserted_at DateTime('UTC')
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (terminal_id, ts, event_id)`,
      // One RateRow per scope/key/window/pane end. Categories as columns: 18.16 has no Map.
      // The column list comes from window-stats.ts (the one definition the writers share);
      // schema.test.ts holds this statement to its original text, byte for byte.
      `CREATE TABLE IF NOT EXISTS ${TABLES.rates} (
${WINDOW_STATS_COLUMNS.map(([column, type]) => `        ${column} ${type}`).join(',\n')}
      ) ENGINE = ReplacingMergeTree(version)
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (scope, window, key, ts_ms)`,
      // Every alert transition (firing, updates, resolved); the full JSON kept in body.
      `CREATE TABLE IF NOT EXISTS ${TABLES.alerts} (
        alert_id String,
        rule String,
        severity String,
        status String,
        scope String,
        key String,
        merchant_id String,
        region String,
        window String,
        metric String,
        value Float64,
        threshold Float64,
        baseline Float64,
        first_seen DateTime('UTC'),
        last_seen DateTime('UTC'),
        ts DateTime('UTC'),
        ts_ms UInt64,
        body String
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (alert_id, ts_ms, status)`,
      // Audit trail of what people did: acks, assignments, notes, resolutions.
      `CREATE TABLE IF NOT EXISTS ${TABLES.alertActions} (
        action_id String,
        alert_id String,
        kind String,
        actor String,
        role String,
        assignee String,
        note String,
        ts DateTime('UTC'),
        ts_ms UInt64
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (alert_id, ts_ms, action_id)`,
      // Subscriptions are state, not history: the highest version per id wins; no day partitions.
      `CREATE TABLE IF NOT EXISTS ${RETIRED_TABLES.webhookSubscriptionsV1} (
        subscription_id String,
        merchant_id String,
        url String,
        secret String,
        rules Array(String),
        min_severity String,
        language String,
        active UInt8,
        created_at DateTime('UTC'),
        updated_at DateTime('UTC'),
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY (merchant_id, subscription_id)`,
      `CREATE TABLE IF NOT EXISTS ${RETIRED_TABLES.webhookDeliveriesV1} (
        delivery_id String,
        subscription_id String,
        merchant_id String,
        alert_id String,
        webhook_id String,
        attempt UInt16,
        outcome String,
        http_status UInt16,
        error String,
        duration_ms UInt32,
        ts DateTime('UTC'),
        ts_ms UInt64
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (subscription_id, webhook_id, attempt)`,
      // Events that broke the contract: raw bytes as base64 (JSON insert cannot carry invalid
      // UTF-8), the text as far as it decodes, the reason and where it came from.
      `CREATE TABLE IF NOT EXISTS ${TABLES.deadLetters} (
        source_topic String,
        source_partition Int32,
        source_offset Int64,
        reason String,
        raw_base64 String,
        raw_text String,
        record_key String,
        ts DateTime('UTC'),
        ts_ms UInt64
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (source_topic, source_partition, source_offset)`,
    ],
  },
  {
    id: 2,
    name: 'gateway: silences, author of alert actions',
    statements: [
      // Silences made on the board (production gateway). State, not history: the highest
      // version per id wins, a delete is a tombstone row. The silence itself is kept as JSON in
      // doc (matchers change shape more often than the table should); start/end in ms beside
      // it for "active at t" filters. Few rows (hundreds), so no day partitions.
      `CREATE TABLE IF NOT EXISTS ${TABLES.silences} (
        silence_id String,
        starts_at_ms UInt64,
        ends_at_ms UInt64,
        deleted UInt8,
        doc String,
        updated_at DateTime('UTC'),
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY silence_id`,
      // The name typed on the board beside the verified actor. 18.16 has no ADD COLUMN IF NOT
      // EXISTS: migrate() treats "column already exists" (code 44) on a rerun as done.
      `ALTER TABLE ${TABLES.alertActions} ADD COLUMN author String DEFAULT ''`,
    ],
  },
  {
    id: 3,
    name: 'webhook store: subscriptions, deliveries, attempts',
    // The DDL ClickHouseWebhookStore ran itself until this migration took it over, unchanged:
    // on a deployment where the store already made them, these are no-ops and the rows stay.
    // Each row is one version of a document (JSON in doc) with the columns reads filter on
    // beside it; times are epoch ms in UInt64 (no DateTime64 on 18.16).
    statements: [
      // State, not history: the highest version per id wins, a delete is a tombstone row. Few
      // rows (one per endpoint), so no partitions.
      `CREATE TABLE IF NOT EXISTS ${TABLES.webhookSubscriptions} (
        id String,
        merchantId String,
        deleted UInt8,
        doc String,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
      // One row per change of a delivery (pending -> delivered/dead/cancelled). Day partitions
      // of createdAt, so retention drops whole days; the store reads 8 days back (7-day log +
      // the ~28 h retry schedule). toDateTime without a zone: the server's day, as before.
      `CREATE TABLE IF NOT EXISTS ${TABLES.webhookDeliveries} (
        id String,
        merchantId String,
        subscriptionId String,
        status String,
        seq UInt64,
        createdAt UInt64,
        nextAttemptAt UInt64,
        doc String,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version) PARTITION BY toYYYYMMDD(toDateTime(intDiv(createdAt, 1000))) ORDER BY id`,
      // One row per attempt; a repeated attempt (crash before the delivery row) collapses.
      `CREATE TABLE IF NOT EXISTS ${TABLES.webhookAttempts} (
        deliveryId String,
        merchantId String,
        attempt UInt32,
        startedAt UInt64,
        doc String
      ) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMMDD(toDateTime(intDiv(startedAt, 1000))) ORDER BY (deliveryId, attempt)`,
    ],
  },
  {
    id: 4,
    name: 'gateway: verdict of a resolution',
    statements: [
      // Closing an alert records the analyst's verdict (true_incident, false_alarm, expected)
      // on its `resolve` row; '' on every other row and on resolutions made before this. Like
      // migration 2's author: on a rerun, code 44 ("column already exists") counts as done.
      `ALTER TABLE ${TABLES.alertActions} ADD COLUMN verdict String DEFAULT ''`,
    ],
  },
  {
    id: 5,
    name: 'processor: rules memory',
    statements: [
      // What the processor's stages have learnt (profiles, baselines, open episodes), one JSON
      // document per stage, partition and hour boundary (at_ms), read back on a partition's
      // recovery: the latest at or before where the group resumes. A rewrite after a crash is
      // the same row under the same key. Day partitions of at_ms for retention (14 days).
      `CREATE TABLE IF NOT EXISTS ${TABLES.rulesMemory} (
        stage String,
        partition UInt32,
        partitions UInt32,
        at_ms UInt64,
        body String
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMMDD(toDateTime(intDiv(at_ms, 1000)))
      ORDER BY (stage, partitions, partition, at_ms)`,
    ],
  },
  {
    id: 6,
    name: 'processor: the source offset of a rules memory',
    statements: [
      // The offset of the record (in the stage's own partition) whose batch took the memory:
      // a memory is the committed state only if that batch was committed, i.e. the group's
      // committed offset is past it. A batch writes ClickHouse before it commits, so a batch
      // revoked in a rebalance leaves a memory from past the commit behind. -1: written before
      // this column (recovery falls back to the record time for those). Like migration 4: on
      // a rerun, code 44 counts as done.
      `ALTER TABLE ${TABLES.rulesMemory} ADD COLUMN source_offset Int64 DEFAULT -1`,
    ],
  },
  {
    id: 7,
    name: 'gateway: API keys made by admins',
    statements: [
      // State, not history: the highest version per id wins (made, then revoked). The key itself
      // is never stored: digest is its SHA-256 (hex), what the gateway compares a token with.
      // Few rows, so no partitions.
      `CREATE TABLE IF NOT EXISTS ${TABLES.apiKeys} (
        id String,
        digest String,
        revoked UInt8,
        doc String,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
    ],
  },
  {
    id: 8,
    name: 'processor: window stats as pane counts',
    statements: [
      // Per key and closed 5 s pane, its counts: 1.7 rows per event where window_stats took 4.8
      // (one per window that moved), each half as wide. Replacing: a batch replayed after a
      // crash writes the same rows again and they are taken once (18.16 has no insert
      // deduplication for plain MergeTree tables); readers take any() of a pane before summing.
      `CREATE TABLE IF NOT EXISTS ${TABLES.panes} (
${PANE_COUNTS_COLUMNS.map(([column, type]) => `        ${column} ${type}`).join(',\n')}
      ) ENGINE = ReplacingMergeTree(written_ms)
      PARTITION BY toYYYYMMDD(ts)
      ORDER BY (scope, key, pane_ms)`,
      // What the processor inserts: one row per stage and tick, its keys' columns as arrays;
      // nothing is kept here (Null), the view below unfolds each into pane_counts.
      `CREATE TABLE IF NOT EXISTS ${TABLES.paneTicks} (
${PANE_TICKS_COLUMNS.map(([column, type]) => `        ${column} ${type}`).join(',\n')}
      ) ENGINE = Null`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${PANE_TICKS_VIEW} TO ${TABLES.panes} AS
      SELECT ${PANE_COUNTS_COLUMNS.map(([c]) => (c === 'ts' ? 'toDateTime(intDiv(pane_ms, 1000)) AS ts' : c)).join(', ')}
      FROM ${TABLES.paneTicks} ARRAY JOIN ${PANE_TICKS_ARRAYS.join(', ')}`,
    ],
  },
];
