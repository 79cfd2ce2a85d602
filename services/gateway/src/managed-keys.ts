import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { TABLES, ident, sql, type ClickHouse } from '@tillwatch/clickhouse';
import { z } from 'zod';
import {
  MERCHANT_BOUND,
  ROLES,
  keyFingerprint,
  merchantBound,
  merchantIdSchema,
  type Principal,
} from './auth';

/**
 * API keys admins make and revoke at run time (`/api/keys`, the board's #/keys), beside the
 * configured ones (TILLWATCH_API_KEYS, which only a redeploy changes). A key is shown once, when
 * it is made; the store keeps its SHA-256 digest only, which is what the gateway compares a
 * presented token with. A revoked key is refused from the next request on (this gateway at
 * once; another gateway of the same ClickHouse at its next refresh).
 */
export const managedKeyInputSchema = z
  .strictObject({
    role: z.enum(ROLES),
    merchantId: merchantIdSchema.optional(),
    /** who holds it: shown in audit trails as the key's identity */
    name: z.string().trim().min(1).max(64),
  })
  .refine(merchantBound, { message: MERCHANT_BOUND, path: ['merchantId'] });
export type ManagedKeyInput = z.output<typeof managedKeyInputSchema>;

export const managedKeySchema = z.object({
  id: z.string(),
  role: z.enum(ROLES),
  merchantId: z.string().optional(),
  name: z.string(),
  /** the first 8 hex of the key's SHA-256: tells keys apart without showing them */
  fingerprint: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  revokedBy: z.string().optional(),
  revokedAt: z.string().optional(),
});
export type ManagedKey = z.infer<typeof managedKeySchema>;

/** A key the ring accepts: its digest and who it makes the caller. */
export interface ManagedSlot {
  digest: Buffer;
  principal: Principal;
}

export interface ManagedKeyStore {
  /** every key made here, revoked ones included, newest first */
  list(): Promise<ManagedKey[]>;
  /** a new key: its record, and the key itself (shown this once) */
  create(input: ManagedKeyInput, by: string): Promise<{ key: ManagedKey; secret: string }>;
  revoke(id: string, by: string): Promise<ManagedKey | undefined>;
  /** the keys in force (not revoked), as of the last change or refresh */
  slots(): readonly ManagedSlot[];
  /** after each change (here, or seen at a refresh) */
  onChanged(listener: () => void): () => void;
  close(): Promise<void>;
}

interface Stored {
  key: ManagedKey;
  /** hex SHA-256 of the key */
  digest: string;
}

/** A key as a store keeps it: its record and the digest of the secret (never the secret). */
export const savedKeySchema = z.strictObject({
  key: managedKeySchema,
  digest: z.string().regex(/^[0-9a-f]{64}$/, 'a hex SHA-256'),
});
export type SavedKey = z.infer<typeof savedKeySchema>;

const digestOf = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

function newKey(
  input: ManagedKeyInput,
  by: string,
  now: number,
): { stored: Stored; secret: string } {
  const secret = `tw_${randomBytes(32).toString('base64url')}`;
  const key: ManagedKey = {
    id: randomUUID(),
    role: input.role,
    ...(input.merchantId !== undefined ? { merchantId: input.merchantId } : {}),
    name: input.name,
    fingerprint: keyFingerprint(secret),
    createdBy: by,
    createdAt: new Date(now).toISOString(),
  };
  return { stored: { key, digest: digestOf(secret) }, secret };
}

function slotsOf(all: Iterable<Stored>): ManagedSlot[] {
  const out: ManagedSlot[] = [];
  for (const s of all) {
    if (s.key.revokedAt !== undefined) continue;
    out.push({
      digest: Buffer.from(s.digest, 'hex'),
      principal: {
        role: s.key.role,
        ...(s.key.merchantId !== undefined ? { merchantId: s.key.merchantId } : {}),
        id: s.key.name,
      },
    });
  }
  return out;
}

const newestFirst = (a: ManagedKey, b: ManagedKey) => (a.createdAt < b.createdAt ? 1 : -1);

/**
 * In memory (the embedded all-in-one, tests): the keys last until the process ends, unless the
 * owner keeps saved() on each change and hands it to restore() at the next start (the embedded
 * all-in-one's state directory does).
 */
export class MemoryKeyStore implements ManagedKeyStore {
  private readonly keys = new Map<string, Stored>();
  private current: ManagedSlot[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(private readonly now: () => number = Date.now) {}

  async list(): Promise<ManagedKey[]> {
    return [...this.keys.values()].map((s) => s.key).sort(newestFirst);
  }

  async create(input: ManagedKeyInput, by: string) {
    const { stored, secret } = newKey(input, by, this.now());
    this.keys.set(stored.key.id, stored);
    this.changed();
    return { key: stored.key, secret };
  }

  async revoke(id: string, by: string) {
    const s = this.keys.get(id);
    if (!s) return undefined;
    if (s.key.revokedAt === undefined) {
      s.key = { ...s.key, revokedBy: by, revokedAt: new Date(this.now()).toISOString() };
      this.changed();
    }
    return s.key;
  }

  slots(): readonly ManagedSlot[] {
    return this.current;
  }

  /** Every key made here, revoked ones too, with its digest: what restore() takes back. */
  saved(): SavedKey[] {
    return [...this.keys.values()].map((s) => ({ key: s.key, digest: s.digest }));
  }

  /** Keys saved() by an earlier store: each in force again unless it was revoked. */
  restore(saved: readonly SavedKey[]): void {
    for (const s of saved) this.keys.set(s.key.id, { key: s.key, digest: s.digest });
    this.changed();
  }

  onChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {}

  private changed(): void {
    this.current = slotsOf(this.keys.values());
    for (const l of this.listeners) l();
  }
}

/**
 * In ClickHouse (production: table api_keys, migration 7), so every gateway of the deployment
 * knows the same keys: each reads the table at start and every `refreshMs` (a key made or
 * revoked on another gateway is in force here from then on), and at once after its own change.
 */
export class ClickHouseKeyStore implements ManagedKeyStore {
  private current: ManagedSlot[] = [];
  private known: Stored[] = [];
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastVersion = 0;

  private constructor(
    private readonly ch: ClickHouse,
    private readonly now: () => number,
  ) {}

  static async open(
    ch: ClickHouse,
    opts: { refreshMs?: number; now?: () => number } = {},
  ): Promise<ClickHouseKeyStore> {
    const store = new ClickHouseKeyStore(ch, opts.now ?? Date.now);
    await store.refresh();
    const every = opts.refreshMs ?? 5_000;
    if (every > 0) {
      store.timer = setInterval(() => void store.refresh().catch(() => {}), every);
      store.timer.unref();
    }
    return store;
  }

  async list(): Promise<ManagedKey[]> {
    await this.refresh();
    return this.known.map((s) => s.key).sort(newestFirst);
  }

  async create(input: ManagedKeyInput, by: string) {
    const { stored, secret } = newKey(input, by, this.now());
    await this.write(stored);
    await this.refresh();
    return { key: stored.key, secret };
  }

  async revoke(id: string, by: string) {
    await this.refresh();
    const s = this.known.find((k) => k.key.id === id);
    if (!s) return undefined;
    if (s.key.revokedAt !== undefined) return s.key;
    const revoked: Stored = {
      ...s,
      key: { ...s.key, revokedBy: by, revokedAt: new Date(this.now()).toISOString() },
    };
    await this.write(revoked);
    await this.refresh();
    return revoked.key;
  }

  slots(): readonly ManagedSlot[] {
    return this.current;
  }

  onChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  /** Read the table (the newest version of each key) and tell the listeners if it changed. */
  async refresh(): Promise<void> {
    const rows = await this.ch.query<{ doc: string; digest: string }>(
      sql`SELECT argMax(doc, version) AS doc, argMax(digest, version) AS digest
          FROM ${ident(TABLES.apiKeys)} GROUP BY id`,
    );
    const next = rows.map((r) => ({
      key: managedKeySchema.parse(JSON.parse(r.doc)),
      digest: r.digest,
    }));
    const sig = (xs: Stored[]) =>
      xs
        .map((x) => `${x.key.id}:${x.key.revokedAt ?? ''}`)
        .sort()
        .join('|');
    const changed = sig(next) !== sig(this.known);
    this.known = next;
    this.current = slotsOf(next);
    if (changed) for (const l of this.listeners) l();
  }

  private async write(s: Stored): Promise<void> {
    // versions only grow, also within one millisecond
    this.lastVersion = Math.max(this.lastVersion + 1, this.now());
    await this.ch.insert(TABLES.apiKeys, [
      {
        id: s.key.id,
        digest: s.digest,
        revoked: s.key.revokedAt === undefined ? 0 : 1,
        doc: JSON.stringify(s.key),
        version: this.lastVersion,
      },
    ]);
  }
}
