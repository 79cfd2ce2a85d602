import fp from 'fastify-plugin';
import { z } from 'zod';
import { TrafficPlan, trafficReport, type TrafficZones } from '../region-traffic';
import type { GatewayStore } from '../store';
import { defineRoute } from './define';
import { STAFF } from './scope';

/**
 * GET /api/regions/traffic: each region's auths in the last hour (to the last whole minute the
 * store has every auth of: ClickHouse's region rows trail the events by the processor's allowed
 * lateness, so for a few seconds after a minute the hour ends one minute earlier) against its normal for this hour, the mean of the same local hour on the previous 7 days
 * that have any (null when none has), with 12 five-minute buckets of both for a sparkline.
 * Regions mix merchants: staff only.
 */
export const trafficRoutes = fp<{ store: GatewayStore; zones: TrafficZones; now?: () => number }>(
  async (app, { store, zones, now = Date.now }) => {
    defineRoute(app, {
      method: 'GET',
      url: '/api/regions/traffic',
      summary:
        'Each region’s traffic in the last hour against its normal for this hour, with a sparkline',
      tags: ['rates'],
      access: STAFF,
      query: z.strictObject({}),
      handler: async () => {
        const at = now();
        const plan = new TrafficPlan(
          store.regionTrafficUpTo ? await store.regionTrafficUpTo(at) : at,
          zones,
        );
        const counts = await store.regionAuths({
          starts: plan.starts(),
          spanMs: plan.spanMs,
          bucketMs: plan.bucketMs,
        });
        return trafficReport(plan, counts);
      },
    });
  },
  { name: 'tw-traffic', dependencies: ['tw-auth'] },
);
