import type { Language } from '@tillwatch/contracts';
import {
  deliveryIdFor,
  noticeIdFor,
  redactUrl,
  type Delivery,
  type NewDelivery,
  type Subscription,
} from '@tillwatch/webhooks';
import type { PostResult } from './http-post';
import type { NotifierDeps } from './notifier-types';

const NOTICE_TEXT: Record<Language, (url: string, n: number, reason: string) => string> = {
  en: (url, n, reason) =>
    `Webhook endpoint ${url} failed after ${n} attempt(s) (${reason}). Check it, then replay the dead deliveries.`,
  zh: (url, n, reason) =>
    `Webhook 端点 ${url} 在 ${n} 次尝试后仍失败（${reason}）。请检查该端点，然后重放失败的投递。`,
};

/** Tell the merchant's other endpoints that one of theirs is failing (or disabled). */
export async function noticeFailing(
  deps: NotifierDeps,
  sub: Subscription,
  d: Delivery,
  attempts: number,
  reason: string,
  res: PostResult,
): Promise<void> {
  const { store, stats, log, now } = deps;
  const others = (await store.listSubscriptions({ merchantId: sub.merchantId })).filter(
    (s) => s.id !== sub.id && s.enabled && s.url !== sub.url,
  );
  if (others.length === 0) {
    log.warn({ subscriptionId: sub.id }, 'endpoint failing and the merchant has no other channel');
    return;
  }
  const webhookId = noticeIdFor('endpoint.failing', `${d.id}:${attempts}`);
  // Another endpoint may be another vendor's (a chat tool, a pager): the failing URL's token
  // stays out of what it is told.
  const url = redactUrl(sub.url);
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
      url,
      reason,
      disabled: reason === 'gone',
      deliveryId: d.id,
      webhookId: d.webhookId,
      alertId: d.alertId ?? null,
      attempts,
      lastStatusCode: res.statusCode ?? null,
      lastError: res.error ?? null,
      message: NOTICE_TEXT[o.language](url, attempts, res.error ?? reason),
      ts: new Date(t).toISOString(),
    }),
    createdAt: t,
  }));
  const added = await store.enqueue(list);
  stats.noticesEnqueued += added.length;
}
