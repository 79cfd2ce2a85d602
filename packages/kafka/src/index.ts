export { createKafka, type CreateKafkaOptions } from './client';
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
export { deadLetterHeaders, type DeadLetter } from './dlq';
export { KAFKA_RETRY, TRANSACTIONAL_RETRY } from './retry';
export type { Kafka, KafkaMessage, Consumer, Producer } from 'kafkajs';
