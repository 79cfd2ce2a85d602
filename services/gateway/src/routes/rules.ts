import fp from 'fastify-plugin';
import { z } from 'zod';
import { rulesReportSchema, type RulesInForce } from '../rules-in-force';
import { defineRoute } from './define';
import { STAFF } from './scope';

/**
 * GET /api/rules: the effective rules (RULES_FILE over the defaults, as the processor runs
 * them): per rule its enabled flag, severity, windows, thresholds and early test as
 * configured, the rules it folds in, and the guides' probable causes and actions in Chinese
 * and English. The thresholds are the operator's, not a merchant's business: staff only.
 */
export const rulesRoutes = fp<{ rules: RulesInForce }>(
  async (app, { rules }) => {
    defineRoute(app, {
      method: 'GET',
      url: '/api/rules',
      summary: 'The rules in force: thresholds, windows, probable causes and actions',
      tags: ['rules'],
      access: STAFF,
      query: z.strictObject({}),
      response: rulesReportSchema,
      handler: async () => rulesReportSchema.parse(rules.report()),
    });
  },
  { name: 'tw-rules', dependencies: ['tw-auth'] },
);
