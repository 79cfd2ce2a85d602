import { describe, expect, it } from 'vitest';
import { byKeyBytes, SERIES_MAX_POINTS, seriesStep } from './clickhouse-reads';

describe('seriesStep', () => {
  it('keeps the configured step for short ranges and widens it so a range holds the cap', () => {
    expect(seriesStep(0, 3_600_000, 10_000)).toBe(10_000);
    // a day at 10 s would be 8,640 points: 87 s steps give 994, whole panes 90 s
    expect(seriesStep(0, 86_400_000, 10_000)).toBe(90_000);
    const month = 30 * 86_400_000;
    const step = seriesStep(0, month, 10_000);
    expect(month / step).toBeLessThanOrEqual(SERIES_MAX_POINTS);
    expect(step % 5000).toBe(0);
    expect(seriesStep(5, 5, 0)).toBe(5000);
  });

  it('a step shorter than the window divides it; a longer one is left as it is', () => {
    // a day of 15m windows: 90 s divides 15 min
    expect(seriesStep(0, 86_400_000, 10_000, 900_000)).toBe(90_000);
    // a week of 1h windows: 605 s -> 720 s, the next step that divides the hour
    expect(seriesStep(0, 7 * 86_400_000, 10_000, 3_600_000)).toBe(720_000);
    expect(seriesStep(0, 30 * 86_400_000, 10_000, 3_600_000)).toBe(3_600_000);
    // a day of 1m windows: 90 s is past the window, each point sums its step's last minute
    expect(seriesStep(0, 86_400_000, 10_000, 60_000)).toBe(90_000);
    expect(seriesStep(0, 3_600_000, 10_000, 60_000)).toBe(10_000);
  });
});

describe('byKeyBytes (the live-rates poll reads its keys in runs of bounded query text)', () => {
  it('keeps every key once, in order, each run within the byte budget', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => ({
      key: `T${String(i).padStart(7, '0')}`,
    }));
    const runs = byKeyBytes(keys);
    expect(runs.flat()).toEqual(keys);
    expect(runs.length).toBeGreaterThan(1);
    for (const r of runs) {
      expect(r.reduce((n, k) => n + Buffer.byteLength(k.key) + 4, 0)).toBeLessThanOrEqual(
        64 * 1024,
      );
    }
    expect(byKeyBytes([])).toEqual([]);
  });
});
