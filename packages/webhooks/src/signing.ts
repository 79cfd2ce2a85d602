import { createHash, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks signing, done by the `standardwebhooks` library (the spec authors' own
 * implementation): we only choose ids, timestamps and which secrets sign.
 */

export const SECRET_PREFIX = 'whsec_';

/** The three headers of the Standard Webhooks spec. */
export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * A new `whsec_` secret. 32 random bytes: the spec asks for 24..64; 32 matches the
 * HMAC-SHA256 block-size guidance of a key at least as long as the hash output.
 */
export function generateSecret(bytes = 32): string {
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/** `whsec_` + base64 of 24..64 bytes, as the spec recommends. */
export function isValidSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const n = Buffer.from(b64, 'base64').length;
  return n >= 24 && n <= 64;
}

/**
 * Headers for one attempt. Several secrets give several space-separated `v1,` signatures:
 * during a rotation both the new and the old secret sign, so a receiver holding either
 * verifies (the spec's zero-downtime rotation).
 */
export function signHeaders(
  webhookId: string,
  timestamp: Date,
  body: string,
  secrets: readonly string[],
): WebhookHeaders {
  if (secrets.length === 0) throw new Error('signHeaders: at least one secret is needed');
  const signature = secrets.map((s) => new Webhook(s).sign(webhookId, timestamp, body)).join(' ');
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

function digest(...parts: string[]): string {
  // NUL separators: no part can contain it, so ("a","bc") and ("ab","c") never collide.
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 32);
}

/**
 * The webhook-id of one alert transition: the same on every retry, replay and after a restart
 * (Kafka redelivery), so receivers can deduplicate. 32 base64url chars = 192 bits.
 */
export function webhookIdFor(alert: { alertId: string; status: string; ts: string }): string {
  return `msg_${digest('alert', alert.alertId, alert.status, alert.ts)}`;
}

/** The webhook-id of a notice (e.g. endpoint.failing) about one delivery. */
export function noticeIdFor(type: string, aboutId: string): string {
  return `msg_${digest(type, aboutId)}`;
}

/** One delivery = one webhook to one subscription. */
export function deliveryIdFor(subscriptionId: string, webhookId: string): string {
  return `dlv_${digest(subscriptionId, webhookId)}`;
}
