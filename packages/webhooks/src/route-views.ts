import type { Delivery, DeliveryAttempt, Subscription } from './types';

// What the routes answer: subscriptions without their secrets, deliveries with their attempts.

export function subscriptionView(s: Subscription) {
  return {
    id: s.id,
    merchantId: s.merchantId,
    url: s.url,
    description: s.description ?? null,
    rules: s.rules,
    severities: s.severities,
    language: s.language,
    enabled: s.enabled,
    disabledReason: s.disabledReason ?? null,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function deliveryView(d: Delivery, attempts: DeliveryAttempt[]) {
  return {
    id: d.id,
    webhookId: d.webhookId,
    subscriptionId: d.subscriptionId,
    merchantId: d.merchantId,
    kind: d.kind,
    alertId: d.alertId ?? null,
    alertStatus: d.alertStatus ?? null,
    status: d.status,
    attempts: d.totalAttempts,
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    lastStatusCode: d.lastStatusCode ?? null,
    lastError: d.lastError ?? null,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    attemptLog: attempts.map((a) => ({
      attempt: a.attempt,
      scheduledAt: iso(a.scheduledAt),
      startedAt: iso(a.startedAt),
      statusCode: a.statusCode ?? null,
      latencyMs: a.latencyMs,
      error: a.error ?? null,
      outcome: a.outcome,
      nextAttemptAt: iso(a.nextAttemptAt),
      retryAfterMs: a.retryAfterMs ?? null,
    })),
  };
}

/** A delivery sent again from its first scheduled attempt, same webhook-id and body. */
export function requeued(d: Delivery, now: number): Delivery {
  return {
    ...d,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    updatedAt: now,
  };
}
