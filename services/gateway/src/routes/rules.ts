import fp from 'fastify-plugin';
import { z } from 'zod';
import { ApiError, conflict } from '../errors';
import {
  RulesEditError,
  rulesEditSchema,
  rulesFileSchema,
  rulesReportSchema,
  type RulesInForce,
} from '../rules-in-force';
import { defineRoute } from './define';
import { STAFF } from './scope';

const ADMIN = ['admin'] as const;

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

    // Editing: admins, on the RULES_FILE the processor follows (it reloads an edit by itself).
    defineRoute(app, {
      method: 'GET',
      url: '/api/rules/file',
      summary: 'The rules file as it is: its text and the sha256 an edit starts from (admin)',
      tags: ['rules'],
      access: ADMIN,
      query: z.strictObject({}),
      response: rulesFileSchema,
      handler: async () => {
        const view = rules.fileView();
        if (!view) throw conflict('no RULES_FILE: the shipped defaults are in force');
        return view;
      },
    });
    defineRoute(app, {
      method: 'PUT',
      url: '/api/rules/file',
      summary:
        'Replace the rules file (admin): refused with the reason unless valid, and unless the file is still the one read (base = its sha256)',
      tags: ['rules'],
      access: ADMIN,
      body: z.strictObject({
        text: z.string().max(256 * 1024),
        base: z.string().regex(/^[0-9a-f]{64}$/, 'the sha256 of the text the edit started from'),
      }),
      response: rulesEditSchema,
      handler: async ({ body, principal }) => {
        try {
          return rules.edit(body.text, body.base, principal.id);
        } catch (e) {
          if (!(e instanceof RulesEditError)) throw e;
          if (e.kind === 'conflict') throw conflict(e.message);
          throw new ApiError(400, 'bad_request', e.message, [
            { in: 'body', path: 'text', message: e.message, code: 'custom' },
          ]);
        }
      },
    });
    defineRoute(app, {
      method: 'GET',
      url: '/api/rules/history',
      summary: 'Edits of the rules file made here, newest first (staff)',
      tags: ['rules'],
      access: STAFF,
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      handler: async ({ query }) => ({ edits: rules.history(query.limit) }),
    });
  },
  { name: 'tw-rules', dependencies: ['tw-auth'] },
);
