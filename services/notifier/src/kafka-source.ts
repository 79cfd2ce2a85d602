import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from '@tillwatch/config';

interface Item {
  value: unknown;
  release: () => void;
  /** On close: the message was not processed, so its offset must not be committed. */
  abandon: (e: Error) => void;
}

/**
 * `pos.alerts` as an async iterable with commit-after-durable semantics: kafkajs' eachMessage
 * for a message returns (so its offset can be committed) only when the notifier asks for the
 * next alert, i.e. after it has enqueued this one durably. A crash in between redelivers the
 * message, and the deterministic delivery id makes that a no-op.
 *
 * A new consumer group starts at the latest offset: a first start does not send merchants
 * the topic's whole history; from then on committed offsets carry over restarts.
 */
export function kafkaAlerts(opts: {
  brokers: string[];
  topic: string;
  groupId: string;
  logger?: Logger;
  fromBeginning?: boolean;
}): { alerts: AsyncIterable<unknown>; close(): Promise<void> } {
  const kafka = new Kafka({
    clientId: 'tillwatch-notifier',
    brokers: opts.brokers,
    logLevel: logLevel.WARN,
  });
  const consumer = kafka.consumer({ groupId: opts.groupId });
  const queue: Item[] = [];
  let wakeup: (() => void) | undefined;
  let closed = false;
  let started = false;

  async function* alerts(): AsyncGenerator<unknown> {
    if (started) throw new Error('kafkaAlerts: iterate once');
    started = true;
    await consumer.connect();
    await consumer.subscribe({ topic: opts.topic, fromBeginning: opts.fromBeginning ?? false });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        const text = message.value?.toString('utf8') ?? '';
        let value: unknown = text;
        try {
          value = JSON.parse(text);
        } catch {
          opts.logger?.warn({ partition, offset: message.offset }, 'alert is not JSON');
        }
        await new Promise<void>((release, abandon) => {
          if (closed) return abandon(new Error('notifier closing'));
          queue.push({ value, release, abandon });
          wakeup?.();
        });
      },
    });
    let previous: (() => void) | undefined;
    try {
      while (!closed) {
        previous?.();
        previous = undefined;
        while (queue.length === 0 && !closed) await new Promise<void>((r) => (wakeup = r));
        const item = queue.shift();
        if (!item) break;
        previous = item.release;
        yield item.value;
      }
    } finally {
      previous?.();
    }
  }

  return {
    alerts: { [Symbol.asyncIterator]: () => alerts() },
    async close() {
      closed = true;
      for (const item of queue.splice(0)) item.abandon(new Error('notifier closing'));
      wakeup?.();
      await consumer.disconnect();
    },
  };
}
