import { describe, expect, it } from 'vitest';
import { startServices } from './services';

describe('startServices', () => {
  it('uses KAFKA_BROKERS / CLICKHOUSE_URL as given and starts nothing', async () => {
    const s = await startServices({
      env: { KAFKA_BROKERS: 'k1:9092,k2:9092', CLICKHOUSE_URL: 'http://ch:8123/db' },
    });
    expect(s.env).toEqual({
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      CLICKHOUSE_URL: 'http://ch:8123/db',
    });
    expect(s.providers).toEqual({ kafka: 'env', clickhouse: 'env' });
    await s.stop(); // nothing to stop; must not throw, twice either
    await s.stop();
  });

  it('provides only what was asked for', async () => {
    const s = await startServices({ need: ['kafka'], env: { KAFKA_BROKERS: 'k:1' } });
    expect(s.env).toEqual({ KAFKA_BROKERS: 'k:1' });
    expect(s.providers).toEqual({ kafka: 'env' });
  });
});
