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

/**
 * The retrier of a transactional producer's sends. The first send of a transaction often finds
 * the previous one still completing on the coordinator (its commit markers being written) and
 * gets CONCURRENT_TRANSACTIONS, which clears within milliseconds; with KAFKA_RETRY's 300 ms
 * first wait every such transaction took 250-350 ms longer (the board-latency bench logged one
 * per transaction). So the first wait is 20 ms, as the Java producer waits before retrying
 * AddPartitionsToTxn, and it grows as before; retries are unlimited, as kafkajs requires of an
 * idempotent producer to keep its exactly-once guarantee.
 */
export const TRANSACTIONAL_RETRY: RetryOptions = {
  ...KAFKA_RETRY,
  initialRetryTime: 20,
  retries: Number.MAX_SAFE_INTEGER,
};
