import {
  CompressionTypes,
  Partitioners,
  type IHeaders,
  type Kafka,
  type Producer,
  type RecordMetadata,
} from 'kafkajs';
import type { Logger } from '@tillwatch/config';

export interface JsonRecord<T> {
  value: T;
  /** default: the producer's key(value) */
  key?: string | null;
  headers?: IHeaders;
  /** epoch ms; default now */
  timestamp?: number;
}

export interface JsonProducerOptions<T> {
  topic: string;
  /** the record key from the value, e.g. (e) => e.merchantId for pos.events */
  key?: (value: T) => string | null;
  logger?: Logger;
  /** default gzip off: events are ~180 B; compression costs more CPU than it saves on loopback */
  compression?: CompressionTypes;
}

export interface JsonProducer<T> {
  connect(): Promise<void>;
  /** Send values (or records) as one batch; resolves once all replicas in sync have them (acks=-1). */
  send(values: readonly T[]): Promise<RecordMetadata[]>;
  sendRecords(records: readonly JsonRecord<T>[]): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
  /** the underlying kafkajs producer, for what this wrapper does not cover */
  readonly producer: Producer;
}

/**
 * A producer of JSON values for one topic. Uses the Java client's murmur2 partitioner
 * (kafkajs' DefaultPartitioner): a merchant's events land on the same partition whichever
 * client wrote them, which the Kafka Streams comparison and the key contract rely on.
 */
export function createJsonProducer<T>(kafka: Kafka, opts: JsonProducerOptions<T>): JsonProducer<T> {
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  const keyOf = opts.key ?? (() => null);
  const sendRecords = async (records: readonly JsonRecord<T>[]) => {
    if (!records.length) return [];
    return producer.send({
      topic: opts.topic,
      acks: -1,
      compression: opts.compression ?? CompressionTypes.None,
      messages: records.map((r) => ({
        key: r.key === undefined ? keyOf(r.value) : r.key,
        value: JSON.stringify(r.value),
        ...(r.headers ? { headers: r.headers } : {}),
        ...(r.timestamp !== undefined ? { timestamp: String(r.timestamp) } : {}),
      })),
    });
  };
  return {
    producer,
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    sendRecords,
    send: (values) => sendRecords(values.map((value) => ({ value }))),
  };
}
