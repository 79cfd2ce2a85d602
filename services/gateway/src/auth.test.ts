import { ConfigError } from '@tillwatch/config';
import { describe, expect, it } from 'vitest';
import { formatApiKeys, generateDemoKeys, KeyRing, parseApiKeys, tokenFromHeaders } from './auth';
import { loadGatewayConfig } from './config';
import { startProductionGateway } from './production';

const A = 'analyst-key-0123456789';
const M1 = 'merchant-key-0123456789';

describe('API keys', () => {
  it('parses key:role and key:merchant:<id>', () => {
    const keys = parseApiKeys(` ${A}:analyst , ${M1}:merchant:M-001,,`);
    expect(keys).toEqual([
      { key: A, role: 'analyst' },
      { key: M1, role: 'merchant', merchantId: 'M-001' },
    ]);
  });

  it('rejects short keys, unknown roles and merchant keys without a merchant, naming the item not the key', () => {
    for (const bad of [
      'short:analyst',
      `${A}:root`,
      `${A}:merchant`,
      `${A}:analyst:M-1`,
      `${A}:merchant:bad id`,
    ]) {
      let err: unknown;
      try {
        parseApiKeys(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/TILLWATCH_API_KEYS: item 1/);
      expect((err as Error).message).not.toContain(A);
    }
  });

  it('generates distinct random demo keys that round-trip through the env format', () => {
    const a = generateDemoKeys({ merchants: ['M-001', 'M-002'] });
    const b = generateDemoKeys({ merchants: ['M-001', 'M-002'] });
    expect(a.map((k) => k.role)).toEqual(['analyst', 'sre', 'admin', 'merchant', 'merchant']);
    expect(new Set([...a, ...b].map((k) => k.key)).size).toBe(10);
    expect(a.every((k) => k.key.length >= 32)).toBe(true);
    expect(parseApiKeys(formatApiKeys(a))).toEqual(a.map(({ name: _n, ...k }) => k));
  });

  it('KeyRing authenticates exact keys only and binds merchants', () => {
    const ring = new KeyRing(
      parseApiKeys(`${A}:analyst,${M1}:merchant:M-001`),
      'metrics-token-0123456789',
    );
    expect(ring.authenticate(A)).toMatchObject({ role: 'analyst' });
    expect(ring.authenticate(M1)).toMatchObject({ role: 'merchant', merchantId: 'M-001' });
    expect(ring.authenticate(`${A}x`)).toBeUndefined();
    expect(ring.authenticate(A.slice(0, -1))).toBeUndefined();
    expect(ring.authenticate('')).toBeUndefined();
    expect(ring.authenticate(undefined)).toBeUndefined();
    expect(ring.isMetricsToken('metrics-token-0123456789')).toBe(true);
    expect(ring.isMetricsToken(A)).toBe(false);
    // the audit identity never contains the key
    expect(ring.authenticate(A)!.id).not.toContain(A);
  });

  it('reads Bearer and X-API-Key headers', () => {
    expect(tokenFromHeaders({ authorization: `Bearer ${A}` })).toBe(A);
    expect(tokenFromHeaders({ authorization: `bearer  ${A} ` })).toBe(A);
    expect(tokenFromHeaders({ 'x-api-key': A })).toBe(A);
    expect(tokenFromHeaders({ authorization: `Basic ${A}` })).toBeUndefined();
  });
});

describe('gateway config', () => {
  it('defaults: loopback, 8080, GATEWAY_PORT over PORT', () => {
    expect(loadGatewayConfig({})).toMatchObject({ host: '127.0.0.1', port: 8080, apiKeys: [] });
    expect(loadGatewayConfig({ PORT: '9000' }).port).toBe(9000);
    expect(loadGatewayConfig({ PORT: '9000', GATEWAY_PORT: '9001' }).port).toBe(9001);
  });
  it('a bad value stops start naming the variable', () => {
    expect(() => loadGatewayConfig({ GATEWAY_PORT: 'x' })).toThrow(/GATEWAY_PORT/);
    expect(() => loadGatewayConfig({ GATEWAY_RATE_LIMIT_MAX: '0' })).toThrow(
      /GATEWAY_RATE_LIMIT_MAX/,
    );
    expect(() => loadGatewayConfig({ TILLWATCH_API_KEYS_FILE: '/nonexistent/keys.json' })).toThrow(
      /TILLWATCH_API_KEYS_FILE/,
    );
    for (const v of ['GATEWAY_AUTH_FAIL_MAX', 'GATEWAY_SOCKETS_PER_KEY']) {
      expect(() => loadGatewayConfig({ [v]: '0' }), v).toThrow(new RegExp(v));
    }
    expect(() => loadGatewayConfig({ GATEWAY_AUTH_FAIL_WINDOW_MS: '10' })).toThrow(
      /GATEWAY_AUTH_FAIL_WINDOW_MS/,
    );
  });
  it('the production gateway stops at start without the webhook secret key, naming the variable', async () => {
    const prod = { KAFKA_BROKERS: '127.0.0.1:1', CLICKHOUSE_URL: 'http://127.0.0.1:1' };
    // checked before anything is connected to
    await expect(startProductionGateway({ config: loadGatewayConfig(prod) })).rejects.toThrow(
      /WEBHOOK_SECRET_KEY: required in production/,
    );
    expect(() => loadGatewayConfig({ ...prod, WEBHOOK_SECRET_KEY: 'short' })).toThrow(
      /WEBHOOK_SECRET_KEY/,
    );
    // the all-in-one reads the same schema and needs no key
    expect(loadGatewayConfig(prod).webhookSecretKeys).toBeUndefined();
  });
  it('trust-proxy is configurable for deployments behind a load balancer', () => {
    const trust = (v?: string) =>
      loadGatewayConfig(v === undefined ? {} : { GATEWAY_TRUST_PROXY: v }).trustProxy;
    expect(trust()).toBe(false);
    expect(trust('false')).toBe(false);
    expect(trust('true')).toBe(true);
    expect(trust('1')).toBe(true); // as before: it was a boolean
    expect(trust(' 10.0.0.0/8, 192.168.1.7 ,loopback, fd00::/8')).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'loopback',
      'fd00::/8',
    ]);
    for (const bad of ['2', '10.0.0.0/99', 'lb.internal', '10.0.0.1,nope']) {
      expect(() => trust(bad), bad).toThrow(/GATEWAY_TRUST_PROXY/);
    }
    expect(() => trust('2')).toThrow(/hop counts are not supported/);
  });
});
