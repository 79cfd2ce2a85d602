export {
  createKafka,
  parseBrokers,
  pinoLogCreator,
  kafkajsLevel,
  type CreateKafkaOptions,
} from './client';
export {
  ensureTopics,
  type TopicSpec,
  type TopicMismatch,
  type EnsureTopicsResult,
} from './topics';
export {
  createJsonProducer,
  type JsonProducer,
  type JsonProducerOptions,
  type JsonRecord,
} from './producer';
export {
  createBatchConsumer,
  type BatchConsumer,
  type BatchConsumerOptions,
  type BatchHandler,
  type BatchInfo,
  type BatchControl,
  type BatchResult,
} from './consumer';
export {
  createDeadLetterProducer,
  readDeadLetter,
  deadLetterHeaders,
  DLQ_HEADERS,
  MAX_REASON_LENGTH,
  type DeadLetter,
  type DeadLetterProducer,
} from './dlq';
export { KAFKA_RETRY, withRetry, type WithRetryOptions } from './retry';
export { TwKafkaError, isRetriable } from './errors';
export type { Kafka, KafkaMessage, Consumer, Producer, IHeaders } from 'kafkajs';
