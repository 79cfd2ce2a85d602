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
