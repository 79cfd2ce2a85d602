import { qualityReport } from '@tillwatch/contracts';
import fp from 'fastify-plugin';
import { z } from 'zod';
import type { GatewayStore } from '../store';
import { defineRoute } from './define';
import { boundMerchant, READERS } from './scope';

const DAY_MS = 86_400_000;

/**
 * GET /api/quality: per rule, the alert episodes raised in the last `days` days and the
 * analysts' verdicts on them; precision = true / (true + false), `expected` counted apart
 * (@tillwatch/contracts quality.ts holds the arithmetic). The period is the gateway's wall
 * clock against each episode's firstSeen (event time), its start rounded down to the second
 * as ClickHouse's DateTime holds it, so both stores count the same episodes. A merchant key
 * counts only its own alerts, bounded in the store query as every alert read is.
 */
export const qualityRoutes = fp<{ store: GatewayStore; now?: () => number }>(
  async (app, { store, now = Date.now }) => {
    defineRoute(app, {
      method: 'GET',
      url: '/api/quality',
      summary: 'Per-rule precision from the analysts’ verdicts on closed alerts',
      tags: ['alerts'],
      access: READERS,
      query: z.strictObject({
        days: z.coerce
          .number({ error: 'days must be a whole number from 1 to 365' })
          .int('days must be a whole number from 1 to 365')
          .min(1, 'days must be a whole number from 1 to 365')
          .max(365, 'days must be a whole number from 1 to 365')
          .default(30),
      }),
      handler: async ({ query, principal }) => {
        const until = now();
        const since = Math.floor((until - query.days * DAY_MS) / 1000) * 1000;
        const own = boundMerchant(principal);
        const counts = await store.ruleVerdicts({
          since,
          ...(own !== undefined ? { merchantId: own } : {}),
        });
        return qualityReport({ days: query.days, since, until, counts });
      },
    });
  },
  { name: 'tw-quality', dependencies: ['tw-auth'] },
);
