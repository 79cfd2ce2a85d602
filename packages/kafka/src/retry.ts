import type { RetryOptions } from 'kafkajs';

/**
 * kafkajs' own retrier, used for every request the client makes. kafkajs defaults give up after
 * 5 tries in ~10 s; a broker restart (rolling upgrade, the local test broker) takes longer, so
 * we allow 10 tries with the wait capped at 30 s: ~2 min of trying before an error surfaces.
 */
export const KAFKA_RETRY: RetryOptions = {
  initialRetryTime: 300,
  retries: 10,
  maxRetryTime: 30_000,
  factor: 0.2,
  multiplier: 2,
};
