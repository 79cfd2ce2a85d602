import { describe, expect, it } from 'vitest';
import { TrafficPlan, trafficReport } from './region-traffic';
import type { RegionAuthCount } from './store';

const H = 3_600_000;
const DAY = 24 * H;
const SH = { timeZone: 'Asia/Shanghai', regions: {} };
// 2026-03-02 14:37:25.5 UTC = 22:37 in Shanghai
const NOW = Date.parse('2026-03-02T14:37:25.500Z');

describe('TrafficPlan', () => {
  it('compares the last hour to the last whole minute with the same hour of 7 days before', () => {
    const p = new TrafficPlan(NOW, SH);
    expect(new Date(p.to).toISOString()).toBe('2026-03-02T14:37:00.000Z');
    expect(p.from).toBe(p.to - H);
    expect(p.buckets).toBe(12);
    expect(p.historyStarts('CN-31')).toEqual([1, 2, 3, 4, 5, 6, 7].map((k) => p.from - k * DAY));
    expect(p.starts()).toEqual([p.from, ...p.historyStarts('CN-31')]);
    expect(p.timeZone('CN-31')).toBe('Asia/Shanghai');
  });

  it('follows a region’s own zone across a clock change (the same local hour, not 24 h)', () => {
    // Berlin moved to summer time on 2026-03-29: on the 31st, 13:00 local is 11:00 UTC;
    // on the 27th (winter) 13:00 local was 12:00 UTC
    const zones = { timeZone: 'Asia/Shanghai', regions: { 'DE-BE': 'Europe/Berlin' } };
    const p = new TrafficPlan(Date.parse('2026-03-31T12:00:00Z'), zones);
    expect(new Date(p.from).toISOString()).toBe('2026-03-31T11:00:00.000Z');
    const berlin = p.historyStarts('DE-BE').map((t) => new Date(t).toISOString());
    expect(berlin[0]).toBe('2026-03-30T11:00:00.000Z');
    expect(berlin[3]).toBe('2026-03-27T12:00:00.000Z');
    // Shanghai keeps whole days; both sets are asked for once
    expect(p.historyStarts('CN-31')[3]).toBe(p.from - 4 * DAY);
    expect(new Set(p.starts()).size).toBe(p.starts().length);
    expect(p.starts()).toContain(Date.parse('2026-03-27T12:00:00Z'));
    expect(p.starts()).toContain(p.from - 4 * DAY);
    expect(p.timeZone('DE-BE')).toBe('Europe/Berlin');
  });
});

describe('trafficReport', () => {
  const p = new TrafficPlan(NOW, SH);
  const c = (region: string, start: number, bucket: number, auths: number): RegionAuthCount => ({
    region,
    start,
    bucket,
    auths,
  });

  it('the ratio is against the mean of the days that have traffic in the hour', () => {
    const [d1, d2, d3] = p.historyStarts('CN-31');
    const r = trafficReport(p, [
      c('CN-31', p.from, 0, 30),
      c('CN-31', p.from, 11, 30),
      c('CN-31', d1!, 0, 40),
      c('CN-31', d3!, 5, 20),
      c('CN-31', d2! + 1, 0, 999), // not a start of this region's hour: ignored
    ]);
    const x = r.regions[0]!;
    expect(x).toMatchObject({ region: 'CN-31', auths: 60, normal: 30, normalDays: 2, ratio: 2 });
    expect(x.series).toEqual([30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 30]);
    expect(x.normalSeries).toEqual([20, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0]);
    expect(r).toMatchObject({ bucketMs: 300_000, buckets: 12, days: 7 });
    expect(r.to).toBe('2026-03-02T14:37:00.000Z');
  });

  it('no history for the hour: no normal yet (null), never a guess', () => {
    const r = trafficReport(p, [c('CN-11', p.from, 3, 12)]);
    expect(r.regions).toEqual([
      {
        region: 'CN-11',
        timeZone: 'Asia/Shanghai',
        auths: 12,
        normal: null,
        normalDays: 0,
        ratio: null,
        series: [0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0],
        normalSeries: null,
      },
    ]);
  });

  it('a region silent now but busy on other days is listed at 0 % of its normal', () => {
    const r = trafficReport(p, [c('CN-61', p.historyStarts('CN-61')[0]!, 2, 50)]);
    expect(r.regions[0]).toMatchObject({ region: 'CN-61', auths: 0, normal: 50, ratio: 0 });
  });
});
