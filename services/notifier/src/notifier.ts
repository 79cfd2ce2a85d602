import { alertSchema, describeIssues, type Alert, type Language } from '@tillwatch/contracts';
import type { Logger } from '@tillwatch/config';
import {
  DEFAULT_JITTER,
  DEFAULT_RETRY_SCHEDULE_MS,
  MAX_TIMEOUT_MS,
  RETRY_AFTER_STATUSES,
  checkUrl,
  classifyStatus,
  createGuardedAgents,
  delayBeforeAttempt,
  deliveryIdFor,
  localizeAlert,
  noticeIdFor,
  parseRetryAfter,
  signHeaders,
  webhookIdFor,
  type AlertWithI18n,
  type Delivery,
  type DeliveryAttempt,
  type GuardOptions,
  type NewDelivery,
  type Subscription,
  type WebhookStore,
} from '@tillwatch/webhooks';
import type { LookupFunction } from 'node:net';
import { postWebhook, type PostResult } from './http-post';

export interface NotifierConfig {
  /** Delay before each attempt, ms. Default: 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
  retrySchedule?: readonly number[];
  /** ± fraction applied to each delay. Default 0.2. */
  jitter?: number;
  /** Per attempt, capped at 15 s. */
  timeoutMs?: number;
  /** Attempts in flight at once (one per subscription at a time). Default 16. */
  concurrency?: number;
  /** Longest sleep between looks at the queue (another process may have replayed). Default 1 s. */
  pollMs?: number;
  /** A Retry-After longer than this is cut to it. Default 24 h. */
  maxRetryAfterMs?: number;
  guard?: GuardOptions;
  /**
   * DNS lookup for targets (split-horizon DNS, tests). Whatever it returns still passes the
   * connect-time address filter.
   */
  lookup?: LookupFunction;
}

/** Anything with `on('alert', fn)`: an EventEmitter or the all-in-one's bus. */
export interface AlertEmitter {
  on(event: 'alert', listener: (alert: unknown) => void): unknown;
  off?(event: 'alert', listener: (alert: unknown) => void): unknown;
  removeListener?(event: 'alert', listener: (alert: unknown) => void): unknown;
}
export type AlertSource = AsyncIterable<unknown> | AlertEmitter;

export interface NotifierStats {
  alertsIn: number;
  alertsInvalid: number;
  /** Alerts without a merchantId (region, firmware, issuer scope): no merchant receives them. */
  alertsUnscoped: number;
  deliveriesEnqueued: number;
  /** Alert transitions seen again (redelivery, restart): skipped by deliveryId. */
  duplicatesSkipped: number;
  attempts: number;
  delivered: number;
  retriesScheduled: number;
  deadLettered: number;
  endpointsDisabled: number;
  cancelled: number;
  noticesEnqueued: number;
}

export interface IngestResult {
  accepted: boolean;
  deliveries: number;
  duplicates: number;
  reason?: string;
}

export interface Notifier {
  /** Start consuming the source (if any) and delivering. */
  start(): void;
  /** Stop consuming, let attempts in flight finish, release sockets. The store stays open. */
  stop(): Promise<void>;
  /** One alert transition in: matched, localized, enqueued durably. */
  ingest(alert: unknown): Promise<IngestResult>;
  /** Resolves when an async-iterable source has ended and everything it gave was enqueued. */
  readonly sourceDone: Promise<void>;
  stats(): NotifierStats;
}

export interface CreateNotifierOptions {
  config?: NotifierConfig;
  store: WebhookStore;
  logger?: Logger;
  source?: AlertSource;
  now?: () => number;
  random?: () => number;
}

const NOTICE_TEXT: Record<Language, (url: string, n: number, reason: string) => string> = {
  en: (url, n, reason) =>
    `Webhook endpoint ${url} failed after ${n} attempt(s) (${reason}). Check it, then replay the dead deliveries.`,
  zh: (url, n, reason) =>
    `Webhook 端点 ${url} 在 ${n} 次尝试后仍失败（${reason}）。请检查该端点，然后重放失败的投递。`,
};

export function matches(sub: Subscription, alert: Alert): boolean {
  return (
    sub.enabled &&
    alert.merchantId !== undefined &&
    alert.merchantId === sub.merchantId &&
    (sub.rules.length === 0 || sub.rules.includes(alert.rule)) &&
    (sub.severities.length === 0 || sub.severities.includes(alert.severity))
  );
}

const noop = () => {};
const silentLogger = {
  info: noop,
  warn: noop,
  error: noop,
  debug: noop,
} as unknown as Logger;

export function createNotifier(opts: CreateNotifierOptions): Notifier {
  const { store, source } = opts;
  const log = opts.logger ?? silentLogger;
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const cfg = opts.config ?? {};
  const schedule = cfg.retrySchedule ?? DEFAULT_RETRY_SCHEDULE_MS;
  const jitter = cfg.jitter ?? DEFAULT_JITTER;
  const timeoutMs = Math.min(cfg.timeoutMs ?? MAX_TIMEOUT_MS, MAX_TIMEOUT_MS);
  const concurrency = Math.max(1, cfg.concurrency ?? 16);
  const pollMs = cfg.pollMs ?? 1000;
  const maxRetryAfterMs = cfg.maxRetryAfterMs ?? 24 * 3_600_000;
  const guard = cfg.guard ?? {};
  const agents = createGuardedAgents(guard);

  const stats: NotifierStats = {
    alertsIn: 0,
    alertsInvalid: 0,
    alertsUnscoped: 0,
    deliveriesEnqueued: 0,
    duplicatesSkipped: 0,
    attempts: 0,
    delivered: 0,
    retriesScheduled: 0,
    deadLettered: 0,
    endpointsDisabled: 0,
    cancelled: 0,
    noticesEnqueued: 0,
  };

  let running = false;
  let pumping = false;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let unlisten: () => void = noop;
  let stopSource: () => void = noop;
  const inflight = new Map<string, Promise<void>>();
  const busySubs = new Set<string>();
  // A due() answer may predate an attempt that finished while the query ran (ClickHouse is a
  // network round trip away): such a delivery is skipped, or it would be sent twice.
  let tick = 0;
  const finishedAt = new Map<string, number>();
  let resolveSourceDone: () => void = noop;
  const sourceDone = new Promise<void>((r) => (resolveSourceDone = r));
  if (!source) resolveSourceDone();

  async function ingest(raw: unknown): Promise<IngestResult> {
    stats.alertsIn++;
    const parsed = alertSchema.safeParse(raw);
    if (!parsed.success) {
      stats.alertsInvalid++;
      const reason = describeIssues(parsed.error);
      log.warn({ reason }, 'alert does not match the contract: skipped');
      return { accepted: false, deliveries: 0, duplicates: 0, reason };
    }
    const alert = parsed.data as AlertWithI18n;
    if (alert.merchantId === undefined) {
      stats.alertsUnscoped++;
      return { accepted: true, deliveries: 0, duplicates: 0, reason: 'no merchantId' };
    }
    const subs = (await store.listSubscriptions({ merchantId: alert.merchantId })).filter((s) =>
      matches(s, alert),
    );
    const webhookId = webhookIdFor(alert);
    const t = now();
    const list: NewDelivery[] = subs.map((s) => ({
      id: deliveryIdFor(s.id, webhookId),
      webhookId,
      subscriptionId: s.id,
      merchantId: s.merchantId,
      kind: 'alert',
      alertId: alert.alertId,
      alertStatus: alert.status,
      body: JSON.stringify(localizeAlert(alert, s.language)),
      createdAt: t,
    }));
    const added = await store.enqueue(list);
    stats.deliveriesEnqueued += added.length;
    stats.duplicatesSkipped += list.length - added.length;
    return { accepted: true, deliveries: added.length, duplicates: list.length - added.length };
  }

  /** A source's alert is never dropped for a store hiccup: retry, pausing the source. */
  async function ingestPersistently(raw: unknown): Promise<void> {
    for (let wait = 200; ; wait = Math.min(wait * 2, 10_000)) {
      try {
        await ingest(raw);
        return;
      } catch (err) {
        log.error({ err, retryInMs: wait }, 'cannot enqueue alert: retrying');
        if (!running) throw err;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  function consume(src: AlertSource): void {
    if (Symbol.asyncIterator in src) {
      const it = (src as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      stopSource = () => void it.return?.();
      void (async () => {
        try {
          while (running) {
            const r = await it.next();
            if (r.done) break;
            await ingestPersistently(r.value);
          }
        } catch (err) {
          log.error({ err }, 'alert source failed');
        } finally {
          resolveSourceDone();
        }
      })();
      return;
    }
    const em = src as AlertEmitter;
    let chain = Promise.resolve();
    const listener = (a: unknown) => {
      chain = chain.then(() => ingestPersistently(a)).catch(noop);
    };
    em.on('alert', listener);
    stopSource = () => {
      (em.off ?? em.removeListener)?.call(em, 'alert', listener);
      void chain.then(resolveSourceDone);
    };
  }

  function wake(): void {
    if (!running) return;
    if (pumping) {
      again = true;
      return;
    }
    void pump();
  }

  async function pump(): Promise<void> {
    pumping = true;
    try {
      do {
        again = false;
        if (inflight.size >= concurrency) break;
        const asked = tick;
        const due = await store.due(now(), concurrency * 4);
        for (const [id, t] of finishedAt) if (t <= asked) finishedAt.delete(id);
        for (const d of due) {
          if (!running || inflight.size >= concurrency) break;
          if (finishedAt.has(d.id)) continue; // finished after the query was asked
          // One attempt per endpoint at a time: a recovering receiver is not flooded, and
          // deliveries to it go out in arrival order.
          if (inflight.has(d.id) || busySubs.has(d.subscriptionId)) continue;
          busySubs.add(d.subscriptionId);
          const p = attempt(d)
            .catch((err: unknown) => log.error({ err, deliveryId: d.id }, 'attempt failed'))
            .finally(() => {
              finishedAt.set(d.id, ++tick);
              inflight.delete(d.id);
              busySubs.delete(d.subscriptionId);
              wake();
            });
          inflight.set(d.id, p);
        }
      } while (again && running);
      if (!running) return;
      const next = await store.nextDueAt();
      const t = now();
      // Something due but blocked by a busy endpoint wakes on that attempt's completion.
      const delay = next === undefined || next <= t ? pollMs : Math.min(pollMs, next - t);
      clearTimeout(timer);
      timer = setTimeout(wake, delay);
    } catch (err) {
      log.error({ err }, 'delivery queue unavailable: retrying');
      clearTimeout(timer);
      timer = setTimeout(wake, pollMs);
    } finally {
      pumping = false;
    }
  }

  async function noticeFailing(
    sub: Subscription,
    d: Delivery,
    attempts: number,
    reason: string,
    res: PostResult,
  ): Promise<void> {
    const others = (await store.listSubscriptions({ merchantId: sub.merchantId })).filter(
      (s) => s.id !== sub.id && s.enabled && s.url !== sub.url,
    );
    if (others.length === 0) {
      log.warn(
        { subscriptionId: sub.id },
        'endpoint failing and the merchant has no other channel',
      );
      return;
    }
    const webhookId = noticeIdFor('endpoint.failing', `${d.id}:${attempts}`);
    const t = now();
    const list: NewDelivery[] = others.map((o) => ({
      id: deliveryIdFor(o.id, webhookId),
      webhookId,
      subscriptionId: o.id,
      merchantId: o.merchantId,
      kind: 'endpoint.failing',
      body: JSON.stringify({
        type: 'endpoint.failing',
        merchantId: sub.merchantId,
        subscriptionId: sub.id,
        url: sub.url,
        reason,
        disabled: reason === 'gone',
        deliveryId: d.id,
        webhookId: d.webhookId,
        alertId: d.alertId ?? null,
        attempts,
        lastStatusCode: res.statusCode ?? null,
        lastError: res.error ?? null,
        message: NOTICE_TEXT[o.language](sub.url, attempts, res.error ?? reason),
        ts: new Date(t).toISOString(),
      }),
      createdAt: t,
    }));
    const added = await store.enqueue(list);
    stats.noticesEnqueued += added.length;
  }

  async function attempt(d: Delivery): Promise<void> {
    const sub = await store.getSubscription(d.subscriptionId);
    const startedAt = now();
    if (!sub || !sub.enabled || sub.merchantId !== d.merchantId) {
      stats.cancelled++;
      await store.updateDeliveries([
        {
          ...d,
          status: 'cancelled',
          nextAttemptAt: undefined,
          updatedAt: startedAt,
          lastError: sub
            ? `subscription disabled (${sub.disabledReason ?? 'by user'})`
            : 'subscription deleted',
        },
      ]);
      return;
    }
    const live = sub.secrets.filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > startedAt);
    const secrets = (live.length ? live : sub.secrets.slice(0, 1)).map((s) => s.secret);
    const pre = checkUrl(sub.url, guard);
    let res: PostResult;
    if (!pre.allowed) {
      res = { headers: {}, latencyMs: 0, error: `refused: ${pre.reason}` };
    } else {
      const url = new URL(sub.url);
      const headers = signHeaders(d.webhookId, new Date(startedAt), d.body, secrets);
      res = await postWebhook({
        url,
        headers: { ...headers },
        body: d.body,
        agent: agents.agentFor(url),
        timeoutMs,
        ...(cfg.lookup ? { lookup: cfg.lookup } : {}),
      });
    }
    stats.attempts++;
    const finished = now();
    const n = d.attempts + 1;
    const total = d.totalAttempts + 1;
    const next: Delivery = {
      ...d,
      attempts: n,
      totalAttempts: total,
      updatedAt: finished,
      lastStatusCode: res.statusCode,
      lastError: res.error,
      nextAttemptAt: undefined,
    };
    const att: DeliveryAttempt = {
      deliveryId: d.id,
      webhookId: d.webhookId,
      subscriptionId: d.subscriptionId,
      merchantId: d.merchantId,
      attempt: total,
      scheduledAt: d.nextAttemptAt ?? startedAt,
      startedAt,
      latencyMs: res.latencyMs,
      ...(res.statusCode !== undefined ? { statusCode: res.statusCode } : {}),
      ...(res.error !== undefined ? { error: res.error } : {}),
      outcome: 'retry',
    };
    // Counted once the attempt is recorded, so a stat never runs ahead of the store.
    const bump: (keyof NotifierStats)[] = [];
    const verdict = classifyStatus(res.statusCode);
    if (verdict === 'delivered') {
      next.status = 'delivered';
      att.outcome = 'delivered';
      bump.push('delivered');
    } else if (verdict === 'gone') {
      next.status = 'dead';
      next.lastError = `HTTP 410 Gone: endpoint disabled`;
      att.outcome = 'disabled';
      bump.push('endpointsDisabled');
      bump.push('deadLettered');
      // Notice and disable first: a crash before the attempt is recorded repeats the attempt,
      // which then finds the subscription disabled; the notice id is the same, so no duplicate.
      if (d.kind === 'alert') await noticeFailing(sub, d, total, 'gone', res);
      await store.putSubscription({
        ...sub,
        enabled: false,
        disabledReason: `HTTP 410 Gone at ${new Date(finished).toISOString()}`,
        updatedAt: new Date(finished).toISOString(),
      });
      const rest = await store.listDeliveries({ subscriptionId: sub.id, status: 'pending' });
      const cancel = rest
        .filter((x) => x.id !== d.id)
        .map((x) => ({
          ...x,
          status: 'cancelled' as const,
          nextAttemptAt: undefined,
          updatedAt: finished,
          lastError: 'endpoint disabled after HTTP 410',
        }));
      stats.cancelled += cancel.length;
      if (cancel.length) await store.updateDeliveries(cancel);
      log.warn({ subscriptionId: sub.id, url: sub.url }, 'endpoint answered 410 Gone: disabled');
    } else {
      let delay = delayBeforeAttempt(n, schedule, jitter, random());
      if (delay === undefined) {
        next.status = 'dead';
        att.outcome = 'dead';
        bump.push('deadLettered');
        if (d.kind === 'alert') await noticeFailing(sub, d, total, 'retries_exhausted', res);
        log.warn(
          { deliveryId: d.id, subscriptionId: sub.id, attempts: total, lastError: res.error },
          'delivery dead-lettered after its last attempt',
        );
      } else {
        const retryAfter =
          res.statusCode !== undefined && RETRY_AFTER_STATUSES.has(res.statusCode)
            ? parseRetryAfter(res.headers['retry-after'], finished)
            : undefined;
        if (retryAfter !== undefined) {
          // Never sooner than the receiver asked, never sooner than our own backoff.
          delay = Math.max(delay, Math.min(retryAfter, maxRetryAfterMs));
          att.retryAfterMs = retryAfter;
        }
        next.nextAttemptAt = finished + delay;
        att.nextAttemptAt = next.nextAttemptAt;
        bump.push('retriesScheduled');
      }
    }
    await store.recordAttempt(att, next);
    for (const k of bump) stats[k]++;
  }

  return {
    start() {
      if (running) return;
      running = true;
      unlisten = store.onChange(wake);
      if (source) consume(source);
      wake();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      unlisten();
      stopSource();
      await Promise.allSettled([...inflight.values()]);
      agents.destroy();
    },
    ingest,
    sourceDone,
    stats: () => ({ ...stats }),
  };
}
