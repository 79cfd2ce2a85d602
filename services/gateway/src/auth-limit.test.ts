import { describe, expect, it } from 'vitest';
import { FailedAuthLimiter, KEY_PREFIX_CHARS } from './auth-limit';

describe('FailedAuthLimiter (time is an argument)', () => {
  it('refuses after max failures until the window ends, per address and per key prefix', () => {
    let now = 1_000_000;
    const l = new FailedAuthLimiter({ max: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfterMs('203.0.113.1', `guess-${i}`)).toBe(0);
      l.fail('203.0.113.1', `guess-${i}-${'x'.repeat(KEY_PREFIX_CHARS)}`);
      now += 1000;
    }
    // the window started at the first failure: 60 s after it, 57 s from now
    expect(l.retryAfterMs('203.0.113.1', undefined)).toBe(57_000);
    expect(l.retryAfterMs('203.0.113.2', undefined)).toBe(0);
    now += 57_000;
    expect(l.retryAfterMs('203.0.113.1', undefined)).toBe(0);

    // the same prefix from three addresses fills the prefix's bucket
    const prefix = 'p'.repeat(KEY_PREFIX_CHARS);
    for (let i = 0; i < 3; i++) l.fail(`198.51.100.${i}`, `${prefix}-${i}`);
    expect(l.retryAfterMs('198.51.100.99', `${prefix}-another-tail`)).toBe(60_000);
    expect(l.retryAfterMs('198.51.100.99', `q${prefix}`)).toBe(0);
    // no key presented: the address alone is judged
    expect(l.retryAfterMs('198.51.100.99', undefined)).toBe(0);
  });

  it('keeps a bounded number of buckets', () => {
    const l = new FailedAuthLimiter({ max: 1, windowMs: 60_000, capacity: 2, now: () => 0 });
    l.fail('a', undefined);
    l.fail('b', undefined);
    l.fail('c', undefined); // 'a' is forgotten, the least recently failing
    expect(['a', 'b', 'c'].map((x) => l.retryAfterMs(x, undefined))).toEqual([0, 60_000, 60_000]);
  });
});
