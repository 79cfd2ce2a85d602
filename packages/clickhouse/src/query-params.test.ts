import { describe, expect, it } from 'vitest';
import { alertsQuerySchema, drillDownQuerySchema, seriesQuerySchema } from './queries';
import { DATETIME_MAX_MS, epochMs } from './query-params';

describe('read query times (issue 16: out-of-range times reached ClickHouse as a 500)', () => {
  const t0 = 1_767_225_600_000;
  const huge = 8_640_000_000_000_001;

  it('refuses a time past what DateTime holds before any SQL is written', () => {
    expect(epochMs.safeParse(DATETIME_MAX_MS).success).toBe(true);
    expect(new Date(DATETIME_MAX_MS + 1).toISOString()).toBe('2106-02-07T06:28:16.000Z');
    for (const t of [DATETIME_MAX_MS + 1, huge, -1, 1.5, Number.NaN]) {
      expect(epochMs.safeParse(t).success, String(t)).toBe(false);
    }
  });

  it('so does every read that takes a time', () => {
    const series = { scope: 'terminal', key: 'T1', window: '1m', from: t0, to: t0 + 60_000 };
    const drill = { terminalId: 'T1', from: t0, to: t0 + 60_000 };
    expect(alertsQuerySchema.safeParse({ from: t0 }).success).toBe(true);
    expect(seriesQuerySchema.safeParse(series).success).toBe(true);
    expect(drillDownQuerySchema.safeParse(drill).success).toBe(true);
    expect(alertsQuerySchema.safeParse({ from: huge }).success).toBe(false);
    expect(alertsQuerySchema.safeParse({ to: huge }).success).toBe(false);
    expect(seriesQuerySchema.safeParse({ ...series, to: huge }).success).toBe(false);
    expect(drillDownQuerySchema.safeParse({ ...drill, to: huge }).success).toBe(false);
  });
});
