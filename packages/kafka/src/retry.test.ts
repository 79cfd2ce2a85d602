import { describe, expect, it } from 'vitest';
import { TwKafkaError, isRetriable } from './errors';
import { withRetry } from './retry';

describe('withRetry', () => {
  it('retries retriable errors until the work succeeds', async () => {
    let calls = 0;
    const out = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new TwKafkaError('TW_KAFKA_SEND', 'broker restarting', true);
        return 'sent';
      },
      { minTimeoutMs: 1, maxTimeoutMs: 2 },
    );
    expect(out).toBe('sent');
    expect(calls).toBe(3);
  });

  it('fails at once on an error that says retrying cannot help', async () => {
    let calls = 0;
    const bad = new TwKafkaError('TW_KAFKA_TOPIC', 'topic does not exist', false);
    await expect(
      withRetry(
        async () => {
          calls++;
          throw bad;
        },
        { minTimeoutMs: 1 },
      ),
    ).rejects.toBe(bad);
    expect(calls).toBe(1);
  });

  it('gives up after the configured retries', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw Object.assign(new Error('leader not available'), { retriable: true });
        },
        { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 1 },
      ),
    ).rejects.toThrow(/leader not available/);
    expect(calls).toBe(3);
  });
});

describe('isRetriable', () => {
  it('believes the error', () => {
    expect(isRetriable({ retriable: true })).toBe(true);
    expect(isRetriable({ retriable: false })).toBe(false);
    expect(isRetriable({ name: 'KafkaJSNumberOfRetriesExceeded' })).toBe(true);
    expect(isRetriable(new TypeError('x is undefined'))).toBe(false);
    expect(isRetriable(null)).toBe(false);
  });
});
