import fp from 'fastify-plugin';
import { CATEGORIES } from '@tillwatch/contracts';
import { z } from 'zod';
import { notFound } from '../errors';
import { RANK_METRICS, RATE_SCOPES, type GatewayStore } from '../store';
import type { Broadcaster } from '../socket';
import { defineRoute, idParam, timeParam, windowParam } from './define';
import { boundMerchant, READERS, requireMerchantScope, requireOwnMerchant } from './scope';

export const ratesRoutes = fp<{ store: GatewayStore; broadcaster: Broadcaster }>(
  async (app, { store, broadcaster }) => {
    defineRoute(app, {
      method: 'GET',
      url: '/api/rates',
      summary: 'Current rates by scope and window',
      tags: ['rates'],
      access: READERS,
      query: z.strictObject({
        scope: z.enum(RATE_SCOPES).optional(),
        window: windowParam.optional(),
        key: idParam.or(z.literal('*')).optional(),
        merchantId: idParam.optional(),
        region: idParam.optional(),
        limit: z.coerce.number().int().min(1).max(10_000).default(2000),
      }),
      handler: async ({ query, principal }) => {
        requireMerchantScope(principal, query.scope);
        requireOwnMerchant(principal, query.merchantId);
        if (query.scope === 'merchant') requireOwnMerchant(principal, query.key);
        const own = boundMerchant(principal);
        const rows = await store.currentRates({ ...query, ...(own ? { merchantId: own } : {}) });
        return { rows };
      },
    });

    defineRoute(app, {
      method: 'GET',
      url: '/api/series',
      summary: 'Time series of one terminal, merchant or region (one window)',
      tags: ['rates'],
      access: READERS,
      query: z.strictObject({
        scope: z.enum(RATE_SCOPES),
        key: idParam.or(z.literal('*')),
        window: windowParam.default('1m'),
        since: timeParam.optional(),
        until: timeParam.optional(),
      }),
      handler: async ({ query, principal }) => {
        requireMerchantScope(principal, query.scope);
        if (query.scope === 'merchant') requireOwnMerchant(principal, query.key);
        const own = boundMerchant(principal);
        const points = await store.series({ ...query, ...(own ? { merchantId: own } : {}) });
        if (!points) throw notFound(`series ${query.scope} ${query.key} (${query.window})`);
        return { scope: query.scope, key: query.key, window: query.window, points };
      },
    });

    defineRoute(app, {
      method: 'GET',
      url: '/api/events',
      summary:
        'The raw events of one terminal, merchant, region, issuer or software version, newest first (page back with `until`)',
      tags: ['rates'],
      access: READERS,
      query: z.strictObject({
        scope: z.enum(['terminal', 'merchant', 'region', 'issuer', 'firmware']),
        key: idParam,
        since: timeParam.optional(),
        until: timeParam.optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(200),
        // the transaction filters (all given must hold)
        code: z
          .string()
          .regex(/^[0-9A-Z]{2}$/, 'a two-character response code')
          .optional(),
        category: z.enum(CATEGORIES).optional(),
        type: z.enum(['auth', 'reversal', 'settlement', 'heartbeat']).optional(),
        card: z.string().min(1).max(128).optional(),
        issuer: idParam.optional(),
        minAmount: z.coerce.number().int().min(0).optional(),
        maxAmount: z.coerce.number().int().min(0).optional(),
      }),
      handler: async ({ query, principal }) => {
        requireMerchantScope(principal, query.scope);
        if (query.scope === 'merchant') requireOwnMerchant(principal, query.key);
        const own = boundMerchant(principal);
        const field = {
          terminal: 'terminalId',
          merchant: 'merchantId',
          region: 'region',
          issuer: 'issuerId',
          firmware: 'firmware',
        } as const;
        // a merchant key reads its own terminals only: another's terminal has no events for it
        const found = await store.rawEvents({
          limit: query.limit,
          [field[query.scope]]: query.key,
          ...(query.since !== undefined ? { since: query.since } : {}),
          ...(query.until !== undefined ? { until: query.until } : {}),
          ...(query.issuer !== undefined && query.scope !== 'issuer'
            ? { issuerId: query.issuer }
            : {}),
          ...(query.code !== undefined ? { responseCode: query.code } : {}),
          ...(query.category !== undefined ? { category: query.category } : {}),
          ...(query.type !== undefined ? { type: query.type } : {}),
          ...(query.card !== undefined ? { cardFingerprint: query.card } : {}),
          ...(query.minAmount !== undefined ? { minAmount: query.minAmount } : {}),
          ...(query.maxAmount !== undefined ? { maxAmount: query.maxAmount } : {}),
          ...(own ? { merchantId: own } : {}),
        });
        return found;
      },
    });

    defineRoute(app, {
      method: 'GET',
      url: '/api/top',
      summary: 'Top-N worst entities now (by fault rate unless told otherwise)',
      tags: ['rates'],
      access: READERS,
      query: z.strictObject({
        scope: z.enum(RATE_SCOPES).default('terminal'),
        window: windowParam.default('5m'),
        metric: z.enum(RANK_METRICS).default('faultRate'),
        n: z.coerce.number().int().min(1).max(500).default(10),
        minAuths: z.coerce.number().int().min(0).default(5),
        region: idParam.optional(),
        merchantId: idParam.optional(),
      }),
      handler: async ({ query, principal }) => {
        requireMerchantScope(principal, query.scope);
        requireOwnMerchant(principal, query.merchantId);
        const own = boundMerchant(principal);
        const rows = await store.top({ ...query, ...(own ? { merchantId: own } : {}) });
        return { rows };
      },
    });

    defineRoute(app, {
      method: 'GET',
      url: '/api/snapshot',
      summary:
        'Everything a board needs to (re)start: current rates of one window, recent alerts, seq per room',
      tags: ['rates'],
      access: READERS,
      query: z.strictObject({
        window: windowParam.default('1m'),
        alerts: z.coerce.number().int().min(0).max(1000).default(200),
      }),
      handler: async ({ query, principal }) => {
        const own = boundMerchant(principal);
        const [rows, alerts] = await Promise.all([
          store.currentRates({ window: query.window, ...(own ? { merchantId: own } : {}) }),
          store.listAlerts({ limit: query.alerts, ...(own ? { merchantId: own } : {}) }),
        ]);
        return {
          window: query.window,
          seq: broadcaster.seqFor(principal),
          rows,
          alerts: alerts.map(({ audit: _a, ...r }) => r),
        };
      },
    });
  },
  { name: 'tw-rates', dependencies: ['tw-auth'] },
);
