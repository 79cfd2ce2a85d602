import { RULE_IDS, SCOPES, silenceRecurrenceSchema } from '@tillwatch/contracts';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { notFound } from '../errors';
import type { GatewayStore, SilenceInput } from '../store';
import { defineRoute, idParam, isoTimeField } from './define';
import { STAFF } from './scope';

/** What a silence mutes: every given field must equal the alert's. */
export const silenceMatchersSchema = z.strictObject({
  rule: z.enum(RULE_IDS).optional(),
  scope: z.enum(SCOPES).optional(),
  key: idParam.optional(),
  merchantId: idParam.optional(),
  region: idParam.optional(),
});

const silenceBody = z
  .strictObject({
    matchers: silenceMatchersSchema.refine(
      (m) => Object.keys(m).length > 0,
      'at least one matcher: a silence that mutes everything is a mistake',
    ),
    startsAt: isoTimeField.optional(),
    endsAt: isoTimeField,
    /** a daily window within the range: e.g. 02:00-04:00 at +08:00 on days 1-5 (Mon-Fri) */
    recurring: silenceRecurrenceSchema.optional(),
    comment: z.string().trim().min(1).max(500),
  })
  .refine((s) => s.startsAt === undefined || Date.parse(s.endsAt) > Date.parse(s.startsAt), {
    message: 'endsAt must be after startsAt',
    path: ['endsAt'],
  });
const silenceParams = z.strictObject({ id: z.uuid() });

function toInput(b: z.output<typeof silenceBody>, now: number): SilenceInput {
  return {
    matchers: b.matchers,
    startsAt: b.startsAt ?? new Date(now).toISOString(),
    endsAt: b.endsAt,
    ...(b.recurring ? { recurring: b.recurring } : {}),
    comment: b.comment,
  };
}

/** Silences are staff-only: they mute rules fleet-wide (e.g. a planned maintenance window). */
export const silenceRoutes = fp<{ store: GatewayStore }>(
  async (app, { store }) => {
    defineRoute(app, {
      method: 'GET',
      url: '/api/silences',
      summary: 'Silences (active=true: only those in force now)',
      tags: ['silences'],
      access: STAFF,
      query: z.strictObject({ active: z.enum(['true', 'false']).default('false') }),
      handler: async ({ query }) => ({
        silences: await store.listSilences(query.active === 'true' ? { activeAt: Date.now() } : {}),
      }),
    });
    defineRoute(app, {
      method: 'POST',
      url: '/api/silences',
      summary: 'Create a silence',
      tags: ['silences'],
      access: STAFF,
      body: silenceBody,
      handler: async ({ body, principal }, reply) => {
        reply.code(201);
        return store.createSilence(toInput(body, Date.now()), principal.id);
      },
    });
    defineRoute(app, {
      method: 'GET',
      url: '/api/silences/:id',
      summary: 'One silence',
      tags: ['silences'],
      access: STAFF,
      params: silenceParams,
      handler: async ({ params }) =>
        (await store.getSilence(params.id)) ?? Promise.reject(notFound(`silence ${params.id}`)),
    });
    defineRoute(app, {
      method: 'PUT',
      url: '/api/silences/:id',
      summary: 'Replace a silence',
      tags: ['silences'],
      access: STAFF,
      params: silenceParams,
      body: silenceBody,
      handler: async ({ params, body }) =>
        (await store.updateSilence(params.id, toInput(body, Date.now()))) ??
        Promise.reject(notFound(`silence ${params.id}`)),
    });
    defineRoute(app, {
      method: 'DELETE',
      url: '/api/silences/:id',
      summary: 'Delete a silence',
      tags: ['silences'],
      access: STAFF,
      params: silenceParams,
      handler: async ({ params }, reply) => {
        if (!(await store.deleteSilence(params.id))) throw notFound(`silence ${params.id}`);
        reply.code(204);
        return null;
      },
    });
  },
  { name: 'tw-silences', dependencies: ['tw-auth'] },
);
