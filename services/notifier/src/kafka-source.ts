import type { Logger } from '@tillwatch/config';
import { createBatchConsumer, createKafka, type BatchConsumer } from '@tillwatch/kafka';
import type { IngestResult } from './notifier';

/**
 * `pos.alerts` into the notifier through @tillwatch/kafka's batch consumer: offsets are
 * committed only after the handler resolves, i.e. after every alert of the batch is enqueued
 * durably. A crash in between redelivers the batch; deterministic delivery ids make that a
 * no-op. A store outage pauses the partition (retry with backoff, heartbeats kept) instead of
 * dropping alerts.
 *
 * A new consumer group starts at the latest offset: a first start does not send merchants the
 * topic's whole history; from then on committed offsets carry over restarts.
 */
export function kafkaAlertConsumer(opts: {
  brokers: string[];
  topic: string;
  groupId: string;
  ingest: (alert: unknown) => Promise<IngestResult>;
  logger?: Logger;
  fromBeginning?: boolean;
}): BatchConsumer {
  const kafka = createKafka({
    brokers: opts.brokers,
    clientId: 'tillwatch-notifier',
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return createBatchConsumer(kafka, {
    groupId: opts.groupId,
    topics: [opts.topic],
    fromBeginning: opts.fromBeginning ?? false,
    ...(opts.logger ? { logger: opts.logger } : {}),
    handleBatch: async (batch, ctl) => {
      for (const m of batch.messages) {
        const text = m.value?.toString('utf8') ?? '';
        let value: unknown = text;
        try {
          value = JSON.parse(text);
        } catch {
          // not JSON: ingest() counts it as invalid, the offset moves on
        }
        for (let wait = 200; ; wait = Math.min(wait * 2, 10_000)) {
          try {
            await opts.ingest(value);
            break;
          } catch (err) {
            if (!ctl.isRunning() || ctl.isStale()) throw err;
            opts.logger?.error({ err, retryInMs: wait }, 'cannot enqueue alert: retrying');
            await new Promise((r) => setTimeout(r, wait));
            await ctl.heartbeat();
          }
        }
      }
    },
  });
}
