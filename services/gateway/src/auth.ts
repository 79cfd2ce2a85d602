import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@tillwatch/config';
import { ROLES, type Role } from '@tillwatch/contracts';
import { z } from 'zod';

// the roles are part of the socket/REST contract (audit lines carry them): one list
export { ROLES, type Role };

/** Same alphabet as the contract's ids, so a merchantId can be part of a room name safely. */
/** A merchant key is bound to a merchant, and only a merchant key is (configured or made). */
export const merchantBound = (e: { role: string; merchantId?: string | undefined }) =>
  (e.role === 'merchant') === (e.merchantId !== undefined);
export const MERCHANT_BOUND =
  'a merchant key needs a merchantId, and only a merchant key may have one';

export const merchantIdSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[A-Za-z0-9_.:-]+$/);

/**
 * One configured credential. 16 chars minimum: a short key is guessable at the rate limit
 * (600/min) long before a rotation; the generated ones are 32 random bytes.
 */
export const apiKeyEntrySchema = z
  .object({
    key: z.string().min(16, 'API keys need at least 16 characters'),
    role: z.enum(ROLES),
    merchantId: merchantIdSchema.optional(),
    name: z.string().min(1).max(64).optional(),
  })
  .refine(merchantBound, {
    message: MERCHANT_BOUND,
  });
export type ApiKeyEntry = z.infer<typeof apiKeyEntrySchema>;

/** Who is calling, as verified from their credential. Never built from client input. */
export interface Principal {
  role: Role;
  merchantId?: string;
  /** Audit identity: the entry's name, or role + a fingerprint of the key (never the key). */
  id: string;
}

export function keyFingerprint(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * Parse "key:role,key:merchant:M-001,..." (whitespace and empty items ignored).
 * Fails with a ConfigError naming `variable` and the item's position, never echoing the key.
 */
export function parseApiKeys(spec: string, variable = 'TILLWATCH_API_KEYS'): ApiKeyEntry[] {
  const out: ApiKeyEntry[] = [];
  const items = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  items.forEach((item, i) => {
    const [key = '', role = '', merchantId, ...rest] = item.split(':');
    const r = apiKeyEntrySchema.safeParse({
      key,
      role,
      ...(merchantId !== undefined ? { merchantId: [merchantId, ...rest].join(':') } : {}),
    });
    if (!r.success) {
      throw new ConfigError([
        {
          variable,
          message: `item ${i + 1} (key ${keyFingerprint(key)}…): ${r.error.issues.map((x) => `${x.path.join('.') || 'entry'}: ${x.message}`).join('; ')}`,
        },
      ]);
    }
    out.push(r.data);
  });
  return out;
}

export function formatApiKeys(entries: readonly ApiKeyEntry[]): string {
  return entries
    .map((e) =>
      e.role === 'merchant' ? `${e.key}:merchant:${e.merchantId}` : `${e.key}:${e.role}`,
    )
    .join(',');
}

/**
 * Fresh random keys for the embedded demo: one analyst, one sre, one admin and one per
 * merchant given. They live only in the process that generated them; the caller prints them.
 */
export function generateDemoKeys(opts: { merchants?: readonly string[] } = {}): ApiKeyEntry[] {
  const mk = (role: Role, merchantId?: string): ApiKeyEntry => ({
    key: `tw_${role}_${randomBytes(24).toString('base64url')}`,
    role,
    ...(merchantId ? { merchantId } : {}),
    name: merchantId ? `demo-merchant-${merchantId}` : `demo-${role}`,
  });
  return [
    mk('analyst'),
    mk('sre'),
    mk('admin'),
    ...(opts.merchants ?? []).map((m) => mk('merchant', merchantIdSchema.parse(m))),
  ];
}

interface KeySlot {
  digest: Buffer;
  principal: Principal;
}

/**
 * Looks a presented token up in constant time: both sides are SHA-256 digests (equal length,
 * so timingSafeEqual never throws or leaks the length) and every slot is compared, no early exit.
 */
export class KeyRing {
  private readonly slots: KeySlot[];
  private readonly metricsDigest: Buffer | undefined;

  constructor(
    entries: readonly ApiKeyEntry[],
    metricsToken?: string,
    /** the keys admins made at run time (managed-keys.ts), read at each authentication */
    private readonly managed: () => readonly { digest: Buffer; principal: Principal }[] = () => [],
  ) {
    this.slots = entries.map((e) => ({
      digest: sha(e.key),
      principal: {
        role: e.role,
        ...(e.merchantId ? { merchantId: e.merchantId } : {}),
        id: e.name ?? `${e.role}#${keyFingerprint(e.key)}`,
      },
    }));
    this.metricsDigest = metricsToken ? sha(metricsToken) : undefined;
  }

  get size(): number {
    return this.slots.length;
  }

  authenticate(token: string | undefined): Principal | undefined {
    if (!token) return undefined;
    const d = sha(token);
    let found: Principal | undefined;
    for (const s of this.slots) {
      if (timingSafeEqual(d, s.digest) && !found) found = s.principal;
    }
    for (const s of this.managed()) {
      if (timingSafeEqual(d, s.digest) && !found) found = s.principal;
    }
    return found;
  }

  isMetricsToken(token: string | undefined): boolean {
    if (!token || !this.metricsDigest) return false;
    return timingSafeEqual(sha(token), this.metricsDigest);
  }
}

function sha(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Token from `Authorization: Bearer <t>` or `X-API-Key: <t>`. */
export function tokenFromHeaders(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const auth = headers['authorization'];
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const k = headers['x-api-key'];
  return typeof k === 'string' && k.length > 0 ? k : undefined;
}
