import { describe, expect, it } from 'vitest';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import {
  deliveryIdFor,
  generateSecret,
  isValidSecret,
  noticeIdFor,
  signHeaders,
  webhookIdFor,
} from './signing';

const body = JSON.stringify({ alertId: 'a-1', status: 'firing', probableCauses: ['网络中断'] });
const at = () => new Date();

/** Every vector goes through the library's own verifier, as a receiver would run it. */
function verify(secret: string, payload: string, headers: Record<string, string>) {
  return new Webhook(secret).verify(payload, headers);
}

describe('Standard Webhooks signatures, checked by Webhook.verify', () => {
  const secret = generateSecret();

  it('valid: v1, base64 HMAC-SHA256 of id.timestamp.body', () => {
    const h = signHeaders('msg_1', at(), body, [secret]);
    expect(h['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    expect(h['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(verify(secret, body, { ...h })).toEqual(JSON.parse(body));
  });

  it('rotation: two signatures, either secret verifies', () => {
    const next = generateSecret();
    const h = signHeaders('msg_2', at(), body, [next, secret]);
    expect(h['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verify(secret, body, { ...h })).toEqual(JSON.parse(body));
    expect(verify(next, body, { ...h })).toEqual(JSON.parse(body));
    expect(() => verify(generateSecret(), body, { ...h })).toThrow(WebhookVerificationError);
  });

  it('tampered body is refused', () => {
    const h = signHeaders('msg_3', at(), body, [secret]);
    expect(() => verify(secret, body.replace('firing', 'resolved'), { ...h })).toThrow(
      /No matching signature/,
    );
  });

  it('wrong secret is refused', () => {
    const h = signHeaders('msg_4', at(), body, [generateSecret()]);
    expect(() => verify(secret, body, { ...h })).toThrow(/No matching signature/);
  });

  it('stale timestamp (6 minutes old; tolerance is 5) is refused', () => {
    const h = signHeaders('msg_5', new Date(Date.now() - 6 * 60_000), body, [secret]);
    expect(() => verify(secret, body, { ...h })).toThrow(/too old/);
  });

  it('a changed webhook-id breaks the signature (id is signed)', () => {
    const h = signHeaders('msg_6', at(), body, [secret]);
    expect(() => verify(secret, body, { ...h, 'webhook-id': 'msg_7' })).toThrow(
      /No matching signature/,
    );
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const)(
    'missing %s is refused',
    (name) => {
      const h: Record<string, string> = { ...signHeaders('msg_8', at(), body, [secret]) };
      delete h[name];
      expect(() => verify(secret, body, h)).toThrow(/Missing required headers/);
    },
  );
});

describe('secrets and ids', () => {
  it('generates whsec_ secrets of 32 bytes and validates the format', () => {
    const s = generateSecret();
    expect(isValidSecret(s)).toBe(true);
    expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(32);
    expect(isValidSecret('whsec_' + Buffer.alloc(8).toString('base64'))).toBe(false);
    expect(isValidSecret('secret')).toBe(false);
    expect(generateSecret()).not.toBe(s);
  });

  it('webhook-id is deterministic per alert transition and differs between transitions', () => {
    const firing = { alertId: 'A', status: 'firing', ts: '2026-01-01T00:00:00.000Z' };
    expect(webhookIdFor(firing)).toBe(webhookIdFor({ ...firing }));
    expect(webhookIdFor(firing)).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
    const ids = new Set([
      webhookIdFor(firing),
      webhookIdFor({ ...firing, status: 'resolved' }),
      webhookIdFor({ ...firing, ts: '2026-01-01T00:00:01.000Z' }),
      webhookIdFor({ ...firing, alertId: 'B' }),
      noticeIdFor('endpoint.failing', 'A'),
    ]);
    expect(ids.size).toBe(5);
    expect(deliveryIdFor('s1', 'm')).not.toBe(deliveryIdFor('s2', 'm'));
    expect(deliveryIdFor('s1', 'm')).toBe(deliveryIdFor('s1', 'm'));
  });
});
