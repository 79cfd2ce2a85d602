import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { LANGUAGES, RULE_IDS, SEVERITIES, describeIssues } from '@tillwatch/contracts';
import { checkUrl, type GuardOptions } from './address-guard';
import { generateSecret, isValidSecret } from './signing';
import type { DeliveryQueue, SubscriptionStore } from './store';
import type { Delivery, DeliveryAttempt, Principal, Subscription } from './types';

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
  now?: () => number;
}

const ID = /^[A-Za-z0-9_.:-]{1,32}$/;
const merchantIdSchema = z.string().regex(ID, '1..32 chars of [A-Za-z0-9_.:-]');
const urlSchema = z.string().min(1).max(2048);
const rulesSchema = z.array(z.enum(RULE_IDS)).max(RULE_IDS.length);
const severitiesSchema = z.array(z.enum(SEVERITIES)).max(SEVERITIES.length);

const createBody = z.strictObject({
  merchantId: merchantIdSchema.optional(),
  url: urlSchema,
  description: z.string().max(200).optional(),
  rules: rulesSchema.default([]),
  severities: severitiesSchema.default([]),
  language: z.enum(LANGUAGES).default('en'),
  enabled: z.boolean().default(true),
  /** Bring your own `whsec_` secret (e.g. moving from another sender); else one is generated. */
  secret: z.string().refine(isValidSecret, 'whsec_ + base64 of 24..64 bytes').optional(),
});
const patchBody = z.strictObject({
  url: urlSchema.optional(),
  description: z.string().max(200).optional(),
  rules: rulesSchema.optional(),
  severities: severitiesSchema.optional(),
  language: z.enum(LANGUAGES).optional(),
  enabled: z.boolean().optional(),
});
const rotateBody = z
  .strictObject({
    /** How long the old secret keeps signing beside the new one. Default 24 h, at most 7 d. */
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(86_400),
  })
  .default({ overlapSeconds: 86_400 });
const listSubsQuery = z.strictObject({ merchantId: merchantIdSchema.optional() });
const idParams = z.strictObject({ id: z.string().min(1).max(64) });
const isoTime = z.iso.datetime({ offset: true });
const deliveriesQuery = z.strictObject({
  merchantId: merchantIdSchema.optional(),
  subscriptionId: z.string().max(64).optional(),
  status: z.enum(['pending', 'delivered', 'dead', 'cancelled']).optional(),
  since: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const replayBody = z.strictObject({
  since: isoTime,
  merchantId: merchantIdSchema.optional(),
  subscriptionId: z.string().max(64).optional(),
  /** Which finished deliveries to send again; default dead ones. */
  status: z.enum(['delivered', 'dead', 'cancelled']).default('dead'),
});

/** One replay request re-queues at most this many: a bigger backlog is replayed in slices. */
const MAX_REPLAY = 10_000;

type ErrorBody = { error: string; message: string; details?: unknown };
function fail(reply: FastifyReply, status: number, body: ErrorBody) {
  return reply.code(status).send({ details: null, ...body });
}

function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  reply: FastifyReply,
  where: string,
): z.infer<S> | undefined {
  const r = schema.safeParse(value ?? undefined);
  if (r.success) return r.data;
  void fail(reply, 400, {
    error: 'invalid_request',
    message: `invalid ${where}: ${describeIssues(r.error)}`,
    details: r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
  });
  return undefined;
}

/** What the caller may see: all merchants (admin) or one. Sends 401/403 and returns undefined. */
function access(
  principal: Principal | null | undefined,
  reply: FastifyReply,
): { merchantId?: string } | undefined {
  if (!principal) {
    void fail(reply, 401, { error: 'unauthorized', message: 'authentication required' });
    return undefined;
  }
  if (principal.role === 'admin') return {};
  if (principal.role === 'merchant' && principal.merchantId) {
    return { merchantId: principal.merchantId };
  }
  void fail(reply, 403, {
    error: 'forbidden',
    message: 'webhook subscriptions are managed by merchants (their own) and admins',
  });
  return undefined;
}

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

/** zod → JSON Schema (OpenAPI 3.0) for /docs; validation itself stays with zod. */
function doc(s: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(s, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
}

const DOCS: Record<
  string,
  { summary: string; querystring?: z.ZodType; params?: z.ZodType; body?: z.ZodType }
> = {
  'GET /webhooks/subscriptions': {
    summary: 'List webhook subscriptions',
    querystring: listSubsQuery,
  },
  'POST /webhooks/subscriptions': {
    summary: 'Create a subscription (returns its secret)',
    body: createBody,
  },
  'GET /webhooks/subscriptions/:id': { summary: 'One subscription', params: idParams },
  'GET /webhooks/subscriptions/:id/secret': {
    summary: 'Its unexpired signing secrets',
    params: idParams,
  },
  'PATCH /webhooks/subscriptions/:id': {
    summary: 'Change a subscription',
    params: idParams,
    body: patchBody,
  },
  'DELETE /webhooks/subscriptions/:id': { summary: 'Delete a subscription', params: idParams },
  'POST /webhooks/subscriptions/:id/rotate-secret': {
    summary: 'New secret; the old one keeps signing during the overlap',
    params: idParams,
    body: rotateBody,
  },
  'GET /webhooks/deliveries': {
    summary: 'Deliveries with their attempt log',
    querystring: deliveriesQuery,
  },
  'GET /webhooks/deliveries/:id': {
    summary: 'One delivery with its attempt log',
    params: idParams,
  },
  'POST /webhooks/deliveries/:id/replay': { summary: 'Send one delivery again', params: idParams },
  'POST /webhooks/replay': { summary: 'Send again everything since a time', body: replayBody },
};

const routes: FastifyPluginAsync<WebhookRoutesOptions> = async (app, opts) => {
  const { store } = opts;
  const routeConfig = opts.routeConfig ?? { access: ['merchant', 'admin'] };
  // Documentation and access for every route below (this context only). Schemas feed the
  // OpenAPI document; the handlers validate with zod, so fastify's own validator passes data
  // through untouched.
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const d = DOCS[`${methods[0]} ${route.url}`];
    route.config = { ...routeConfig, ...(route.config ?? {}) } as typeof route.config;
    if (!d) return;
    route.schema = {
      summary: d.summary,
      tags: ['webhooks'],
      security: opts.openapiSecurity ?? [{ bearer: [] }],
      ...(d.querystring ? { querystring: doc(d.querystring) } : {}),
      ...(d.params ? { params: doc(d.params) } : {}),
      ...(d.body ? { body: doc(d.body) } : {}),
      ...(route.schema ?? {}),
    } as FastifySchema;
  });
  const guard = opts.guard ?? {};
  const now = opts.now ?? Date.now;
  const principalOf =
    opts.getPrincipal ??
    ((req: FastifyRequest) => (req as unknown as { principal?: Principal | null }).principal);

  // Our own error shape for what fastify rejects before a handler runs (bad JSON, wrong
  // content type, body too large); the plugin is encapsulated, so this touches no other route.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    void fail(reply, status, {
      error: status === 500 ? 'internal' : 'invalid_request',
      message: status === 500 ? 'internal error' : err.message,
      details: err.code ? { code: err.code } : null,
    });
  });

  async function ownedSubscription(req: FastifyRequest, reply: FastifyReply) {
    const scope = access(principalOf(req), reply);
    if (!scope) return undefined;
    const params = parse(idParams, req.params, reply, 'path');
    if (!params) return undefined;
    const sub = await store.getSubscription(params.id);
    // Another merchant's subscription is "not found": its existence is not theirs to learn.
    if (!sub || (scope.merchantId !== undefined && sub.merchantId !== scope.merchantId)) {
      void fail(reply, 404, { error: 'not_found', message: `no subscription ${params.id}` });
      return undefined;
    }
    return sub;
  }

  function urlRefused(url: string, reply: FastifyReply): boolean {
    const d = checkUrl(url, guard);
    if (d.allowed) return false;
    void fail(reply, 400, {
      error: 'invalid_request',
      message: `url refused: ${d.reason}`,
      details: [{ path: ['url'], message: d.reason }],
    });
    return true;
  }

  app.get('/webhooks/subscriptions', async (req, reply) => {
    const scope = access(principalOf(req), reply);
    if (!scope) return reply;
    const q = parse(listSubsQuery, req.query, reply, 'query');
    if (!q) return reply;
    const merchantId = scope.merchantId ?? q.merchantId;
    if (scope.merchantId && q.merchantId && q.merchantId !== scope.merchantId) {
      return fail(reply, 403, { error: 'forbidden', message: 'merchants see only their own' });
    }
    const subs = await store.listSubscriptions(merchantId ? { merchantId } : {});
    return { items: subs.map(subscriptionView) };
  });

  app.post('/webhooks/subscriptions', async (req, reply) => {
    const scope = access(principalOf(req), reply);
    if (!scope) return reply;
    const body = parse(createBody, req.body, reply, 'body');
    if (!body) return reply;
    let merchantId = body.merchantId;
    if (scope.merchantId) {
      if (merchantId && merchantId !== scope.merchantId) {
        return fail(reply, 403, {
          error: 'forbidden',
          message: 'a merchant can subscribe only for itself',
        });
      }
      merchantId = scope.merchantId;
    }
    if (!merchantId) {
      return fail(reply, 400, {
        error: 'invalid_request',
        message: 'merchantId is required',
        details: [{ path: ['merchantId'], message: 'required for admins' }],
      });
    }
    if (urlRefused(body.url, reply)) return reply;
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
    await store.putSubscription(sub);
    return reply.code(201).send({ ...subscriptionView(sub), secret });
  });

  app.get('/webhooks/subscriptions/:id', async (req, reply) => {
    const sub = await ownedSubscription(req, reply);
    return sub ? subscriptionView(sub) : reply;
  });

  app.get('/webhooks/subscriptions/:id/secret', async (req, reply) => {
    const sub = await ownedSubscription(req, reply);
    if (!sub) return reply;
    const t = now();
    return {
      secrets: sub.secrets
        .filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > t)
        .map((s) => ({ secret: s.secret, createdAt: s.createdAt, expiresAt: s.expiresAt ?? null })),
    };
  });

  app.patch('/webhooks/subscriptions/:id', async (req, reply) => {
    const sub = await ownedSubscription(req, reply);
    if (!sub) return reply;
    const body = parse(patchBody, req.body, reply, 'body');
    if (!body) return reply;
    if (body.url !== undefined && urlRefused(body.url, reply)) return reply;
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
    const sub = await ownedSubscription(req, reply);
    if (!sub) return reply;
    await store.deleteSubscription(sub.id);
    return reply.code(204).send();
  });

  app.post('/webhooks/subscriptions/:id/rotate-secret', async (req, reply) => {
    const sub = await ownedSubscription(req, reply);
    if (!sub) return reply;
    const body = parse(rotateBody, req.body, reply, 'body');
    if (!body) return reply;
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

  app.get('/webhooks/deliveries', async (req, reply) => {
    const scope = access(principalOf(req), reply);
    if (!scope) return reply;
    const q = parse(deliveriesQuery, req.query, reply, 'query');
    if (!q) return reply;
    if (scope.merchantId && q.merchantId && q.merchantId !== scope.merchantId) {
      return fail(reply, 403, { error: 'forbidden', message: 'merchants see only their own' });
    }
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

  app.get('/webhooks/deliveries/:id', async (req, reply) => {
    const scope = access(principalOf(req), reply);
    if (!scope) return reply;
    const params = parse(idParams, req.params, reply, 'path');
    if (!params) return reply;
    const d = await store.getDelivery(params.id);
    if (!d || (scope.merchantId !== undefined && d.merchantId !== scope.merchantId)) {
      return fail(reply, 404, { error: 'not_found', message: `no delivery ${params.id}` });
    }
    return deliveryView(d, await store.listAttempts(d.id));
  });

  app.post('/webhooks/deliveries/:id/replay', async (req, reply) => {
    const scope = access(principalOf(req), reply);
    if (!scope) return reply;
    const params = parse(idParams, req.params, reply, 'path');
    if (!params) return reply;
    const d = await store.getDelivery(params.id);
    if (!d || (scope.merchantId !== undefined && d.merchantId !== scope.merchantId)) {
      return fail(reply, 404, { error: 'not_found', message: `no delivery ${params.id}` });
    }
    const sub = await store.getSubscription(d.subscriptionId);
    if (!sub || !sub.enabled) {
      return fail(reply, 409, {
        error: 'conflict',
        message: sub
          ? `subscription ${sub.id} is disabled (${sub.disabledReason ?? 'by user'}): enable it first`
          : `subscription ${d.subscriptionId} no longer exists`,
      });
    }
    if (d.status === 'pending') return reply.code(202).send({ replayed: 0, ids: [] });
    await store.updateDeliveries([requeued(d, now())]);
    return reply.code(202).send({ replayed: 1, ids: [d.id] });
  });

  app.post('/webhooks/replay', async (req, reply) => {
    const scope = access(principalOf(req), reply);
    if (!scope) return reply;
    const body = parse(replayBody, req.body, reply, 'body');
    if (!body) return reply;
    if (scope.merchantId && body.merchantId && body.merchantId !== scope.merchantId) {
      return fail(reply, 403, { error: 'forbidden', message: 'merchants replay only their own' });
    }
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
 * own, admins everything, analysts and SREs nothing. Errors are `{ error, message, details }`.
 */
export const webhookRoutes = fp(routes, {
  name: '@tillwatch/webhooks/routes',
  fastify: '5.x',
  decorators: { request: ['principal'] },
  encapsulate: true,
});
