import {
  Partitioners,
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  type Producer,
  type RecordMetadata,
} from 'kafkajs';
import { TOPICS } from '@tillwatch/contracts';

/** Header names of a dead-letter record (CONTRACT.md §1: raw bytes, source offset, a reason). */
export const DLQ_HEADERS = {
  reason: 'reason',
  sourceTopic: 'source-topic',
  sourcePartition: 'source-partition',
  sourceOffset: 'source-offset',
  ts: 'ts',
} as const;

/** A reason a person can read, not a stack: 1000 chars keep a zod report of 5 issues whole. */
export const MAX_REASON_LENGTH = 1000;

export interface DeadLetter {
  /** the record's value exactly as it arrived (null for a tombstone) */
  raw: Buffer | null;
  /** the record's key as it arrived; kept so the DLQ is partitioned like the source */
  key?: Buffer | string | null;
  reason: string;
  sourceTopic: string;
  sourcePartition: number;
  /** Kafka offsets are int64: kept as the decimal string kafkajs uses */
  sourceOffset: string;
  /** when it was dead-lettered, epoch ms (default now) */
  ts?: number;
}

export function deadLetterHeaders(letter: DeadLetter): IHeaders {
  return {
    [DLQ_HEADERS.reason]: letter.reason.slice(0, MAX_REASON_LENGTH),
    [DLQ_HEADERS.sourceTopic]: letter.sourceTopic,
    [DLQ_HEADERS.sourcePartition]: String(letter.sourcePartition),
    [DLQ_HEADERS.sourceOffset]: letter.sourceOffset,
    [DLQ_HEADERS.ts]: new Date(letter.ts ?? Date.now()).toISOString(),
  };
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

/** Read a record of the DLQ topic back (the dead-letter table writer, the gateway). */
export function readDeadLetter(message: KafkaMessage): Required<DeadLetter> {
  const partition = header(message.headers, DLQ_HEADERS.sourcePartition);
  const ts = header(message.headers, DLQ_HEADERS.ts);
  return {
    raw: message.value,
    key: message.key,
    reason: header(message.headers, DLQ_HEADERS.reason) ?? '',
    sourceTopic: header(message.headers, DLQ_HEADERS.sourceTopic) ?? '',
    sourcePartition: partition === undefined ? -1 : Number(partition),
    sourceOffset: header(message.headers, DLQ_HEADERS.sourceOffset) ?? '',
    ts: ts === undefined ? Number(message.timestamp) : Date.parse(ts),
  };
}

export interface DeadLetterProducer {
  connect(): Promise<void>;
  send(letters: readonly DeadLetter[]): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
  readonly producer: Producer;
}

/**
 * Writes events that broke the contract to pos.events.dlq: value = the raw bytes untouched (a
 * person or a fixed decoder can replay them), reason and source coordinates in headers.
 */
export function createDeadLetterProducer(
  kafka: Kafka,
  opts: { topic?: string } = {},
): DeadLetterProducer {
  const topic = opts.topic ?? TOPICS.deadLetter;
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  return {
    producer,
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    async send(letters) {
      if (!letters.length) return [];
      return producer.send({
        topic,
        acks: -1,
        messages: letters.map((l) => ({
          key: l.key ?? null,
          value: l.raw,
          headers: deadLetterHeaders(l),
        })),
      });
    },
  };
}
