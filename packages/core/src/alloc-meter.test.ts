import { describe, expect, it } from 'vitest';
import { allocationMeter } from './alloc-meter';

describe('allocationMeter', () => {
  it('counts what a loop allocates, across collections', () => {
    const m = allocationMeter();
    m.start();
    // 2M live-for-a-moment arrays of two numbers (32+ bytes each) force many scavenges
    const keep: number[][] = [];
    for (let i = 0; i < 2_000_000; i++) {
      keep.push([i, i + 1]);
      if (keep.length > 1_000) keep.length = 0;
    }
    const bytes = m.stop();
    expect(bytes / 2_000_000).toBeGreaterThan(24);
    expect(bytes / 2_000_000).toBeLessThan(200);
  });

  it('counts almost nothing for a loop that allocates nothing', () => {
    const m = allocationMeter();
    const a = new Int32Array(1_000).fill(1);
    m.start();
    let s = 0;
    for (let r = 0; r < 2_000; r++) for (let i = 0; i < a.length; i++) s = (s + a[i]! + i) | 0;
    const bytes = m.stop();
    expect(s).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(1_000_000);
  });

  it('refuses stop() before start()', () => {
    expect(() => allocationMeter().stop()).toThrow(/before start/);
  });
});
