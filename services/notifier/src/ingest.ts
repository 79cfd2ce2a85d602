import { alertSchema, describeIssues, type Alert } from '@tillwatch/contracts';
import {
  deliveryIdFor,
  localizeAlert,
  webhookIdFor,
  type AlertWithI18n,
  type NewDelivery,
  type Subscription,
} from '@tillwatch/webhooks';
import type { IngestResult, NotifierDeps } from './notifier-types';

export function matches(sub: Subscription, alert: Alert): boolean {
  return (
    sub.enabled &&
    alert.merchantId !== undefined &&
    alert.merchantId === sub.merchantId &&
    (sub.rules.length === 0 || sub.rules.includes(alert.rule)) &&
    (sub.severities.length === 0 || sub.severities.includes(alert.severity))
  );
}

/** One alert transition in: matched to subscriptions, localized, enqueued durably. */
export async function ingestAlert(deps: NotifierDeps, raw: unknown): Promise<IngestResult> {
  const { store, stats, log, now } = deps;
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
