import type { Me } from './types';

/** A subscription as the gateway returns it (GET /api/webhooks/subscriptions): no secret. */
export interface WebhookSubscription {
  id: string;
  merchantId: string;
  url: string;
  description: string | null;
  /** rules wanted; empty = every rule */
  rules: string[];
  /** severities wanted; empty = every severity */
  severities: string[];
  language: 'en' | 'zh';
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead' | 'cancelled';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = [
  'pending',
  'delivered',
  'dead',
  'cancelled',
];

/** A delivery as the gateway returns it (GET /api/webhooks/deliveries), attempts and all. */
export interface WebhookDelivery {
  id: string;
  webhookId: string;
  subscriptionId: string;
  merchantId: string;
  kind: 'alert' | 'endpoint.failing';
  alertId: string | null;
  alertStatus: string | null;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string | null;
  updatedAt: string | null;
}

/** What the create form sends (POST /api/webhooks/subscriptions). */
export interface SubscriptionInput {
  merchantId?: string;
  url: string;
  description?: string;
  rules: string[];
  severities: string[];
  language: 'en' | 'zh';
}

/**
 * Who may use the webhook routes (packages/webhooks/src/route-access.ts): a merchant key bound
 * to its merchant (its own subscriptions), an admin (everyone's). Analysts and SREs are refused.
 */
export function canUseWebhooks(me: Pick<Me, 'role' | 'merchantId'>): boolean {
  return me.role === 'admin' || (me.role === 'merchant' && !!me.merchantId);
}

/**
 * The body of a new subscription from the form's raw values: trimmed, empty parts left out (the
 * API's defaults apply), a merchant id only from staff (a merchant's is its key's).
 */
export function subscriptionBody(
  me: Pick<Me, 'role'>,
  form: {
    merchantId?: string;
    url: string;
    description?: string;
    rules: string[];
    severities: string[];
    language: string;
  },
): SubscriptionInput {
  const body: SubscriptionInput = {
    url: form.url.trim(),
    rules: [...new Set(form.rules.filter(Boolean))],
    severities: [...new Set(form.severities.filter(Boolean))],
    language: form.language === 'zh' ? 'zh' : 'en',
  };
  const description = form.description?.trim();
  if (description) body.description = description;
  const merchantId = form.merchantId?.trim();
  if (me.role !== 'merchant' && merchantId) body.merchantId = merchantId;
  return body;
}

/** What changed between a subscription and the edit form's body (PATCH sends only that). */
export function subscriptionPatch(
  sub: WebhookSubscription,
  next: SubscriptionInput,
): Partial<Omit<SubscriptionInput, 'merchantId'>> {
  const patch: Partial<Omit<SubscriptionInput, 'merchantId'>> = {};
  const same = (a: string[], b: string[]) =>
    a.length === b.length && [...a].sort().join() === [...b].sort().join();
  if (next.url !== sub.url) patch.url = next.url;
  // the API keeps a description once set; an emptied field sends '' to clear it
  if ((next.description ?? '') !== (sub.description ?? '')) {
    patch.description = next.description ?? '';
  }
  if (!same(next.rules, sub.rules)) patch.rules = next.rules;
  if (!same(next.severities, sub.severities)) patch.severities = next.severities;
  if (next.language !== sub.language) patch.language = next.language;
  return patch;
}

/**
 * Whether the Replay button is offered on a delivery, and if not why: only a failed one (dead
 * letter, or cancelled) is replayed from the screen, and the API refuses (409) a replay to a
 * subscription that is disabled or gone, so neither is offered.
 */
export function replayState(
  d: Pick<WebhookDelivery, 'status' | 'subscriptionId'>,
  subs: ReadonlyMap<string, Pick<WebhookSubscription, 'enabled'>>,
): 'ok' | 'not-failed' | 'disabled' | 'gone' {
  if (d.status !== 'dead' && d.status !== 'cancelled') return 'not-failed';
  const sub = subs.get(d.subscriptionId);
  if (!sub) return 'gone';
  return sub.enabled ? 'ok' : 'disabled';
}

/** The delivery log newest first (the API lists it oldest first, the newest `limit`). */
export function newestFirst(list: readonly WebhookDelivery[]): WebhookDelivery[] {
  return [...list].sort(
    (a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.id.localeCompare(a.id),
  );
}

/** A status filter from the address: one of the four, else none. */
export function deliveryStatusParam(v: string | undefined): DeliveryStatus | undefined {
  return (DELIVERY_STATUSES as readonly string[]).includes(v ?? '')
    ? (v as DeliveryStatus)
    : undefined;
}
