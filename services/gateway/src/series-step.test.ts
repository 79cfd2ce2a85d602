import { describe, expect, it } from 'vitest';
import { SERIES_MAX_POINTS, seriesStep } from './clickhouse-reads';

describe('seriesStep', () => {
  it('keeps the configured step for short ranges and widens it so a range holds the cap', () => {
    expect(seriesStep(0, 3_600_000, 10_000)).toBe(10_000);
    // a day at 10 s would be 8,640 points: 87 s steps give 994
    expect(seriesStep(0, 86_400_000, 10_000)).toBe(87_000);
    const month = 30 * 86_400_000;
    const step = seriesStep(0, month, 10_000);
    expect(month / step).toBeLessThanOrEqual(SERIES_MAX_POINTS);
    expect(step % 1000).toBe(0);
    expect(seriesStep(5, 5, 0)).toBe(1000);
  });
});
