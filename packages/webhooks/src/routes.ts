import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { badRequest, conflict, errorResponse, invalidField } from '@tillwatch/contracts';
import { checkUrl, type GuardOptions } from './address-guard';
import { generateSecret } from './signing';
import type { DeliveryQueue, SubscriptionStore } from './store';
import type { Delivery, Principal, Subscription } from './types';
import { access, noSuch, ownOnly, type Scope } from './route-access';
import {
  DOCS,
  MAX_REPLAY,
  createBody,
  deliveriesQuery,
  doc,
  idParams,
  listSubsQuery,
  patchBody,
  replayBody,
  rotateBody,
  type Parts,
} from './route-schemas';
import { deliveryView, requeued, subscriptionView } from './route-views';

export { deliveryView, requeued, subscriptionView } from './route-views';

export interface WebhookRoutesOptions {
  /** Subscriptions and the delivery log (one object in practice: a WebhookStore). */
  store: SubscriptionStore & DeliveryQueue;
  /** The same guard settings the notifier delivers with, to refuse bad URLs at save time. */
  guard?: GuardOptions;
  /** Reads the caller; default: `request.principal` set by the gateway's auth plugin. */
  getPrincipal?: (request: FastifyRequest) => Principal | null | undefined;
  /**
   * Merged into every route's `config`. Default `{ access: ['merchant', 'admin'] }`: the
   * gateway's auth hook authenticates (and sets request.principal) only on routes that
   * declare access.
   */
  routeConfig?: Record<string, unknown>;
  /** OpenAPI security of every route; default the gateway's `bearer` scheme. */
  openapiSecurity?: Record<string, string[]>[];
  /**
   * Subscriptions one merchant may hold (enabled or not), default 10: each is an endpoint the
   * notifier sends every matching alert to, so an unbounded number let one merchant queue
   * unbounded work. Creating one more is a 409 in the shared error shape.
   */
  maxSubscriptionsPerMerchant?: number;
  now?: () => number;
}

/** Default of `maxSubscriptionsPerMerchant`. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_MERCHANT = 10;

/** Who may call, for the OpenAPI document (route-access.ts enforces it). */
const ACCESS_DOC =
  'Authorization: Bearer <api key>. Roles: merchant (its own subscriptions and deliveries; ' +
  "another merchant's ids are 404), admin (all); analyst and sre 403. Errors are " +
  '{ error, message, details }: 400 bad input (details per problem), 401, 403, 404, 409, 429.';

const routes: FastifyPluginAsync<WebhookRoutesOptions> = async (app, opts) => {
  const { store } = opts;
  const routeConfig = opts.routeConfig ?? { access: ['merchant', 'admin'] };
  const guard = opts.guard ?? {};
  const now = opts.now ?? Date.now;
  const maxSubs = opts.maxSubscriptionsPerMerchant ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_MERCHANT;
  // Creations of one merchant run one after another, so two at once cannot both pass the
  // count (in this process; gateways side by side could each let one through).
  const creating = new Map<string, Promise<unknown>>();
  function serially<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = creating.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    creating.set(key, tail);
    void tail.then(() => {
      if (creating.get(key) === tail) creating.delete(key);
    });
    return run;
  }
  const principalOf =
    opts.getPrincipal ??
    ((req: FastifyRequest) => (req as unknown as { principal?: Principal | null }).principal);
  const scopes = new WeakMap<FastifyRequest, Scope>();
  const scopeOf = (req: FastifyRequest) => scopes.get(req) ?? access(principalOf(req));

  // Access, documentation and validation of every route below (this context only). The path
  // is looked up without the prefix the plugin is mounted under (the gateway's /api), so the
  // schemas reach the host's OpenAPI document wherever it is mounted; zod validates each part
  // and a failure is a 400 in the shared error shape, naming each problem.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const path = route.prefix ? route.url.slice(route.prefix.length) : route.url;
    const d = DOCS[`${methods[0]} ${path}`];
    route.config = { ...routeConfig, ...(route.config ?? {}) } as typeof route.config;
    if (!d) return;
    route.schema = {
      summary: d.summary,
      description: ACCESS_DOC,
      tags: ['webhooks'],
      security: opts.openapiSecurity ?? [{ bearer: [] }],
      ...(d.querystring ? { querystring: doc(d.querystring) } : {}),
      ...(d.params ? { params: doc(d.params) } : {}),
      ...(d.body ? { body: doc(d.body) } : {}),
      ...(route.schema ?? {}),
    } as FastifySchema;
    route.validatorCompiler = ({ httpPart }) => {
      const zs = d[(httpPart ?? '') as keyof Parts];
      return (data: unknown) => {
        if (!zs) return { value: data };
        const r = zs.safeParse(data ?? undefined);
        return r.success ? { value: r.data } : { error: badRequest(httpPart ?? 'input', r.error) };
      };
    };
  });
  // Who may call is settled before the input is judged: a stranger learns 401, not 400.
  app.addHook('preValidation', async (req) => {
    scopes.set(req, access(principalOf(req)));
  });
  // The shared `{ error, message, details }` for what the handlers throw and for what fastify
  // rejects before they run (bad JSON, wrong content type, body too large).
  app.setErrorHandler((err, req, reply) => {
    const r = errorResponse(err);
    if (r.log === 'error') req.log.error({ err }, 'webhook route failed');
    return reply.code(r.status).headers(r.headers).send(r.body);
  });

  async function ownedSubscription(req: FastifyRequest): Promise<Subscription> {
    const scope = scopeOf(req);
    const { id } = req.params as z.output<typeof idParams>;
    const sub = await store.getSubscription(id);
    // Another merchant's subscription is "not found": its existence is not theirs to learn.
    if (!sub || (scope.merchantId !== undefined && sub.merchantId !== scope.merchantId)) {
      throw noSuch('subscription', id);
    }
    return sub;
  }

  async function ownedDelivery(req: FastifyRequest): Promise<Delivery> {
    const scope = scopeOf(req);
    const { id } = req.params as z.output<typeof idParams>;
    const d = await store.getDelivery(id);
    if (!d || (scope.merchantId !== undefined && d.merchantId !== scope.merchantId)) {
      throw noSuch('delivery', id);
    }
    return d;
  }

  function checkUrlAllowed(url: string): void {
    const d = checkUrl(url, guard);
    if (!d.allowed) throw invalidField('body', 'url', `url refused: ${d.reason}`);
  }

  app.get('/webhooks/subscriptions', async (req) => {
    const scope = scopeOf(req);
    const q = req.query as z.output<typeof listSubsQuery>;
    ownOnly(scope, q.merchantId, 'merchants see only their own');
    const merchantId = scope.merchantId ?? q.merchantId;
    const subs = await store.listSubscriptions(merchantId ? { merchantId } : {});
    return { items: subs.map(subscriptionView) };
  });

  app.post('/webhooks/subscriptions', async (req, reply) => {
    const scope = scopeOf(req);
    const body = req.body as z.output<typeof createBody>;
    ownOnly(scope, body.merchantId, 'a merchant can subscribe only for itself');
    const merchantId = scope.merchantId ?? body.merchantId;
    if (!merchantId) throw invalidField('body', 'merchantId', 'required for admins');
    checkUrlAllowed(body.url);
    const at = new Date(now()).toISOString();
    const secret = body.secret ?? generateSecret();
    const sub: Subscription = {
      id: `sub_${randomBytes(12).toString('base64url')}`,
      merchantId,
      url: body.url,
      ...(body.description !== undefined ? { description: body.description } : {}),
      rules: body.rules,
      severities: body.severities,
      language: body.language,
      secrets: [{ secret, createdAt: at }],
      enabled: body.enabled,
      createdAt: at,
      updatedAt: at,
    };
    await serially(merchantId, async () => {
      const held = (await store.listSubscriptions({ merchantId })).length;
      if (held >= maxSubs) {
        throw conflict(
          `merchant ${merchantId} already has ${held} webhook subscriptions, the most allowed ` +
            `(${maxSubs}): delete one, or point an existing one at the new URL`,
        );
      }
      await store.putSubscription(sub);
    });
    return reply.code(201).send({ ...subscriptionView(sub), secret });
  });

  app.get('/webhooks/subscriptions/:id', async (req) =>
    subscriptionView(await ownedSubscription(req)),
  );

  app.get('/webhooks/subscriptions/:id/secret', async (req) => {
    const sub = await ownedSubscription(req);
    const t = now();
    return {
      secrets: sub.secrets
        .filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > t)
        .map((s) => ({ secret: s.secret, createdAt: s.createdAt, expiresAt: s.expiresAt ?? null })),
    };
  });

  app.patch('/webhooks/subscriptions/:id', async (req) => {
    const sub = await ownedSubscription(req);
    const body = req.body as z.output<typeof patchBody>;
    if (body.url !== undefined) checkUrlAllowed(body.url);
    const next: Subscription = {
      ...sub,
      ...Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)),
      updatedAt: new Date(now()).toISOString(),
    };
    if (body.enabled === true) delete next.disabledReason;
    if (body.enabled === false) next.disabledReason = 'disabled by user';
    await store.putSubscription(next);
    return subscriptionView(next);
  });

  app.delete('/webhooks/subscriptions/:id', async (req, reply) => {
    const sub = await ownedSubscription(req);
    await store.deleteSubscription(sub.id);
    return reply.code(204).send();
  });

  app.post('/webhooks/subscriptions/:id/rotate-secret', async (req) => {
    const sub = await ownedSubscription(req);
    const body = req.body as z.output<typeof rotateBody>;
    const t = now();
    const at = new Date(t).toISOString();
    const until = new Date(t + body.overlapSeconds * 1000).toISOString();
    const secret = generateSecret();
    // Old secrets keep signing until the overlap ends (never later than an earlier expiry).
    const old = sub.secrets
      .filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > t)
      .map((s) => ({ ...s, expiresAt: s.expiresAt && s.expiresAt < until ? s.expiresAt : until }));
    const next: Subscription = {
      ...sub,
      secrets: [{ secret, createdAt: at }, ...old],
      updatedAt: at,
    };
    await store.putSubscription(next);
    return { id: sub.id, secret, previousSecretsExpireAt: old.length ? until : null };
  });

  app.get('/webhooks/deliveries', async (req) => {
    const scope = scopeOf(req);
    const q = req.query as z.output<typeof deliveriesQuery>;
    ownOnly(scope, q.merchantId, 'merchants see only their own');
    const merchantId = scope.merchantId ?? q.merchantId;
    const list = await store.listDeliveries({
      ...(merchantId ? { merchantId } : {}),
      ...(q.subscriptionId ? { subscriptionId: q.subscriptionId } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.since ? { since: Date.parse(q.since) } : {}),
      limit: q.limit,
    });
    const items = await Promise.all(
      list.map(async (d) => deliveryView(d, await store.listAttempts(d.id))),
    );
    return { items };
  });

  app.get('/webhooks/deliveries/:id', async (req) => {
    const d = await ownedDelivery(req);
    return deliveryView(d, await store.listAttempts(d.id));
  });

  app.post('/webhooks/deliveries/:id/replay', async (req, reply) => {
    const d = await ownedDelivery(req);
    const sub = await store.getSubscription(d.subscriptionId);
    if (!sub || !sub.enabled) {
      throw conflict(
        sub
          ? `subscription ${sub.id} is disabled (${sub.disabledReason ?? 'by user'}): enable it first`
          : `subscription ${d.subscriptionId} no longer exists`,
      );
    }
    if (d.status === 'pending') return reply.code(202).send({ replayed: 0, ids: [] });
    await store.updateDeliveries([requeued(d, now())]);
    return reply.code(202).send({ replayed: 1, ids: [d.id] });
  });

  app.post('/webhooks/replay', async (req, reply) => {
    const scope = scopeOf(req);
    const body = req.body as z.output<typeof replayBody>;
    ownOnly(scope, body.merchantId, 'merchants replay only their own');
    const merchantId = scope.merchantId ?? body.merchantId;
    const subs = await store.listSubscriptions(merchantId ? { merchantId } : {});
    const enabled = new Set(subs.filter((s) => s.enabled).map((s) => s.id));
    const list = (
      await store.listDeliveries({
        ...(merchantId ? { merchantId } : {}),
        ...(body.subscriptionId ? { subscriptionId: body.subscriptionId } : {}),
        status: body.status,
        since: Date.parse(body.since),
      })
    ).filter((d) => enabled.has(d.subscriptionId));
    const slice = list.slice(0, MAX_REPLAY);
    const t = now();
    await store.updateDeliveries(slice.map((d) => requeued(d, t)));
    return reply.code(202).send({
      replayed: slice.length,
      remaining: list.length - slice.length,
      ids: slice.map((d) => d.id),
    });
  });
};

/**
 * REST for webhook subscriptions, the delivery log and replay. Needs the gateway's auth to
 * have decorated `request.principal` ({ role, merchantId? }); merchants see and touch only their
 * own, admins everything, analysts and SREs nothing. Errors are the shared
 * `{ error, message, details }` of @tillwatch/contracts (api-errors.ts), as the gateway's own.
 */
export const webhookRoutes = fp(routes, {
  name: '@tillwatch/webhooks/routes',
  fastify: '5.x',
  decorators: { request: ['principal'] },
  encapsulate: true,
});
