import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker';

describe('CircuitBreaker', () => {
  it('opens after N failures in a row, lets one trial through after the cool-down, closes on its success', () => {
    const b = new CircuitBreaker({ failures: 3, cooldownMs: 1000 });
    expect(b.tryAcquire(0)).toBe(true);
    expect(b.record(false, 0)).toBe(false);
    b.record(true, 1); // a success resets the count
    expect([b.record(false, 2), b.record(false, 3), b.record(false, 4)]).toEqual([
      false,
      false,
      true,
    ]);
    expect(b.state).toBe('open');
    expect(b.retryAt).toBe(1004);
    expect(b.tryAcquire(1003)).toBe(false);
    expect(b.tryAcquire(1004)).toBe(true); // the trial
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire(1005)).toBe(false); // one trial at a time
    b.record(false, 1100); // the trial failed: open again for a whole cool-down
    expect(b.state).toBe('open');
    expect(b.tryAcquire(2099)).toBe(false);
    expect(b.tryAcquire(2100)).toBe(true);
    b.release(); // cancelled: no verdict, the next may try
    expect(b.tryAcquire(2101)).toBe(true);
    b.record(true, 2102);
    expect(b.state).toBe('closed');
    expect(b.tryAcquire(2103)).toBe(true);
  });
});
