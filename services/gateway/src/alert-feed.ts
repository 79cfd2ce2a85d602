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
 * Give the group an offset on every partition that has none yet, before it starts: the end of
 * the partition (or its start with fromBeginning). Without it, a partition that never carried a
 * message has no committed offset, and an alert produced there while this gateway is down would
 * be skipped at restart ("latest" is resolved again then). Runs before the consumer joins, when
 * the group (one per instance) has no member; if it has one, setOffsets refuses and we carry on.
 */
async function anchorGroup(opts: AlertFeedOptions): Promise<void> {
  // A fresh cluster creates __consumer_offsets on the first group request and answers "group
  // coordinator not available" for a few seconds meanwhile: retry, or the group starts without
  // an anchor and the next restart skips what arrived while it was down. ~20 s at most.
  for (let attempt = 1, wait = 250; ; attempt++, wait = Math.min(wait * 2, 4000)) {
    try {
      await anchorOnce(opts);
      return;
    } catch (err) {
      const active = /running instances|active members/i.test(String(err));
      if (active || attempt >= 8) {
        opts.logger?.warn({ err, groupId: opts.groupId }, 'could not anchor the consumer group');
        return;
      }
      opts.logger?.debug({ err, attempt, retryInMs: wait }, 'anchoring the group: retrying');
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

async function anchorOnce(opts: AlertFeedOptions): Promise<void> {
  const admin = opts.kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId: opts.groupId, topics: [opts.topic] });
    const missing = (committed?.partitions ?? []).filter((p) => Number(p.offset) < 0);
    if (!missing.length) return;
    const bounds = new Map(
      (await admin.fetchTopicOffsets(opts.topic)).map((o) => [o.partition, o]),
    );
    const partitions = missing.map((p) => {
      const b = bounds.get(p.partition);
      return { partition: p.partition, offset: (opts.fromBeginning ? b?.low : b?.high) ?? '0' };
    });
    await admin.setOffsets({ groupId: opts.groupId, topic: opts.topic, partitions });
    opts.logger?.info({ groupId: opts.groupId, partitions }, 'consumer group anchored');
  } finally {
    await admin.disconnect();
  }
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
    start: async () => {
      await anchorGroup(opts);
      await bc.start();
    },
    stop: () => bc.stop({ drainMs: 5000 }),
    stats: () => ({ ...counts }),
  };
}
