import {
  RETRY_AFTER_STATUSES,
  checkUrl,
  classifyStatus,
  createGuardedAgents,
  delayBeforeAttempt,
  parseRetryAfter,
  redactUrl,
  scrubUrlSecrets,
  signHeaders,
  type Delivery,
  type DeliveryAttempt,
  type GuardOptions,
} from '@tillwatch/webhooks';
import type { LookupFunction } from 'node:net';
import { postWebhook, type PostResult } from './http-post';
import type { NotifierDeps, NotifierStats } from './notifier-types';
import { noticeFailing } from './notices';

export interface AttemptOptions extends NotifierDeps {
  random: () => number;
  guard: GuardOptions;
  agents: ReturnType<typeof createGuardedAgents>;
  timeoutMs: number;
  lookup: LookupFunction | undefined;
  schedule: readonly number[];
  jitter: number;
  maxRetryAfterMs: number;
}

/**
 * What an attempt said about the endpoint, for its circuit breaker: it answered 2xx
 * (`delivered`), it failed (`failed`: no answer, a timeout, any other status), it is gone (410),
 * or nothing was sent (`cancelled`: the subscription is disabled or deleted).
 */
export type AttemptVerdict = 'delivered' | 'failed' | 'gone' | 'cancelled';

/**
 * One attempt of a due delivery: post it signed, then record the outcome (delivered, retry at
 * the next backoff or Retry-After, dead-lettered, or the endpoint disabled on 410 Gone).
 */
export async function attemptDelivery(o: AttemptOptions, d: Delivery): Promise<AttemptVerdict> {
  const { store, stats, log, now, random, guard, agents, timeoutMs, lookup } = o;
  const { schedule, jitter, maxRetryAfterMs } = o;
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
    return 'cancelled';
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
      ...(lookup ? { lookup } : {}),
    });
  }
  // A redirect's target, or an error page echoing the request, goes to the log and the
  // delivery log without query strings and without the endpoint's own tokens.
  if (res.error !== undefined) res = { ...res, error: scrubUrlSecrets(res.error, sub.url) };
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
    if (d.kind === 'alert') await noticeFailing(o, sub, d, total, 'gone', res);
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
    log.warn(
      { subscriptionId: sub.id, url: redactUrl(sub.url) },
      'endpoint answered 410 Gone: disabled',
    );
  } else {
    let delay = delayBeforeAttempt(n, schedule, jitter, random());
    if (delay === undefined) {
      next.status = 'dead';
      att.outcome = 'dead';
      bump.push('deadLettered');
      if (d.kind === 'alert') await noticeFailing(o, sub, d, total, 'retries_exhausted', res);
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
  return verdict === 'delivered' ? 'delivered' : verdict === 'gone' ? 'gone' : 'failed';
}
