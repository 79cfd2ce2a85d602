import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tillwatch/config';
import { loadProcessorConfig } from './config';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', CLICKHOUSE_URL: 'http://127.0.0.1:8123' };

describe('processor config', () => {
  it('fills defaults and parses durations', () => {
    const c = loadProcessorConfig({ ...base, SETTLEMENT_DEADLINE: '30m' });
    expect(c.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(c.TOPIC_EVENTS).toBe('pos.events');
    expect(c.TOPIC_ROLLUPS).toBe('pos.rollups');
    expect(c.SETTLEMENT_DEADLINE).toBe(1_800_000);
    expect(c.REVERSAL_GRACE).toBe(60_000);
  });

  it('RULES_WARMUP: 14 days by default, 0 turns it off, a bad value names the variable', () => {
    expect(loadProcessorConfig(base).RULES_WARMUP).toBe(14 * 86_400_000);
    expect(loadProcessorConfig({ ...base, RULES_WARMUP: '36h' }).RULES_WARMUP).toBe(36 * 3_600_000);
    expect(loadProcessorConfig({ ...base, RULES_WARMUP: '0' }).RULES_WARMUP).toBe(0);
    for (const bad of ['14', 'two weeks', '-1d', '120d']) {
      expect(() => loadProcessorConfig({ ...base, RULES_WARMUP: bad })).toThrow(ConfigError);
      expect(() => loadProcessorConfig({ ...base, RULES_WARMUP: bad })).toThrow(/RULES_WARMUP: /);
    }
  });

  it('ROLLUPS_FORMAT: binary by default, json for an upgrade, anything else names the variable', () => {
    expect(loadProcessorConfig(base).ROLLUPS_FORMAT).toBe('binary');
    expect(loadProcessorConfig({ ...base, ROLLUPS_FORMAT: 'json' }).ROLLUPS_FORMAT).toBe('json');
    expect(() => loadProcessorConfig({ ...base, ROLLUPS_FORMAT: 'avro' })).toThrow(ConfigError);
    expect(() => loadProcessorConfig({ ...base, ROLLUPS_FORMAT: 'avro' })).toThrow(
      /ROLLUPS_FORMAT/,
    );
  });

  it('retention: defaults for every day-partitioned table, overridden per table', () => {
    const d = loadProcessorConfig(base);
    expect(d.RETENTION).toEqual({
      events_raw: 30,
      window_stats: 30,
      pane_counts: 30,
      alerts: 180,
      alert_actions: 180,
      dead_letters: 30,
      notifier_deliveries: 30,
      notifier_attempts: 30,
      rules_memory: 14,
    });
    expect(d.RETENTION_EVERY).toBe(3_600_000);
    const c = loadProcessorConfig({
      ...base,
      RETENTION: ' events_raw=7d, pane_counts=14d ,alerts=off,',
      RETENTION_EVERY: '15m',
    });
    expect(c.RETENTION).toEqual({
      events_raw: 7,
      window_stats: 30,
      pane_counts: 14,
      alert_actions: 180,
      dead_letters: 30,
      notifier_deliveries: 30,
      notifier_attempts: 30,
      rules_memory: 14,
    });
    expect(c.RETENTION_EVERY).toBe(900_000);
  });

  it('names RETENTION and the offending table in the message', () => {
    expect(() => loadProcessorConfig({ ...base, RETENTION: 'events_raw=30d,bogus=3d' })).toThrow(
      /RETENTION: "bogus" has no day partitions/,
    );
  });

  it.each([
    [{ CLICKHOUSE_URL: base.CLICKHOUSE_URL }, 'KAFKA_BROKERS'],
    [{ ...base, KAFKA_BROKERS: ' , ' }, 'KAFKA_BROKERS'],
    [{ ...base, KAFKA_BROKERS: 'kafka' }, 'KAFKA_BROKERS'],
    [{ ...base, CLICKHOUSE_URL: 'clickhouse' }, 'CLICKHOUSE_URL'],
    // a valid URL to zod (scheme "clickhouse:"), not one the HTTP client can use
    [{ ...base, CLICKHOUSE_URL: 'clickhouse:8123' }, 'CLICKHOUSE_URL'],
    [{ ...base, TOPIC_EVENTS: 'pos events' }, 'TOPIC_EVENTS'],
    [{ ...base, SETTLEMENT_DEADLINE: 'a day' }, 'SETTLEMENT_DEADLINE'],
    [{ ...base, PROCESSOR_METRICS_PORT: '70000' }, 'PROCESSOR_METRICS_PORT'],
    [{ ...base, RETENTION: 'events_raw=30' }, 'RETENTION'],
    [{ ...base, RETENTION: 'events_raw=12h' }, 'RETENTION'],
    [{ ...base, RETENTION: 'eventsraw=30d' }, 'RETENTION'],
    [{ ...base, RETENTION: 'silences=30d' }, 'RETENTION'],
    [{ ...base, RETENTION: 'alerts=30d,alerts=60d' }, 'RETENTION'],
    [{ ...base, RETENTION: 'notifier_deliveries=7d' }, 'RETENTION'],
    [{ ...base, RETENTION: 'dead_letters=0d' }, 'RETENTION'],
    [{ ...base, RETENTION: 'events_raw=1d' }, 'RETENTION'],
    [{ ...base, RETENTION: 'events_raw=3d', SETTLEMENT_DEADLINE: '3d' }, 'RETENTION'],
    [{ ...base, RETENTION_EVERY: 'hourly' }, 'RETENTION_EVERY'],
    [{ ...base, RETENTION_EVERY: '10s' }, 'RETENTION_EVERY'],
    [{ ...base, RETENTION_EVERY: '2d' }, 'RETENTION_EVERY'],
  ])('refuses %o naming %s', (env, variable) => {
    try {
      loadProcessorConfig(env);
      expect.unreachable('config should have been refused');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems.map((p) => p.variable)).toContain(variable);
    }
  });
});
