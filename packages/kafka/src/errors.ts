/**
 * Errors carry a code and whether retrying can help (docs/conventions.md, on errors), like kafkajs' own
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
