import type { Logger } from '@tillwatch/config';
import type { GuardOptions, WebhookStore } from '@tillwatch/webhooks';
import type { LookupFunction } from 'node:net';

export interface NotifierConfig {
  /** Delay before each attempt, ms. Default: 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
  retrySchedule?: readonly number[];
  /** ± fraction applied to each delay. Default 0.2. */
  jitter?: number;
  /** Per attempt, capped at 15 s. */
  timeoutMs?: number;
  /** Attempts in flight at once, all merchants (one per subscription at a time). Default 16. */
  concurrency?: number;
  /**
   * Attempts in flight at once for one merchant, whatever its number of subscriptions. Default
   * 4: one merchant's endpoints that never answer hold at most 4 of the 16 slots.
   */
  merchantConcurrency?: number;
  /** Failed attempts in a row to one endpoint that open its circuit breaker. Default 5. */
  breakerFailures?: number;
  /** How long an open breaker defers the endpoint's deliveries before one trial. Default 30 s. */
  breakerCooldownMs?: number;
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
  /** Endpoints whose breaker opened (after breakerFailures failures in a row). */
  breakersOpened: number;
  /** Due deliveries left pending because their endpoint's breaker was open (per look). */
  deferredByBreaker: number;
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

/** What ingest and the delivery attempts share with the notifier that runs them. */
export interface NotifierDeps {
  store: WebhookStore;
  stats: NotifierStats;
  log: Logger;
  now: () => number;
}
