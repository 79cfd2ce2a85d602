import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_SCHEDULE_MS,
  classifyStatus,
  delayBeforeAttempt,
  parseRetryAfter,
  parseSchedule,
} from './schedule';

describe('retry schedule', () => {
  it('defaults to the Standard Webhooks schedule', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual(parseSchedule('0, 5s, 5m, 30m, 2h, 5h, 10h, 10h'));
  });
  it('parses compressed schedules for tests and rejects junk', () => {
    expect(parseSchedule('0,50ms,0.5s,1m')).toEqual([0, 50, 500, 60_000]);
    expect(parseSchedule('0, 20')).toEqual([0, 20]);
    expect(() => parseSchedule('soon')).toThrow(/bad delay/);
    expect(() => parseSchedule('')).toThrow(/at least one/);
  });
  it('jitters within ±jitter and ends when the schedule is used up', () => {
    const s = [0, 1000, 10_000];
    expect(delayBeforeAttempt(0, s, 0.2, 0.99)).toBe(0);
    expect(delayBeforeAttempt(1, s, 0.2, 0)).toBe(800);
    expect(delayBeforeAttempt(1, s, 0.2, 0.5)).toBe(1000);
    expect(delayBeforeAttempt(2, s, 0.2, 0.999_999)).toBe(12_000);
    expect(delayBeforeAttempt(3, s, 0.2, 0.5)).toBeUndefined();
  });
});

describe('Retry-After and status verdicts', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(['7'], now)).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('later', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
  it('2xx delivered, 410 gone, everything else (3xx included) retried', () => {
    expect([200, 201, 204, 299].map(classifyStatus)).toEqual(Array(4).fill('delivered'));
    expect(classifyStatus(410)).toBe('gone');
    for (const s of [301, 302, 307, 400, 404, 429, 500, 502, 503, 504, undefined]) {
      expect(classifyStatus(s)).toBe('retry');
    }
  });
});
