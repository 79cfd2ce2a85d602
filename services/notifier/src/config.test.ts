import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tillwatch/config';
import { generateSecretKey } from '@tillwatch/webhooks';
import { loadNotifierEnv, productionSecretKeys, secretKeysOf, toNotifierConfig } from './config';

const problems = (env: Record<string, string>) => {
  try {
    loadNotifierEnv(env);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => `${p.variable}: ${p.message}`);
  }
};

describe('notifier configuration: the secret key and the fairness limits', () => {
  it('production (CLICKHOUSE_URL) without WEBHOOK_SECRET_KEY stops, naming the variable', () => {
    const env = loadNotifierEnv({ CLICKHOUSE_URL: 'http://clickhouse:8123' });
    expect(() => productionSecretKeys(env)).toThrow(ConfigError);
    expect(() => productionSecretKeys(env)).toThrow(
      /WEBHOOK_SECRET_KEY: required with CLICKHOUSE_URL/,
    );
    // the all-in-one reads the same schema and keeps its journal: CLICKHOUSE_URL in its
    // environment does not stop it
    expect(secretKeysOf(env)).toBeUndefined();
  });

  it('a key that is not base64 of 32 bytes stops it, without echoing the value', () => {
    const bad = Buffer.alloc(31, 1).toString('base64');
    const p = problems({ WEBHOOK_SECRET_KEY: bad });
    expect(p).toEqual([expect.stringMatching(/^WEBHOOK_SECRET_KEY: .*32 random bytes/)]);
    expect(p.join()).not.toContain(bad);
    const prev = problems({
      WEBHOOK_SECRET_KEY: generateSecretKey(),
      WEBHOOK_SECRET_KEYS_PREVIOUS: `${generateSecretKey()},nope`,
    });
    expect(prev).toEqual([expect.stringMatching(/^WEBHOOK_SECRET_KEYS_PREVIOUS: entry 2 /)]);
  });

  it('embedded mode needs no key; a configured one with previous keys makes a keyring', () => {
    expect(secretKeysOf(loadNotifierEnv({}))).toBeUndefined();
    const k = generateSecretKey();
    const old = generateSecretKey();
    const ring = secretKeysOf(
      loadNotifierEnv({
        CLICKHOUSE_URL: 'http://clickhouse:8123',
        WEBHOOK_SECRET_KEY: k,
        WEBHOOK_SECRET_KEYS_PREVIOUS: old,
      }),
    );
    expect(ring?.current.key.toString('base64')).toBe(k);
    expect(ring?.previous.map((x) => x.key.toString('base64'))).toEqual([old]);
  });

  it('fairness limits come from the environment', () => {
    const c = toNotifierConfig(
      loadNotifierEnv({
        NOTIFIER_MERCHANT_CONCURRENCY: '2',
        NOTIFIER_BREAKER_FAILURES: '7',
        NOTIFIER_BREAKER_COOLDOWN_MS: '1000',
      }),
    );
    expect(c).toMatchObject({
      merchantConcurrency: 2,
      breakerFailures: 7,
      breakerCooldownMs: 1000,
    });
    expect(toNotifierConfig(loadNotifierEnv({}))).toMatchObject({
      concurrency: 16,
      merchantConcurrency: 4,
      breakerFailures: 5,
      breakerCooldownMs: 30_000,
    });
  });
});
