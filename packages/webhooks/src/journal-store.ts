import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  SecretKeyError,
  SecretKeyring,
  generateSecretKey,
  openSubscription,
  parseSecretKey,
  sealSubscription,
  type SecretKey,
} from './secret-box';
import { MemoryWebhookStore, type JournalRecord } from './store';

export class JournalError extends Error {
  readonly code = 'TW_WEBHOOK_JOURNAL';
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JournalError';
  }
}

export interface JournalOptions {
  /** Finished deliveries (delivered, dead, cancelled) older than this are dropped at compaction. */
  retentionMs?: number;
  /** Clock for retention; tests pass their own. */
  now?: () => number;
  /**
   * Compact again once this many records were appended since the last compaction, so a
   * long-running embedded process keeps its file and memory bounded. Default 100 000
   * (~50 MB of journal at ~500 B a record).
   */
  compactEvery?: number;
  /**
   * Keys that seal the subscriptions' secrets in the file (WEBHOOK_SECRET_KEY and
   * WEBHOOK_SECRET_KEYS_PREVIOUS). Without them, a key file beside the journal
   * (`<path>.key`, created 0600 on first open) holds one: the embedded all-in-one needs no
   * setup, and a copy of the journal alone (a backup, a bug report) carries no usable secret.
   */
  secretKeys?: SecretKeyring;
}

/**
 * The key file beside a journal: base64 keys one a line, the first the current one, the rest
 * previous ones still read. Created with a fresh key when missing.
 */
export async function journalKeyring(path: string): Promise<SecretKeyring> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new JournalError(`cannot read webhook secret key file ${path}`, { cause: e });
    }
    await mkdir(dirname(path), { recursive: true });
    text = generateSecretKey() + '\n';
    try {
      // 'wx': two processes starting at once do not each write a different key
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      text = await readFile(path, 'utf8');
    }
  }
  const [current, ...previous] = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  try {
    return SecretKeyring.of(current ?? '', previous);
  } catch (e) {
    throw new SecretKeyError(`${path}: ${(e as Error).message}`);
  }
}

/** 7 days of delivery history is what the REST attempt log and manual replay can reach. */
const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * The embedded-mode durable store: an append-only JSON-lines journal, fsync'd before any
 * change is acknowledged, replayed on start and compacted into a snapshot (write a temporary
 * file, fsync, rename) each time it opens. Writes are group-committed: everything queued while
 * one fdatasync runs goes out in the next, so a burst of 1000 alerts costs a handful of syncs,
 * not 1000.
 *
 * One process at a time: it takes no lock, so two notifiers on one file would corrupt it.
 * Signing secrets are sealed (AES-256-GCM, secret-box.ts) with `secretKeys` or the key file
 * beside the journal; the file is created 0600 all the same.
 */
export class JournalWebhookStore extends MemoryWebhookStore {
  private fh: FileHandle | undefined;
  private queue: string[] = [];
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private failed: unknown;
  /** Lines replayed, and a torn tail (crash mid-write) dropped, at open. */
  readonly stats = { replayed: 0, tornTail: 0, compactedTo: 0, syncs: 0, compactions: 0 };
  private appended = 0;
  private keys!: SecretKeyring;

  private constructor(
    readonly path: string,
    private readonly opts: JournalOptions,
  ) {
    super();
  }

  static async open(path: string, opts: JournalOptions = {}): Promise<JournalWebhookStore> {
    const store = new JournalWebhookStore(path, opts);
    await store.load();
    return store;
  }

  private async load(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.keys = await this.keyring();
    let text = '';
    try {
      const fh = await open(this.path, 'r');
      try {
        text = await fh.readFile('utf8');
      } finally {
        await fh.close();
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new JournalError(`cannot read webhook journal ${this.path}`, { cause: e });
      }
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (!line) continue;
      let record: JournalRecord;
      try {
        record = JSON.parse(line) as JournalRecord;
      } catch (e) {
        // Only the last line may be torn (a crash mid-append); anything earlier is corruption.
        if (i >= lines.length - 2) {
          this.stats.tornTail++;
          continue;
        }
        throw new JournalError(`webhook journal ${this.path} line ${i + 1} is corrupt`, {
          cause: e,
        });
      }
      // Secrets live in clear in memory only (HMAC needs them); a key that does not open one
      // stops the open, naming the variable, rather than losing the subscription.
      if (record.t === 'sub') record = { t: 'sub', v: openSubscription(record.v, this.keys) };
      this.apply(record);
      this.stats.replayed++;
    }
    // The snapshot seals every secret with the current key: rows in clear (written before
    // encryption) and rows under a previous key are migrated on every open.
    await this.compact();
  }

  /**
   * The configured keys, else the key file's. A key file left by runs without configured keys
   * is still read (its keys as previous ones), so setting WEBHOOK_SECRET_KEY later just
   * reseals the journal at this open.
   */
  private async keyring(): Promise<SecretKeyring> {
    const file = `${this.path}.key`;
    const given = this.opts.secretKeys;
    if (!given) return journalKeyring(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return given;
    }
    const old = text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map(parseSecretKey)
      .filter((k): k is SecretKey => typeof k !== 'string');
    return new SecretKeyring(given.current, [...given.previous, ...old]);
  }

  /** Rewrite the journal as a snapshot of the current state, atomically. */
  private async compact(): Promise<void> {
    const now = (this.opts.now ?? Date.now)();
    const keepAfter = now - (this.opts.retentionMs ?? DEFAULT_RETENTION_MS);
    const out: string[] = [];
    for (const v of this.subs.values()) out.push(this.line({ t: 'sub', v }));
    for (const [id, v] of this.deliveries) {
      if (v.status !== 'pending' && v.updatedAt < keepAfter) {
        this.deliveries.delete(id);
        this.attempts.delete(id);
        continue;
      }
      out.push(JSON.stringify({ t: 'dlv', v }));
      for (const a of this.attempts.get(id) ?? []) out.push(JSON.stringify({ t: 'att', v: a }));
    }
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(out.length ? out.join('\n') + '\n' : '');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    // fsync the directory so the rename itself survives a power cut
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } catch {
      // some filesystems refuse fsync on a directory; the rename is still atomic
    } finally {
      await dir.close();
    }
    this.stats.compactedTo = out.length;
    this.stats.compactions++;
    this.appended = 0;
    this.fh = await open(this.path, 'a', 0o600);
  }

  /** One record as written: a subscription's secrets sealed. */
  private line(r: JournalRecord): string {
    return JSON.stringify(r.t === 'sub' ? { t: 'sub', v: sealSubscription(r.v, this.keys) } : r);
  }

  protected override persist(records: JournalRecord[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    for (const r of records) this.queue.push(this.line(r) + '\n');
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.flushing) this.flushing = this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const lines = this.queue.length;
        const batch = this.queue.join('');
        const waiters = this.waiters;
        this.queue = [];
        this.waiters = [];
        try {
          if (!this.fh) throw new JournalError('webhook journal is closed');
          await this.fh.write(batch);
          await this.fh.datasync();
          this.stats.syncs++;
          this.appended += lines;
          if (this.appended >= (this.opts.compactEvery ?? 100_000)) {
            // Only this loop writes, so swapping the file under it is safe; the snapshot is
            // of the in-memory state, which already holds everything just written.
            const old = this.fh;
            this.fh = undefined;
            await old.close();
            await this.compact();
          }
          for (const w of waiters) w.resolve();
        } catch (e) {
          // The in-memory state is ahead of the disk now: refuse further writes rather than
          // acknowledge changes that a restart would lose.
          this.failed = new JournalError(`webhook journal write failed: ${String(e)}`, {
            cause: e,
          });
          for (const w of [...waiters, ...this.waiters]) w.reject(this.failed);
          this.waiters = [];
          this.queue = [];
          return;
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.flushing) await this.flushing;
    await this.fh?.close();
    this.fh = undefined;
  }
}
