import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JournalWebhookStore } from './journal-store';
import {
  SecretKeyError,
  SecretKeyring,
  generateSecretKey,
  openSubscription,
  parseSecretKey,
  sealSubscription,
} from './secret-box';
import { generateSecret } from './signing';
import { sub } from './store-contract';

const dir = mkdtempSync(join(tmpdir(), 'tw-webhooks-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SEALED = /^v1:[A-Za-z0-9_-]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$/;

describe('webhook secrets encrypted at rest (issue 16: secrets and logs)', () => {
  it('seals with AES-256-GCM under the current key, bound to the subscription', () => {
    const keys = SecretKeyring.of(generateSecretKey());
    const secret = generateSecret();
    const s = { ...sub, secrets: [{ secret, createdAt: sub.createdAt }] };
    const stored = sealSubscription(s, keys);
    const text = stored.secrets[0]!.secret;
    expect(text).toMatch(SEALED);
    expect(text.split(':')[1]).toBe(keys.current.id);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(JSON.stringify(stored)).not.toContain(secret.slice(6, 20));
    // a fresh IV each time: the same secret never seals to the same text
    expect(sealSubscription(s, keys).secrets[0]!.secret).not.toBe(text);
    expect(openSubscription(stored, keys).secrets[0]!.secret).toBe(secret);
    // moved onto another subscription's row, or altered: refused, never a wrong secret
    expect(() => openSubscription({ ...stored, id: 'sub_other' }, keys)).toThrow(SecretKeyError);
    const parts = text.split(':');
    parts[3] = Buffer.from('x'.repeat(40)).toString('base64url');
    const altered = { ...stored, secrets: [{ ...stored.secrets[0]!, secret: parts.join(':') }] };
    expect(() => openSubscription(altered, keys)).toThrow(/does not open/);
    // no key at all: an error naming the variable, not ciphertext handed out as a secret
    expect(() => openSubscription(stored, undefined)).toThrow(/WEBHOOK_SECRET_KEY/);
  });

  it('rotates: new writes under the new key, the previous key still reads, an unknown key is named', () => {
    const oldKey = generateSecretKey();
    const newKey = generateSecretKey();
    const before = sealSubscription(sub, SecretKeyring.of(oldKey));
    const ring = SecretKeyring.of(newKey, [oldKey]);
    expect(openSubscription(before, ring).secrets[0]!.secret).toBe(sub.secrets[0]!.secret);
    const after = sealSubscription(openSubscription(before, ring), ring);
    expect(after.secrets[0]!.secret.split(':')[1]).toBe(ring.current.id);
    expect(() => openSubscription(before, SecretKeyring.of(newKey))).toThrow(
      /neither WEBHOOK_SECRET_KEY nor in WEBHOOK_SECRET_KEYS_PREVIOUS/,
    );
    // rows written before encryption are read as they are
    expect(openSubscription(sub, ring)).toEqual(sub);
  });

  it('accepts only base64 of 32 bytes, and never echoes the value it refuses', () => {
    expect(parseSecretKey(generateSecretKey())).toMatchObject({ id: expect.any(String) });
    const short = Buffer.alloc(16, 7).toString('base64');
    const r = parseSecretKey(short);
    expect(r).toMatch(/32 random bytes.*not 16/);
    expect(r).not.toContain(short);
    expect(parseSecretKey('not base64!')).toMatch(/base64/);
  });

  it('the journal holds no secret in clear; a journal from before encryption is read and sealed at open', async () => {
    const path = join(dir, 'j1', 'webhooks.journal');
    const secret = sub.secrets[0]!.secret;
    // written by the previous version: secrets in clear
    const s0 = await JournalWebhookStore.open(path);
    await s0.close();
    writeFileSync(path, JSON.stringify({ t: 'sub', v: sub }) + '\n');
    const s1 = await JournalWebhookStore.open(path);
    expect((await s1.getSubscription(sub.id))?.secrets[0]?.secret).toBe(secret);
    expect(readFileSync(path, 'utf8')).not.toContain(secret);
    await s1.putSubscription({
      ...sub,
      id: 'sub_2',
      secrets: [{ secret: 'whsec_two', createdAt: sub.createdAt }],
    });
    const file = readFileSync(path, 'utf8');
    expect(file).not.toMatch(/whsec_/);
    expect(file).toMatch(/"secret":"v1:/);
    // no key configured: one was made beside the journal, readable by its owner only
    expect(statSync(`${path}.key`).mode & 0o777).toBe(0o600);
    await s1.close();
    const s2 = await JournalWebhookStore.open(path);
    expect((await s2.getSubscription('sub_2'))?.secrets[0]?.secret).toBe('whsec_two');
    await s2.close();
    // WEBHOOK_SECRET_KEY set later: the key file's key still reads, the open reseals
    const k = generateSecretKey();
    const s3 = await JournalWebhookStore.open(path, { secretKeys: SecretKeyring.of(k) });
    expect((await s3.getSubscription('sub_2'))?.secrets[0]?.secret).toBe('whsec_two');
    await s3.close();
    expect(readFileSync(path, 'utf8')).toContain(`v1:${SecretKeyring.of(k).current.id}:`);
  });

  it('the journal under configured keys: a rotation re-seals it at open, a wrong key stops the open naming the variable', async () => {
    const path = join(dir, 'j2', 'webhooks.journal');
    const k1 = generateSecretKey();
    const k2 = generateSecretKey();
    const a = await JournalWebhookStore.open(path, { secretKeys: SecretKeyring.of(k1) });
    await a.putSubscription(sub);
    await a.close();
    const kid = (k: string) => SecretKeyring.of(k).current.id;
    expect(readFileSync(path, 'utf8')).toContain(`v1:${kid(k1)}:`);
    await expect(
      JournalWebhookStore.open(path, { secretKeys: SecretKeyring.of(k2) }),
    ).rejects.toThrow(/WEBHOOK_SECRET_KEYS_PREVIOUS/);
    const b = await JournalWebhookStore.open(path, { secretKeys: SecretKeyring.of(k2, [k1]) });
    expect((await b.getSubscription(sub.id))?.secrets[0]?.secret).toBe(sub.secrets[0]!.secret);
    await b.close();
    const file = readFileSync(path, 'utf8');
    expect(file).toContain(`v1:${kid(k2)}:`);
    expect(file).not.toContain(`v1:${kid(k1)}:`);
  });
});
