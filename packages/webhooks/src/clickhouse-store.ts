import {
  TABLES,
  createClickHouse,
  ensureDatabase,
  ident,
  inList,
  join,
  migrate,
  raw,
  sql,
  type ClickHouse,
  type ClickHouseOptions,
  type SqlFragment,
} from '@tillwatch/clickhouse';
import { needsReseal, openSubscription, sealSubscription, type SecretKeyring } from './secret-box';
import { dueHeads, type DeliveryFilter, type DueOptions, type WebhookStore } from './store';
import type { Delivery, DeliveryAttempt, NewDelivery, Subscription } from './types';

export interface ClickHouseStoreOptions {
  /** A client to share (the gateway's), or options to make one (CLICKHOUSE_URL). */
  clickhouse: ClickHouse | ClickHouseOptions;
  /**
   * How far back pending work and the delivery log are read. Finished deliveries past it are
   * only in old partitions, which retention drops (no TTL on 18.16). Default 8 days: the 7-day
   * log plus the ~28 h retry schedule.
   */
  horizonMs?: number;
  /**
   * Keys sealing the subscriptions' secrets (WEBHOOK_SECRET_KEY, WEBHOOK_SECRET_KEYS_PREVIOUS;
   * secret-box.ts). Without them secrets are written in clear and a sealed one cannot be read
   * (an error naming the variable): give every process that shares the tables the same keys.
   */
  secretKeys?: SecretKeyring;
  now?: () => number;
}

/**
 * Durable store on ClickHouse, for the production mode (KAFKA_BROKERS + CLICKHOUSE_URL): the
 * gateway (REST) and the notifier share it across processes.
 *
 * Why ClickHouse and not a compacted topic: the delivery log is a query surface (REST filters by
 * merchant, status and time; Grafana plots webhook outcomes), docs/architecture.md keeps webhook
 * deliveries and dead letters in ClickHouse, and the gateway reads it without materialising a
 * topic in memory.
 *
 * Every row is a version of one subscription or delivery (ReplacingMergeTree(version)); reads
 * take argMax(…, version) per id, correct whether or not merges have run (FINAL with a WHERE
 * on non-key columns is not, on old servers). Ids are deterministic, so a repeated insert
 * (retry after a timeout, a redelivered alert in another process) is the same row again.
 * SQL runs on 18.16 and later: no query parameters, no TTL, no LowCardinality, no DateTime64.
 *
 * One notifier dispatches at a time: two would both see a due delivery and both send it.
 *
 * The tables (TABLES.webhookSubscriptions / webhookDeliveries / webhookAttempts) belong to
 * @tillwatch/clickhouse's versioned migrations (migration 3); open() applies them.
 */
export class ClickHouseWebhookStore implements WebhookStore {
  private readonly ch: ClickHouse;
  private readonly ownsClient: boolean;
  private readonly t = {
    subs: ident(TABLES.webhookSubscriptions),
    deliveries: ident(TABLES.webhookDeliveries),
    attempts: ident(TABLES.webhookAttempts),
  };
  private readonly names = {
    subs: TABLES.webhookSubscriptions,
    deliveries: TABLES.webhookDeliveries,
    attempts: TABLES.webhookAttempts,
  };
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;
  private readonly horizonMs: number;
  private readonly keys: SecretKeyring | undefined;
  private lastVersion = 0;
  private seqCounter = 0;

  private constructor(opts: ClickHouseStoreOptions) {
    const given = opts.clickhouse;
    this.ownsClient = !('query' in given);
    this.ch = 'query' in given ? given : createClickHouse(given);
    this.now = opts.now ?? Date.now;
    this.horizonMs = opts.horizonMs ?? 8 * 24 * 3_600_000;
    this.keys = opts.secretKeys;
  }

  /**
   * Connects and applies @tillwatch/clickhouse's migrations, so the notifier works whether or not
   * the gateway or the processor (which migrate too) started first. With its own client, a
   * database named in CLICKHOUSE_URL is created first, as the gateway does. A second run of the
   * migrations reads the bookkeeping table and changes nothing; two processes starting together
   * are safe (every statement is idempotent).
   */
  static async open(opts: ClickHouseStoreOptions): Promise<ClickHouseWebhookStore> {
    const s = new ClickHouseWebhookStore(opts);
    try {
      if (s.ownsClient && s.ch.database !== 'default') {
        await ensureDatabase(opts.clickhouse as ClickHouseOptions, s.ch.database);
      }
      await migrate(s.ch);
    } catch (err) {
      await s.close().catch(() => {});
      throw err;
    }
    return s;
  }

  private rows<R>(q: SqlFragment): Promise<R[]> {
    return this.ch.query<R>(q);
  }

  private insert(table: string, values: object[]): Promise<void> {
    return this.ch.insert(table, values);
  }

  /** Monotonic per process and ahead of the wall clock's microseconds: later writes win. */
  private version(): number {
    this.lastVersion = Math.max(this.lastVersion + 1, this.now() * 1000);
    return this.lastVersion;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  async listSubscriptions(filter: { merchantId?: string } = {}): Promise<Subscription[]> {
    const where = filter.merchantId ? sql`WHERE merchantId = ${filter.merchantId}` : raw('');
    const r = await this.rows<{ doc: string }>(
      sql`SELECT id, argMax(doc, version) AS doc, argMax(deleted, version) AS del
       FROM ${this.t.subs} ${where} GROUP BY id HAVING del = 0`,
    );
    return r
      .map((x) => this.subscriptionOf(x.doc))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async getSubscription(id: string): Promise<Subscription | undefined> {
    const r = await this.rows<{ doc: string }>(
      sql`SELECT argMax(doc, version) AS doc, argMax(deleted, version) AS del
       FROM ${this.t.subs} WHERE id = ${id} GROUP BY id HAVING del = 0`,
    );
    return r[0] ? this.subscriptionOf(r[0].doc) : undefined;
  }

  private subscriptionOf(doc: string): Subscription {
    return openSubscription(JSON.parse(doc) as Subscription, this.keys);
  }

  /**
   * Writes again, sealed with the current key, every subscription whose stored secrets are in
   * clear (rows from before encryption) or under a previous key; returns how many. The notifier
   * runs it at start, so a rotation is complete once it has run and the previous key can go.
   * A change made through the gateway in the same instant could be overwritten by the copy
   * read here: run it when nobody is editing subscriptions (a start is such a moment).
   */
  async resealSecrets(): Promise<number> {
    const keys = this.keys;
    if (!keys) return 0;
    const r = await this.rows<{ doc: string }>(
      sql`SELECT id, argMax(doc, version) AS doc, argMax(deleted, version) AS del
       FROM ${this.t.subs} GROUP BY id HAVING del = 0`,
    );
    let n = 0;
    for (const { doc } of r) {
      const stored = JSON.parse(doc) as Subscription;
      if (!needsReseal(stored, keys)) continue;
      await this.putSubscription(openSubscription(stored, keys));
      n++;
    }
    return n;
  }

  async putSubscription(sub: Subscription): Promise<void> {
    await this.insert(this.names.subs, [
      {
        id: sub.id,
        merchantId: sub.merchantId,
        deleted: 0,
        doc: JSON.stringify(this.keys ? sealSubscription(sub, this.keys) : sub),
        version: this.version(),
      },
    ]);
    this.changed();
  }

  async deleteSubscription(id: string): Promise<boolean> {
    const sub = await this.getSubscription(id);
    if (!sub) return false;
    await this.insert(this.names.subs, [
      { id, merchantId: sub.merchantId, deleted: 1, doc: '{}', version: this.version() },
    ]);
    this.changed();
    return true;
  }

  private deliveryRow(d: Delivery) {
    return {
      id: d.id,
      merchantId: d.merchantId,
      subscriptionId: d.subscriptionId,
      status: d.status,
      seq: d.seq,
      createdAt: d.createdAt,
      nextAttemptAt: d.nextAttemptAt ?? 0,
      doc: JSON.stringify(d),
      version: this.version(),
    };
  }

  /** Latest version of each delivery matching `where` (on immutable columns only). */
  private async latest(where: SqlFragment[], status?: string): Promise<Delivery[]> {
    const since = Math.max(0, Math.floor(this.now() - this.horizonMs));
    const w = join([sql`createdAt >= ${since}`, ...where], ' AND ');
    const h = status !== undefined ? sql`HAVING st = ${status}` : raw('');
    const r = await this.rows<{ doc: string }>(
      sql`SELECT id, argMax(doc, version) AS doc, argMax(status, version) AS st, any(seq) AS sq
       FROM ${this.t.deliveries} WHERE ${w} GROUP BY id ${h} ORDER BY sq`,
    );
    return r.map((x) => JSON.parse(x.doc) as Delivery);
  }

  async enqueue(list: NewDelivery[]): Promise<Delivery[]> {
    if (list.length === 0) return [];
    const ids = [...new Set(list.map((d) => d.id))];
    const known = new Set(
      (
        await this.rows<{ id: string }>(
          sql`SELECT DISTINCT id FROM ${this.t.deliveries} WHERE id IN ${inList(ids)}`,
        )
      ).map((r) => r.id),
    );
    const added: Delivery[] = [];
    for (const d of list) {
      if (known.has(d.id)) continue;
      known.add(d.id);
      // ms × 1000 + a per-process counter: arrival order, unique enough across processes
      const seq = d.createdAt * 1000 + (this.seqCounter++ % 1000);
      added.push({
        ...d,
        seq,
        status: 'pending',
        attempts: 0,
        totalAttempts: 0,
        updatedAt: d.createdAt,
        nextAttemptAt: d.nextAttemptAt ?? d.createdAt,
      });
    }
    await this.insert(
      this.names.deliveries,
      added.map((d) => this.deliveryRow(d)),
    );
    if (added.length) this.changed();
    return added;
  }

  private async pending(): Promise<Delivery[]> {
    return this.latest([], 'pending');
  }

  async due(now: number, limit: number, opts: DueOptions = {}): Promise<Delivery[]> {
    const heads = new Map<string, Delivery>();
    for (const d of await this.pending()) {
      const chain = `${d.subscriptionId}\u0000${d.alertId ?? d.id}`;
      const h = heads.get(chain);
      if (!h || d.seq < h.seq) heads.set(chain, d);
    }
    return dueHeads(heads.values(), now, limit, opts);
  }

  async nextDueAt(): Promise<number | undefined> {
    let min: number | undefined;
    for (const d of await this.pending()) {
      const t = d.nextAttemptAt ?? 0;
      if (min === undefined || t < min) min = t;
    }
    return min;
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    return (await this.latest([sql`id = ${id}`]))[0];
  }

  async listDeliveries(f: DeliveryFilter): Promise<Delivery[]> {
    const where: SqlFragment[] = [];
    if (f.merchantId !== undefined) where.push(sql`merchantId = ${f.merchantId}`);
    if (f.subscriptionId !== undefined) where.push(sql`subscriptionId = ${f.subscriptionId}`);
    if (f.since !== undefined) where.push(sql`createdAt >= ${Math.floor(f.since)}`);
    const out = await this.latest(where, f.status);
    return f.limit === undefined ? out : out.slice(-f.limit);
  }

  async recordAttempt(attempt: DeliveryAttempt, next: Delivery): Promise<void> {
    // Attempt first: a crash between the two writes repeats the attempt, which is logged under
    // the same (deliveryId, attempt) and collapses with this row.
    await this.insert(this.names.attempts, [
      {
        deliveryId: attempt.deliveryId,
        merchantId: attempt.merchantId,
        attempt: attempt.attempt,
        startedAt: attempt.startedAt,
        doc: JSON.stringify(attempt),
      },
    ]);
    await this.insert(this.names.deliveries, [this.deliveryRow(next)]);
    this.changed();
  }

  async updateDeliveries(list: Delivery[]): Promise<void> {
    await this.insert(
      this.names.deliveries,
      list.map((d) => this.deliveryRow(d)),
    );
    if (list.length) this.changed();
  }

  async listAttempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    const r = await this.rows<{ doc: string }>(
      sql`SELECT attempt, any(doc) AS doc FROM ${this.t.attempts}
       WHERE deliveryId = ${deliveryId} GROUP BY attempt ORDER BY attempt`,
    );
    return r.map((x) => JSON.parse(x.doc) as DeliveryAttempt);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (this.ownsClient) await this.ch.close();
  }
}
