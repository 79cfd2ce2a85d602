import { describe, expect, it } from 'vitest';
import { cutoffPartition } from './retention';

describe('cutoffPartition', () => {
  it('is the UTC day N days back, as toYYYYMMDD renders it', () => {
    const now = Date.UTC(2026, 2, 3, 0, 30); // 2026-03-03 00:30 UTC
    expect(cutoffPartition(0, now)).toBe(20260303);
    expect(cutoffPartition(3, now)).toBe(20260228);
    expect(cutoffPartition(365, now)).toBe(20250303);
  });
});
