import pRetry, { AbortError } from 'p-retry';
import type { RetryOptions } from 'kafkajs';
import type { Logger } from '@tillwatch/config';
import { isRetriable } from './errors';

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

export interface WithRetryOptions {
  /** tries after the first; Infinity = until it works or a non-retriable error */
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  /** give up after this long in total */
  maxRetryTimeMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** what is being retried, for the log line */
  what?: string;
  /** default: isRetriable() */
  shouldRetry?: (err: unknown) => boolean;
}

/**
 * Application-level retry (p-retry: exponential backoff with jitter) for work around the client,
 * e.g. a produce that kafkajs already retried and gave up on while the broker restarts. Errors
 * that say they are not retriable fail at once.
 */
export function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: WithRetryOptions = {},
): Promise<T> {
  const should = opts.shouldRetry ?? isRetriable;
  return pRetry(
    async (attempt) => {
      try {
        return await fn(attempt);
      } catch (e) {
        if (!should(e)) throw new AbortError(e instanceof Error ? e : new Error(String(e)));
        throw e;
      }
    },
    {
      retries: opts.retries ?? 8,
      minTimeout: opts.minTimeoutMs ?? 200,
      maxTimeout: opts.maxTimeoutMs ?? 10_000,
      factor: 2,
      randomize: true,
      ...(opts.maxRetryTimeMs !== undefined ? { maxRetryTime: opts.maxRetryTimeMs } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        opts.logger?.warn(
          { err: error, attempt: attemptNumber, retriesLeft },
          `${opts.what ?? 'kafka operation'} failed, retrying`,
        );
      },
    },
  );
}
