/**
 * Errors carry a code and whether retrying can help (CONVENTIONS.md §5), like kafkajs' own
 * `retriable`. Callers branch on `retriable`, never on message text.
 */
export class TwKafkaError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TwKafkaError';
  }
}

/**
 * Can a retry help? Our errors and kafkajs' say so themselves (`retriable`); a kafkajs
 * KafkaJSNumberOfRetriesExceeded wraps a retriable cause. Anything else (a bug, bad input) is not.
 */
export function isRetriable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as {
    retriable?: unknown;
    name?: unknown;
    cause?: unknown;
    originalError?: unknown;
  };
  if (e.retriable === true) return true;
  if (e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSConnectionError') {
    return true;
  }
  return false;
}
