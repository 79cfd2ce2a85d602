import type { Logger } from '@tillwatch/config';
import { createBatchConsumer, type BatchConsumer, type Kafka } from '@tillwatch/kafka';
import type { ClickHouseStore } from './clickhouse-store';

export interface AlertFeedOptions {
  kafka: Kafka;
  topic: string;
  /** one group per gateway instance: every instance must see every alert for its sockets */
  groupId: string;
  store: Pick<ClickHouseStore, 'ingestAlerts'>;
  /** write the alerts into ClickHouse's alerts table as they pass (idempotent) */
  persist: boolean;
  /** a new group starts at the topic's end unless told to backfill */
  fromBeginning?: boolean;
  logger?: Logger;
}

export interface AlertFeed {
  /** connect, join the group, start fetching */
  start(): Promise<void>;
  /** resolves once the group was joined and the first fetch began (offsets are resolved) */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  stats(): { messages: number; accepted: number; invalid: number };
  readonly consumer: BatchConsumer;
}

/**
 * pos.alerts into the gateway's store, through @tillwatch/kafka's durable-commit consumer: a
 * batch's offsets are committed only after its alerts are written to ClickHouse, so a gateway
 * that restarts resumes where it stopped and none is missing from the list. While ClickHouse is
 * away the batch is retried with backoff (heartbeats kept) instead of dropped.
 */
export function createAlertFeed(opts: AlertFeedOptions): AlertFeed {
  const counts = { messages: 0, accepted: 0, invalid: 0 };
  const bc = createBatchConsumer(opts.kafka, {
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: opts.fromBeginning ?? false,
    ...(opts.logger ? { logger: opts.logger } : {}),
    // alerts are rare and small: a short wait keeps the feed's delay low
    maxWaitTimeInMs: 100,
    handleBatch: async (batch, ctl) => {
      const values = batch.messages.map((m) => {
        const text = m.value?.toString('utf8') ?? '';
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return text; // ingestAlerts counts it as invalid; the offset moves on
        }
      });
      counts.messages += values.length;
      for (let wait = 200; ; wait = Math.min(wait * 2, 10_000)) {
        try {
          const r = await opts.store.ingestAlerts(values, { persist: opts.persist });
          counts.accepted += r.accepted;
          counts.invalid += r.invalid;
          return;
        } catch (err) {
          if (!ctl.isRunning() || ctl.isStale()) throw err;
          opts.logger?.error({ err, retryInMs: wait }, 'cannot store alerts: retrying');
          await new Promise((r) => setTimeout(r, wait));
          await ctl.heartbeat();
        }
      }
    },
  });
  const c = bc.consumer;
  const ready = new Promise<void>((resolve) => {
    let joined = false;
    const offJoin = c.on(c.events.GROUP_JOIN, () => {
      joined = true;
    });
    const offFetch = c.on(c.events.FETCH_START, () => {
      if (!joined) return;
      offJoin();
      offFetch();
      resolve();
    });
  });
  return {
    consumer: bc,
    ready,
    start: () => bc.start(),
    stop: () => bc.stop({ drainMs: 5000 }),
    stats: () => ({ ...counts }),
  };
}
