import type { Logger } from '@tillwatch/config';
import {
  DEFAULT_JITTER,
  DEFAULT_RETRY_SCHEDULE_MS,
  MAX_TIMEOUT_MS,
  createGuardedAgents,
  type Delivery,
} from '@tillwatch/webhooks';
import { attemptDelivery, type AttemptOptions, type AttemptVerdict } from './attempt';
import { CircuitBreaker } from './breaker';
import { ingestAlert } from './ingest';
import type {
  AlertEmitter,
  AlertSource,
  CreateNotifierOptions,
  IngestResult,
  Notifier,
  NotifierStats,
} from './notifier-types';

export { matches } from './ingest';
export type {
  AlertEmitter,
  AlertSource,
  CreateNotifierOptions,
  IngestResult,
  Notifier,
  NotifierConfig,
  NotifierStats,
} from './notifier-types';

const noop = () => {};

/**
 * Due deliveries read per look at the queue: one per subscription (DueOptions.perSubscription),
 * so this bounds the subscriptions considered, not a merchant's backlog.
 */
const DUE_SCAN = 10_000;
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
  const merchantConcurrency = Math.min(concurrency, Math.max(1, cfg.merchantConcurrency ?? 4));
  const breakerOptions = {
    failures: Math.max(1, cfg.breakerFailures ?? 5),
    cooldownMs: Math.max(0, cfg.breakerCooldownMs ?? 30_000),
  };
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
    breakersOpened: 0,
    deferredByBreaker: 0,
  };

  let running = false;
  let pumping = false;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let unlisten: () => void = noop;
  let stopSource: () => void = noop;
  const inflight = new Map<string, Promise<void>>();
  const busySubs = new Set<string>();
  // Fairness (issue 16): a merchant holds at most merchantConcurrency of the slots, an endpoint
  // (subscription) one, and an endpoint that keeps failing is skipped while its breaker is open.
  // A merchant with endpoints that never answer then waits on its own slots only; before, 20
  // such subscriptions took all 16 slots for 15 s timeouts and every other merchant waited.
  const merchantBusy = new Map<string, number>();
  const breakers = new Map<string, CircuitBreaker>();
  const breakerOf = (subscriptionId: string): CircuitBreaker => {
    let b = breakers.get(subscriptionId);
    if (!b) breakers.set(subscriptionId, (b = new CircuitBreaker(breakerOptions)));
    return b;
  };
  // A due() answer may predate an attempt that finished while the query ran (ClickHouse is a
  // network round trip away): such a delivery is skipped, or it would be sent twice.
  let tick = 0;
  const finishedAt = new Map<string, number>();
  let resolveSourceDone: () => void = noop;
  const sourceDone = new Promise<void>((r) => (resolveSourceDone = r));
  if (!source) resolveSourceDone();

  const deps = { store, stats, log, now };
  const ingest = (raw: unknown): Promise<IngestResult> => ingestAlert(deps, raw);
  const attemptOptions: AttemptOptions = {
    ...deps,
    random,
    guard,
    agents,
    timeoutMs,
    lookup: cfg.lookup,
    schedule,
    jitter,
    maxRetryAfterMs,
  };
  const attempt = (d: Delivery): Promise<AttemptVerdict> => attemptDelivery(attemptOptions, d);

  function settle(d: Delivery, breaker: CircuitBreaker, verdict: AttemptVerdict | undefined) {
    if (verdict === undefined || verdict === 'cancelled') return breaker.release();
    // 410 is an answer: the endpoint is disabled, not failing
    if (!breaker.record(verdict !== 'failed', now())) return;
    stats.breakersOpened++;
    log.warn(
      {
        subscriptionId: d.subscriptionId,
        merchantId: d.merchantId,
        failures: breakerOptions.failures,
        retryAt: new Date(breaker.retryAt ?? now()).toISOString(),
      },
      'endpoint keeps failing: its deliveries wait (circuit open) until one trial succeeds',
    );
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
        const due = await store.due(now(), DUE_SCAN, { perSubscription: 1 });
        for (const [id, t] of finishedAt) if (t <= asked) finishedAt.delete(id);
        for (const d of due) {
          if (!running || inflight.size >= concurrency) break;
          if (finishedAt.has(d.id)) continue; // finished after the query was asked
          // One attempt per endpoint at a time: a recovering receiver is not flooded, and
          // deliveries to it go out in arrival order.
          if (inflight.has(d.id) || busySubs.has(d.subscriptionId)) continue;
          const busy = merchantBusy.get(d.merchantId) ?? 0;
          if (busy >= merchantConcurrency) continue;
          const breaker = breakerOf(d.subscriptionId);
          if (!breaker.tryAcquire(now())) {
            // Deferred, not lost: it stays pending with its schedule unspent.
            stats.deferredByBreaker++;
            continue;
          }
          busySubs.add(d.subscriptionId);
          merchantBusy.set(d.merchantId, busy + 1);
          let verdict: AttemptVerdict | undefined;
          const p = attempt(d)
            .then((v) => void (verdict = v))
            .catch((err: unknown) => log.error({ err, deliveryId: d.id }, 'attempt failed'))
            .finally(() => {
              settle(d, breaker, verdict);
              finishedAt.set(d.id, ++tick);
              inflight.delete(d.id);
              busySubs.delete(d.subscriptionId);
              const left = (merchantBusy.get(d.merchantId) ?? 1) - 1;
              if (left > 0) merchantBusy.set(d.merchantId, left);
              else merchantBusy.delete(d.merchantId);
              wake();
            });
          inflight.set(d.id, p);
        }
      } while (again && running);
      if (!running) return;
      const next = await store.nextDueAt();
      const t = now();
      // Something due but blocked by a busy endpoint or merchant wakes on that attempt's
      // completion; one behind an open breaker on the next poll after its cool-down.
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
