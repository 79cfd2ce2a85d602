import { z } from 'zod';
import { LANGUAGES, RULE_IDS, SEVERITIES, isoTimeField, isoTimeParam } from '@tillwatch/contracts';
import { isValidSecret } from './signing';

// Inputs of the webhook routes: zod schemas, enforced and documented from one definition.

const ID = /^[A-Za-z0-9_.:-]{1,32}$/;
const merchantIdSchema = z.string().regex(ID, '1..32 chars of [A-Za-z0-9_.:-]');
const urlSchema = z.string().min(1).max(2048);
const rulesSchema = z.array(z.enum(RULE_IDS)).max(RULE_IDS.length);
const severitiesSchema = z.array(z.enum(SEVERITIES)).max(SEVERITIES.length);

export const createBody = z.strictObject({
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
export const patchBody = z.strictObject({
  url: urlSchema.optional(),
  description: z.string().max(200).optional(),
  rules: rulesSchema.optional(),
  severities: severitiesSchema.optional(),
  language: z.enum(LANGUAGES).optional(),
  enabled: z.boolean().optional(),
});
export const rotateBody = z
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
export const listSubsQuery = z.strictObject({ merchantId: merchantIdSchema.optional() });
export const idParams = z.strictObject({ id: z.string().min(1).max(64) });
export const deliveriesQuery = z.strictObject({
  merchantId: merchantIdSchema.optional(),
  subscriptionId: z.string().max(64).optional(),
  status: z.enum(['pending', 'delivered', 'dead', 'cancelled']).optional(),
  since: isoTimeParam.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const replayBody = z.strictObject({
  since: isoTimeField,
  merchantId: merchantIdSchema.optional(),
  subscriptionId: z.string().max(64).optional(),
  /** Which finished deliveries to send again; default dead ones. */
  status: z.enum(['delivered', 'dead', 'cancelled']).default('dead'),
});

/** One replay request re-queues at most this many: a bigger backlog is replayed in slices. */
export const MAX_REPLAY = 10_000;

/** zod → JSON Schema (OpenAPI 3.0) for /docs; validation itself stays with zod. */
export function doc(s: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(s, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
}

export type Parts = { querystring?: z.ZodType; params?: z.ZodType; body?: z.ZodType };

/**
 * Every route's summary and zod schemas, keyed by method and path inside the plugin: they are
 * documented (OpenAPI) and enforced (the route's validator) from this one definition.
 */
export const DOCS: Record<string, { summary: string } & Parts> = {
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
