import fp from 'fastify-plugin';
import { z } from 'zod';
import { keyFingerprint, type ApiKeyEntry } from '../auth';
import { notFound } from '../errors';
import { managedKeyInputSchema, managedKeySchema, type ManagedKeyStore } from '../managed-keys';
import { defineRoute } from './define';

const ADMIN = ['admin'] as const;

/** A configured key as the admin screen lists it: never the key, only its fingerprint. */
const configuredKeySchema = z.object({
  role: z.string(),
  merchantId: z.string().optional(),
  name: z.string(),
  fingerprint: z.string(),
});

/**
 * API keys (admins): the configured ones (TILLWATCH_API_KEYS: listed, changed by a redeploy)
 * and those made here (made, listed, revoked; managed-keys.ts). A new key is in the answer to
 * its POST and nowhere else, ever.
 */
export const keyRoutes = fp<{ keys: ManagedKeyStore; configured: readonly ApiKeyEntry[] }>(
  async (app, { keys, configured }) => {
    defineRoute(app, {
      method: 'GET',
      url: '/api/keys',
      summary: 'API keys: the configured ones and those made here (admin; never the keys)',
      tags: ['keys'],
      access: ADMIN,
      query: z.strictObject({}),
      response: z.object({
        configured: z.array(configuredKeySchema),
        managed: z.array(managedKeySchema),
      }),
      handler: async () => ({
        configured: configured.map((e) => ({
          role: e.role,
          ...(e.merchantId ? { merchantId: e.merchantId } : {}),
          name: e.name ?? `${e.role}#${keyFingerprint(e.key)}`,
          fingerprint: keyFingerprint(e.key),
        })),
        managed: await keys.list(),
      }),
    });
    defineRoute(app, {
      method: 'POST',
      url: '/api/keys',
      summary: 'Make an API key (admin): the answer holds the key, this once',
      tags: ['keys'],
      access: ADMIN,
      body: managedKeyInputSchema,
      handler: async ({ body, principal }, reply) => {
        const { key, secret } = await keys.create(body, principal.id);
        reply.code(201);
        return { ...key, key: secret };
      },
    });
    defineRoute(app, {
      method: 'DELETE',
      url: '/api/keys/:id',
      summary: 'Revoke an API key made here (admin): refused from the next request on',
      tags: ['keys'],
      access: ADMIN,
      params: z.strictObject({ id: z.uuid() }),
      handler: async ({ params, principal }) =>
        (await keys.revoke(params.id, principal.id)) ??
        Promise.reject(notFound(`key ${params.id}`)),
    });
  },
  { name: 'tw-keys', dependencies: ['tw-auth'] },
);
