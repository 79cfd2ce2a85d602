import { hostname } from 'node:os';
import { envs, loadConfig, type Env } from '@tillwatch/config';
import { TOPICS, parseWindowLabel } from '@tillwatch/contracts';
import { parseRetentionPolicy, TABLES } from '@tillwatch/clickhouse';
import { z } from 'zod';

const duration = (def: string) =>
  z
    .string()
    .regex(/^\d+(ms|s|m|h|d)$/, 'a duration like 500ms, 30s, 5m, 24h')
    .default(def)
    .transform((s) => parseWindowLabel(s));

const DAY_MS = 86_400_000;

/** `events_raw=30d,pane_counts=14d,alerts=off` over the defaults (@tillwatch/clickhouse). */
const retention = () =>
  z
    .string()
    .default('')
    .transform((s, ctx) => {
      try {
        return parseRetentionPolicy(s);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    });

const topic = (def: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name: [A-Za-z0-9._-], 1..249 chars')
    .default(def);

/**
 * Every variable the processor reads. Exported so deploy tests can hold the compose file to it:
 * a variable the compose file sets for the processor must be a key here. A bad value stops the
 * processor at start with a message naming the variable (exit code 78).
 */
export const processorConfigSchema = z
  .object({
    /** host:port[,host:port]: required, the processor has no embedded mode (that is `tillwatch start`) */
    KAFKA_BROKERS: envs
      .list()
      .refine((l) => l.length > 0, 'at least one host:port')
      .refine((l) => l.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)), 'each broker as host:port'),
    /** http://[user:password@]host:port[/database], as @tillwatch/clickhouse reads it */
    CLICKHOUSE_URL: z
      .url()
      .refine((u) => /^https?:\/\/[^/]/.test(u), 'an http(s) URL, e.g. http://clickhouse:8123'),
    /** Overrides the URL's database (default: the URL's, else `default`); created at start when missing. */
    CLICKHOUSE_DATABASE: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/)
      .optional(),
    TOPIC_EVENTS: topic(TOPICS.events),
    TOPIC_DLQ: topic(TOPICS.deadLetter),
    TOPIC_ALERTS: topic(TOPICS.alerts),
    TOPIC_ROLLUPS: topic(TOPICS.rollups),
    /** Partitions of topics the processor creates when missing (existing topics are left alone). */
    TOPIC_PARTITIONS: envs.int(4, 1, 10_000),
    PROCESSOR_GROUP_ID: z.string().min(1).default('tillwatch-processor'),
    /**
     * Stable name of this instance: its Kafka transactional id is `<group>-<instance>`, so a
     * restarted instance fences its crashed predecessor's open transaction. Two live instances
     * must differ. Default: the host name (one instance per container/pod).
     */
    PROCESSOR_INSTANCE_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/)
      .default(
        hostname()
          .replace(/[^A-Za-z0-9._-]/g, '-')
          .slice(0, 100) || 'processor',
      ),
    /**
     * Where a pos.events record belongs is the murmur2 partition of its event's merchantId (Kafka's
     * default partitioner, kafkajs' and the Java client's), whatever partitioner its producer ran:
     * `on` re-routes a record found elsewhere to that partition (repartition.ts), in the
     * transaction that commits its offset, so a merchant's windows stay whole. `off` trusts the
     * producer's placement (a topic placed on purpose by another rule).
     */
    EVENTS_REPARTITION: z.enum(['on', 'off']).default('on'),
    /**
     * How this instance writes pos.rollups: `binary` frames (docs/contract.md §5) or the legacy
     * `json` bundles. Every instance reads both; an upgrade from a version that reads only JSON
     * runs `json` until no old instance is left, then `binary`.
     */
    ROLLUPS_FORMAT: z.enum(['binary', 'json']).default('binary'),
    /** Prometheus /metrics; 0 = a free port (logged). */
    PROCESSOR_METRICS_PORT: envs.port(9464),
    PROCESSOR_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    /** Engine timing (docs/contract.md §2 defaults). */
    SETTLEMENT_DEADLINE: duration('24h'),
    REVERSAL_GRACE: duration('60s'),
    ALLOWED_LATENESS: duration('10s'),
    /**
     * Extra event time replayed before the longest window on recovery: covers events that arrive
     * out of order (the simulator's reach back 4.4 s) and record timestamps that trail event time.
     */
    REPLAY_MARGIN: duration('1m'),
    /**
     * An events partition caught up and without a record this long (wall clock) is reported idle
     * to the rollup stage, which then stops waiting for it: region, firmware and issuer windows
     * would otherwise stall behind a partition with no traffic.
     */
    ROLLUP_IDLE_AFTER: duration('30s'),
    /**
     * An event stamped further than this past its Kafka record's timestamp (when the producer
     * sent it, or the broker appended it) is a wrong clock: dead-lettered `ts_in_future`, never
     * moving its partition's time (one heartbeat stamped 2100 would close every window to 2100).
     */
    EVENT_MAX_SKEW: duration('5m'),
    /** How often the gateway's silences are re-read from ClickHouse. */
    SILENCES_REFRESH: duration('10s'),
    /** Rules file (JSON or YAML) merged over the shipped defaults. */
    RULES_FILE: z.string().min(1).optional(),
    /** Longest wait between ClickHouse retries while it is down (backoff doubles from 200 ms). */
    CLICKHOUSE_MAX_BACKOFF: duration('10s'),
    /**
     * Kafka group session: a member that stops heart-beating (kill -9) is replaced after this.
     * 30 s rides out GC pauses and slow ClickHouse retries; tests use the broker minimum of 6 s.
     */
    PROCESSOR_SESSION_TIMEOUT: duration('30s'),
    /**
     * Larger records are dead-lettered unread: an event is ~200 B, and a megabyte of JSON costs
     * ~10 ms to parse on the hot path for something no terminal sends.
     */
    MAX_EVENT_BYTES: envs.int(65_536, 256),
    /**
     * Restore a partition's rules memory (rules_memory: profiles, baselines, open episodes) on
     * every assignment, the latest the group committed (recovery.ts): on | off. Off: every
     * partition starts blind after a restart or a rebalance (the memory is written either way).
     */
    RULES_MEMORY_RESTORE: z.enum(['on', 'off']).default('on'),
    /**
     * On a first start (no rules_memory at all for an events partition), learn the profiles and
     * baselines from this much of the partition's stored events (events_raw) before going on,
     * instead of starting blind (warmup.ts). 0 turns it off.
     */
    RULES_WARMUP: z
      .string()
      .regex(/^(0|\d+(ms|s|m|h|d))$/, 'a duration like 14d or 36h, or 0 for none')
      .default('14d')
      .transform((s) => (s === '0' ? 0 : parseWindowLabel(s)))
      .refine((ms) => ms <= 90 * DAY_MS, 'at most 90d'),
    /**
     * Bytes fetched per partition per request: up to ~16,000 events of ~250 B per batch. kafkajs
     * fetches again only once every batch of a round is done, so each round ends with its last
     * ClickHouse write and transaction and nothing to compute: with 4 MiB instead of 1 MiB that
     * tail comes 4x less often (bench, 300k events: 19.6k events/s against 16.0k, 18 transactions
     * against 82). At live rates a fetch returns what is there, so latency does not grow.
     */
    KAFKA_MAX_BYTES_PER_PARTITION: envs.int(4_194_304, 1024),
    /**
     * Partition batches in work at once (kafkajs partitionsConsumedConcurrently). Their ClickHouse
     * writes and transactions are grouped: one write and one transaction for every batch ready at
     * that moment. At least the partitions of one instance (events + rollups) to group them all.
     */
    KAFKA_PARTITIONS_CONCURRENTLY: envs.int(16, 1, 1024),
    /**
     * Days kept per day-partitioned table, as `events_raw=30d,pane_counts=14d,alerts=off`: the
     * tables named override the defaults (events_raw, pane_counts, dead_letters and the webhook
     * deliveries/attempts 30d; alerts, alert_actions 180d), `off` keeps a table forever. Older day
     * partitions are dropped whole (no TTL on 18.16). events_raw must outlast SETTLEMENT_DEADLINE
     * by a day: recovery rebuilds pending settlements from it.
     */
    RETENTION: retention(),
    /** How often old partitions are dropped (also once at start). */
    RETENTION_EVERY: duration('1h').refine(
      (ms) => ms >= 60_000 && ms <= DAY_MS,
      'between 1m and 24h (partitions are whole days: more often buys nothing)',
    ),
    LOG_LEVEL: envs.logLevel(),
  })
  .superRefine((c, ctx) => {
    const days = c.RETENTION[TABLES.events];
    if (days !== undefined && days * DAY_MS < c.SETTLEMENT_DEADLINE + DAY_MS)
      ctx.addIssue({
        code: 'custom',
        path: ['RETENTION'],
        message:
          `${TABLES.events}=${days}d does not outlast SETTLEMENT_DEADLINE by a day: recovery ` +
          `reads pending settlements back from ${TABLES.events}`,
      });
  });
export type ProcessorEnv = z.infer<typeof processorConfigSchema>;

export function loadProcessorConfig(env?: Env): ProcessorEnv {
  return loadConfig(processorConfigSchema, env);
}
