import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, envs, loadConfig } from './index';

const schema = z.object({
  PORT: envs.port(8080),
  KAFKA_BROKERS: envs.list().optional(),
  TILLWATCH_SEED: envs.int(1),
  TILLWATCH_PRETTY: envs.bool(false),
});

describe('loadConfig', () => {
  it('applies defaults and coerces strings', () => {
    expect(loadConfig(schema, {})).toEqual({
      PORT: 8080,
      TILLWATCH_SEED: 1,
      TILLWATCH_PRETTY: false,
    });
    const c = loadConfig(schema, {
      PORT: '9000',
      KAFKA_BROKERS: 'a:1, b:2',
      TILLWATCH_PRETTY: 'yes',
    });
    expect(c).toMatchObject({ PORT: 9000, KAFKA_BROKERS: ['a:1', 'b:2'], TILLWATCH_PRETTY: true });
  });
  it('names the variable that is wrong', () => {
    expect(() => loadConfig(schema, { PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { PORT: '70000' })).toThrow(/PORT/);
    try {
      loadConfig(schema, { PORT: 'x', TILLWATCH_SEED: '-1' });
    } catch (e) {
      expect((e as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
        'PORT',
        'TILLWATCH_SEED',
      ]);
    }
  });
});
