import { describe, expect, it } from 'vitest';
import { chartSpec, hhmm } from './chart-spec';

describe('the alert chart', () => {
  const a = { window: '15m', threshold: 0.05, baseline: 0.004 };
  it('plots the alert’s own metric with its threshold and baseline where a series holds it', () => {
    expect(chartSpec({ ...a, metric: 'no_settlement_rate' })).toEqual({
      field: 'noSettlementRate',
      own: true,
      window: '15m',
      threshold: 0.05,
      baseline: 0.004,
    });
  });
  it('else the fault rate, not claimed to be the metric (card testing, timeouts...)', () => {
    expect(chartSpec({ ...a, metric: 'small_amount_decline_rate' })).toEqual({
      field: 'faultRate',
      own: false,
      window: '15m',
    });
    expect(chartSpec({ ...a, metric: 'timeout_rate', window: '30m' }).window).toBe('1m');
  });
  it('24-hour times', () => {
    expect(hhmm(Date.UTC(2026, 0, 1, 15, 5) / 1000, 'UTC')).toBe('15:05');
    expect(hhmm(Date.UTC(2026, 0, 1, 15, 5) / 1000, 'Asia/Shanghai')).toBe('23:05');
  });
});
