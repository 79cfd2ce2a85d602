import type { Delivery, DeliveryAttempt, DeliveryStatus, NewDelivery, Subscription } from './types';

/** Subscriptions per merchant. */
export interface SubscriptionStore {
  listSubscriptions(filter?: { merchantId?: string }): Promise<Subscription[]>;
  getSubscription(id: string): Promise<Subscription | undefined>;
  /** Create or replace, durably. */
  putSubscription(sub: Subscription): Promise<void>;
  deleteSubscription(id: string): Promise<boolean>;
}

export interface DeliveryFilter {
  merchantId?: string;
  subscriptionId?: string;
  status?: DeliveryStatus;
  /** createdAt >= since (epoch ms) */
  since?: number;
  limit?: number;
}

export interface DueOptions {
  /**
   * At most this many per subscription (the oldest due). The notifier asks for 1: it sends one
   * attempt per subscription at a time, and a merchant's backlog of thousands then cannot push
   * another merchant's single delivery past `limit`.
   */
  perSubscription?: number;
}

/** Due heads, oldest first, at most `limit`, at most `perSubscription` per subscription. */
export function dueHeads(
  heads: Iterable<Delivery>,
  now: number,
  limit: number,
  opts: DueOptions = {},
): Delivery[] {
  const sorted = [...heads]
    .filter((d) => (d.nextAttemptAt ?? 0) <= now)
    .sort((a, b) => (a.nextAttemptAt ?? 0) - (b.nextAttemptAt ?? 0) || a.seq - b.seq);
  const per = opts.perSubscription;
  if (per === undefined) return sorted.slice(0, limit);
  const taken = new Map<string, number>();
  const out: Delivery[] = [];
  for (const d of sorted) {
    if (out.length >= limit) break;
    const n = taken.get(d.subscriptionId) ?? 0;
    if (n >= per) continue;
    taken.set(d.subscriptionId, n + 1);
    out.push(d);
  }
  return out;
}

/**
 * Pending and past deliveries. Every method that changes state resolves only once the change
 * is durable, so a crash after it returns loses nothing.
 */
export interface DeliveryQueue {
  /**
   * Adds deliveries whose id was never seen (the id is deterministic per subscription and
   * alert transition, so a redelivered alert is a no-op). Returns those added.
   */
  enqueue(deliveries: NewDelivery[]): Promise<Delivery[]>;
  /**
   * Pending deliveries due at `now`, oldest first, at most `limit`. A delivery waits while an
   * earlier one of the same subscription and alert is still pending, so `resolved` never
   * overtakes its `firing`.
   */
  due(now: number, limit: number, opts?: DueOptions): Promise<Delivery[]>;
  /** Earliest nextAttemptAt among pending deliveries. */
  nextDueAt(): Promise<number | undefined>;
  getDelivery(id: string): Promise<Delivery | undefined>;
  listDeliveries(filter: DeliveryFilter): Promise<Delivery[]>;
  /** The attempt and the delivery's new state, in one durable write. */
  recordAttempt(attempt: DeliveryAttempt, next: Delivery): Promise<void>;
  updateDeliveries(deliveries: Delivery[]): Promise<void>;
  listAttempts(deliveryId: string): Promise<DeliveryAttempt[]>;
  /** Called after enqueue/update so a dispatcher in the same process wakes at once. */
  onChange(listener: () => void): () => void;
}

export interface WebhookStore extends SubscriptionStore, DeliveryQueue {
  close(): Promise<void>;
}

/** At most this many attempts kept per delivery: 8 scheduled tries × a few replays. */
const MAX_ATTEMPTS_KEPT = 64;

export type JournalRecord =
  | { t: 'sub'; v: Subscription }
  | { t: 'subdel'; id: string }
  | { t: 'dlv'; v: Delivery }
  | { t: 'att'; v: DeliveryAttempt };

/**
 * State of subscriptions and deliveries in memory. On its own (MemoryWebhookStore) it is for
 * unit tests only: nothing survives the process. JournalWebhookStore adds the durable log.
 */
export class MemoryWebhookStore implements WebhookStore {
  protected subs = new Map<string, Subscription>();
  protected deliveries = new Map<string, Delivery>();
  protected pending = new Map<string, Delivery>();
  protected attempts = new Map<string, DeliveryAttempt[]>();
  protected seq = 0;
  private listeners = new Set<() => void>();

  /** Persist records before they count as done. No-op in memory. */
  protected async persist(_records: JournalRecord[]): Promise<void> {}

  /** Apply one record to the in-memory state (also used when replaying a journal). */
  protected apply(r: JournalRecord): void {
    switch (r.t) {
      case 'sub':
        this.subs.set(r.v.id, r.v);
        return;
      case 'subdel':
        this.subs.delete(r.id);
        return;
      case 'dlv':
        this.deliveries.set(r.v.id, r.v);
        if (r.v.status === 'pending') this.pending.set(r.v.id, r.v);
        else this.pending.delete(r.v.id);
        if (r.v.seq > this.seq) this.seq = r.v.seq;
        return;
      case 'att': {
        let list = this.attempts.get(r.v.deliveryId);
        if (!list) this.attempts.set(r.v.deliveryId, (list = []));
        // Idempotent: a record seen twice (a snapshot taken while it was queued) replaces.
        const same = list.findIndex((a) => a.attempt === r.v.attempt);
        if (same >= 0) list[same] = r.v;
        else list.push(r.v);
        if (list.length > MAX_ATTEMPTS_KEPT) list.splice(0, list.length - MAX_ATTEMPTS_KEPT);
        return;
      }
      default:
        assertNever(r);
    }
  }

  private async commit(records: JournalRecord[]): Promise<void> {
    if (records.length === 0) return;
    for (const r of records) this.apply(r);
    await this.persist(records);
    for (const l of this.listeners) l();
  }

  async listSubscriptions(filter: { merchantId?: string } = {}): Promise<Subscription[]> {
    const out = [...this.subs.values()].filter(
      (s) => filter.merchantId === undefined || s.merchantId === filter.merchantId,
    );
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
  async getSubscription(id: string): Promise<Subscription | undefined> {
    return this.subs.get(id);
  }
  async putSubscription(sub: Subscription): Promise<void> {
    await this.commit([{ t: 'sub', v: structuredClone(sub) }]);
  }
  async deleteSubscription(id: string): Promise<boolean> {
    if (!this.subs.has(id)) return false;
    await this.commit([{ t: 'subdel', id }]);
    return true;
  }

  async enqueue(list: NewDelivery[]): Promise<Delivery[]> {
    const added: Delivery[] = [];
    const seen = new Set<string>();
    for (const d of list) {
      if (this.deliveries.has(d.id) || seen.has(d.id)) continue;
      seen.add(d.id);
      added.push({
        ...d,
        seq: ++this.seq,
        status: 'pending',
        attempts: 0,
        totalAttempts: 0,
        updatedAt: d.createdAt,
        nextAttemptAt: d.nextAttemptAt ?? d.createdAt,
      });
    }
    await this.commit(added.map((v) => ({ t: 'dlv', v })));
    return added;
  }

  async due(now: number, limit: number, opts: DueOptions = {}): Promise<Delivery[]> {
    const heads = new Map<string, Delivery>();
    for (const d of this.pending.values()) {
      const chain = `${d.subscriptionId}\u0000${d.alertId ?? d.id}`;
      const h = heads.get(chain);
      if (!h || d.seq < h.seq) heads.set(chain, d);
    }
    return dueHeads(heads.values(), now, limit, opts);
  }
  async nextDueAt(): Promise<number | undefined> {
    let min: number | undefined;
    for (const d of this.pending.values()) {
      const t = d.nextAttemptAt ?? 0;
      if (min === undefined || t < min) min = t;
    }
    return min;
  }
  async getDelivery(id: string): Promise<Delivery | undefined> {
    return this.deliveries.get(id);
  }
  async listDeliveries(f: DeliveryFilter): Promise<Delivery[]> {
    const out: Delivery[] = [];
    for (const d of this.deliveries.values()) {
      if (f.merchantId !== undefined && d.merchantId !== f.merchantId) continue;
      if (f.subscriptionId !== undefined && d.subscriptionId !== f.subscriptionId) continue;
      if (f.status !== undefined && d.status !== f.status) continue;
      if (f.since !== undefined && d.createdAt < f.since) continue;
      out.push(d);
    }
    out.sort((a, b) => a.seq - b.seq);
    return f.limit === undefined ? out : out.slice(-f.limit);
  }
  async recordAttempt(attempt: DeliveryAttempt, next: Delivery): Promise<void> {
    await this.commit([
      { t: 'att', v: attempt },
      { t: 'dlv', v: next },
    ]);
  }
  async updateDeliveries(list: Delivery[]): Promise<void> {
    await this.commit(list.map((v) => ({ t: 'dlv', v })));
  }
  async listAttempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    return [...(this.attempts.get(deliveryId) ?? [])];
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async close(): Promise<void> {
    this.listeners.clear();
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected record ${JSON.stringify(x)}`);
}
