import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Subscription } from './types';

/**
 * Webhook signing secrets encrypted at rest: AES-256-GCM (node:crypto) with a key from the
 * environment, so a copy of the store (a ClickHouse backup, the journal file) does not give
 * whoever holds it the power to sign webhooks as us. HMAC needs the secret itself, so it is
 * encrypted, not hashed.
 *
 * Stored form: `v1:<kid>:<iv>:<ciphertext>:<tag>` (base64url parts, 12-byte random IV, 16-byte
 * tag). `kid` names the key (8 base64url chars of a SHA-256 over the key), so keys rotate: new
 * writes use the current key, reads try the current and the previous ones. The subscription id
 * is authenticated with it (GCM additional data): a sealed secret copied onto another
 * subscription's row does not open. A `whsec_` value is a row written before encryption: read
 * as it is, sealed on its next write.
 */
export const SEALED_PREFIX = 'v1:';
const ALGO = 'aes-256-gcm';

export class SecretKeyError extends Error {
  readonly code = 'TW_WEBHOOK_SECRET_KEY';
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

export interface SecretKey {
  id: string;
  key: Buffer;
}

/** The key's name in the stored form: not secret, 48 bits of a hash of it. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256')
    .update('tillwatch webhook secret key id\u0000')
    .update(key)
    .digest('base64url')
    .slice(0, 8);
}

/** A fresh key as WEBHOOK_SECRET_KEY takes it: base64 of 32 random bytes. */
export function generateSecretKey(): string {
  return randomBytes(32).toString('base64');
}

/** base64 of exactly 32 bytes, or a message saying what is wrong (never echoing the value). */
export function parseSecretKey(text: string): SecretKey | string {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) {
    return 'must be base64 of 32 random bytes (e.g. `openssl rand -base64 32`)';
  }
  const key = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
  if (key.length !== 32) {
    return `must be base64 of 32 random bytes (e.g. \`openssl rand -base64 32\`), not ${key.length}`;
  }
  return { id: keyIdOf(key), key };
}

/** zod for one key in an environment variable: the message names the problem, not the value. */
export const secretKeyEnv = z.string().transform((s, ctx) => {
  const k = parseSecretKey(s);
  if (typeof k === 'string') {
    ctx.addIssue({ code: 'custom', message: k });
    return z.NEVER;
  }
  return k;
});

/** zod for a comma-separated list of previous keys. */
export const previousSecretKeysEnv = z.string().transform((s, ctx) => {
  const out: SecretKey[] = [];
  for (const [i, part] of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .entries()) {
    const k = parseSecretKey(part);
    if (typeof k === 'string') {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1} ${k}` });
      return z.NEVER;
    }
    out.push(k);
  }
  return out;
});

const b64 = (b: Buffer) => b.toString('base64url');

export class SecretKeyring {
  private readonly byId = new Map<string, SecretKey>();

  constructor(
    readonly current: SecretKey,
    readonly previous: readonly SecretKey[] = [],
  ) {
    for (const k of [current, ...previous]) if (!this.byId.has(k.id)) this.byId.set(k.id, k);
  }

  /** From base64 text (tests, key files). */
  static of(current: string, previous: readonly string[] = []): SecretKeyring {
    const parse = (t: string) => {
      const k = parseSecretKey(t);
      if (typeof k === 'string') throw new SecretKeyError(`webhook secret key ${k}`);
      return k;
    };
    return new SecretKeyring(parse(current), previous.map(parse));
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv(ALGO, this.current.key, iv);
    c.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `${SEALED_PREFIX}${this.current.id}:${b64(iv)}:${b64(ct)}:${b64(c.getAuthTag())}`;
  }

  open(stored: string, context: string): string {
    if (!isSealed(stored)) return stored;
    const [, kid, iv, ct, tag] = stored.split(':');
    const key = kid === undefined ? undefined : this.byId.get(kid);
    if (!key) {
      throw new SecretKeyError(
        `a webhook secret is sealed with key ${kid}, which is neither WEBHOOK_SECRET_KEY nor in ` +
          `WEBHOOK_SECRET_KEYS_PREVIOUS: add the key it was written with to WEBHOOK_SECRET_KEYS_PREVIOUS`,
      );
    }
    try {
      const d = createDecipheriv(ALGO, key.key, Buffer.from(iv ?? '', 'base64url'));
      d.setAAD(Buffer.from(context, 'utf8'));
      d.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
      return Buffer.concat([d.update(Buffer.from(ct ?? '', 'base64url')), d.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretKeyError(
        `a webhook secret sealed with key ${kid} does not open (altered, or moved to another subscription)`,
      );
    }
  }

  /** Sealed with the current key (nothing to migrate). */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`${SEALED_PREFIX}${this.current.id}:`);
  }
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

const contextOf = (sub: Pick<Subscription, 'id'>) => `tillwatch webhook secret\u0000${sub.id}`;

/** The subscription as it is stored: every secret sealed with the keyring's current key. */
export function sealSubscription(sub: Subscription, keys: SecretKeyring): Subscription {
  return {
    ...sub,
    secrets: sub.secrets.map((s) => ({
      ...s,
      secret: keys.seal(keys.open(s.secret, contextOf(sub)), contextOf(sub)),
    })),
  };
}

/** The subscription as stored, opened. Without keys a sealed secret is an error naming the variable. */
export function openSubscription(sub: Subscription, keys: SecretKeyring | undefined): Subscription {
  if (!sub.secrets.some((s) => isSealed(s.secret))) return sub;
  if (!keys) {
    throw new SecretKeyError(
      `subscription ${sub.id}'s secrets are encrypted and no key is configured: set WEBHOOK_SECRET_KEY ` +
        `(and WEBHOOK_SECRET_KEYS_PREVIOUS) as the notifier has them`,
    );
  }
  return {
    ...sub,
    secrets: sub.secrets.map((s) => ({ ...s, secret: keys.open(s.secret, contextOf(sub)) })),
  };
}

/** Whether a stored subscription still has a secret in clear or under an older key. */
export function needsReseal(stored: Subscription, keys: SecretKeyring): boolean {
  return stored.secrets.some((s) => !keys.isCurrent(s.secret));
}
