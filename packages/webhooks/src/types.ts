import type { Language, RuleId, Severity } from '@tillwatch/contracts';

/** Who is calling, as the gateway's auth sets it on `request.principal`. */
export interface Principal {
  role: 'analyst' | 'sre' | 'merchant' | 'admin';
  merchantId?: string;
}

export interface SubscriptionSecret {
  secret: string;
  createdAt: string;
  /** Set on the old secret by a rotation: it keeps signing until then. */
  expiresAt?: string;
}

export interface Subscription {
  id: string;
  merchantId: string;
  url: string;
  description?: string;
  /** Rules wanted; empty = all. */
  rules: RuleId[];
  /** Severities wanted; empty = all. */
  severities: Severity[];
  language: Language;
  /** Newest first. Every unexpired secret signs, so rotation has an overlap. */
  secrets: SubscriptionSecret[];
  enabled: boolean;
  disabledReason?: string;
  createdAt: string;
  updatedAt: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead' | 'cancelled';
export type DeliveryKind = 'alert' | 'endpoint.failing';

export interface Delivery {
  /** deliveryIdFor(subscriptionId, webhookId) */
  id: string;
  webhookId: string;
  subscriptionId: string;
  merchantId: string;
  kind: DeliveryKind;
  alertId?: string;
  alertStatus?: string;
  /** The exact bytes sent on every attempt (only the timestamp and signature change). */
  body: string;
  /** Arrival order, for ordering per subscription and alert. */
  seq: number;
  createdAt: number;
  updatedAt: number;
  status: DeliveryStatus;
  /** Attempts in the current round (drives the schedule); a replay starts a new round. */
  attempts: number;
  /** Attempts over all rounds (numbering of the attempt log). */
  totalAttempts: number;
  /** When the next attempt is due (epoch ms); undefined unless pending. */
  nextAttemptAt?: number;
  lastStatusCode?: number;
  lastError?: string;
}

export type AttemptOutcome = 'delivered' | 'retry' | 'dead' | 'disabled';

export interface DeliveryAttempt {
  deliveryId: string;
  webhookId: string;
  subscriptionId: string;
  merchantId: string;
  /** 1-based over the delivery's whole life. */
  attempt: number;
  /** When it was due, and when it started (epoch ms). */
  scheduledAt: number;
  startedAt: number;
  latencyMs: number;
  statusCode?: number;
  error?: string;
  outcome: AttemptOutcome;
  /** When the following attempt is due, if any. */
  nextAttemptAt?: number;
  /** The receiver's Retry-After, in ms, when it sent one on 429/502/503/504. */
  retryAfterMs?: number;
}

export type NewDelivery = Omit<
  Delivery,
  'seq' | 'status' | 'attempts' | 'totalAttempts' | 'updatedAt' | 'nextAttemptAt'
> & { nextAttemptAt?: number };
