import { describe, expect, it } from 'vitest';
import { cutoffPartition } from './retention';
import { DEFAULT_RETENTION_DAYS, parseRetentionPolicy } from './retention-schedule';

describe('cutoffPartition', () => {
  it('is the UTC day N days back, as toYYYYMMDD renders it', () => {
    const now = Date.UTC(2026, 2, 3, 0, 30); // 2026-03-03 00:30 UTC
    expect(cutoffPartition(0, now)).toBe(20260303);
    expect(cutoffPartition(3, now)).toBe(20260228);
    expect(cutoffPartition(365, now)).toBe(20250303);
  });
});

describe('parseRetentionPolicy', () => {
  it('overrides the defaults per table; off keeps a table forever', () => {
    const p = parseRetentionPolicy('events_raw=7d, alerts=off');
    expect(p).toEqual({ ...DEFAULT_RETENTION_DAYS, events_raw: 7, alerts: undefined });
    expect('alerts' in p).toBe(false);
    expect(parseRetentionPolicy('')).toEqual(DEFAULT_RETENTION_DAYS);
  });

  it.each([
    ['events_raw=7', /table=<days>d/],
    ['events_raw=36h', /table=<days>d/],
    ['silences=7d', /no day partitions/],
    ['events_raw=7d,events_raw=8d', /twice/],
    ['notifier_attempts=7d', /minimum of 8d/],
    ['window_stats=0d', /minimum of 1d/],
  ])('refuses %s', (text, message) => {
    expect(() => parseRetentionPolicy(text)).toThrow(message);
  });
});
