import {
  parseWindowLabel,
  RULE_IDS,
  SCOPES,
  SEVERITIES,
  VERDICTS,
  type Alert,
  type Verdict,
} from '@tillwatch/contracts';
import fp from 'fastify-plugin';
import { z } from 'zod';
import type { Principal } from '../auth';
import { notFound } from '../errors';
import {
  alertOwnedBy,
  type AlertActionInput,
  type AlertRecord,
  type GatewayStore,
  type RawEventsQuery,
} from '../store';
import { authorField, defineRoute, idParam, noteField, timeParam } from './define';
import { boundMerchant, READERS, requireOwnMerchant, STAFF } from './scope';

const alertIdParams = z.strictObject({
  alertId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.:@|-]+$/),
});

/** List view: the audit trail only comes with the detail. */
const summary = ({ audit, ...r }: AlertRecord) => ({ ...r, auditCount: audit.length });

export const alertRoutes = fp<{ store: GatewayStore }>(
  async (app, { store }) => {
    /** The alert if the caller may see it; 404 otherwise (a merchant never learns another's ids). */
    async function visible(alertId: string, p: Principal): Promise<AlertRecord> {
      const own = boundMerchant(p);
      // bound in the store query and checked again here: either alone keeps B's alert from A
      const rec = await store.getAlert(alertId, own !== undefined ? { merchantId: own } : {});
      if (!rec || (own !== undefined && !alertOwnedBy(rec.alert, own)))
        throw notFound(`alert ${alertId}`);
      return rec;
    }

    defineRoute(app, {
      method: 'GET',
      url: '/api/alerts',
      summary: 'Alerts, newest first, with filters',
      tags: ['alerts'],
      access: READERS,
      query: z.strictObject({
        status: z.enum(['firing', 'resolved']).optional(),
        rule: z.enum(RULE_IDS).optional(),
        scope: z.enum(SCOPES).optional(),
        severity: z.enum(SEVERITIES).optional(),
        merchantId: idParam.optional(),
        region: idParam.optional(),
        key: idParam.optional(),
        since: timeParam.optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      handler: async ({ query, principal }) => {
        requireOwnMerchant(principal, query.merchantId);
        const own = boundMerchant(principal);
        const recs = await store.listAlerts({ ...query, ...(own ? { merchantId: own } : {}) });
        return { alerts: recs.map(summary) };
      },
    });

    defineRoute(app, {
      method: 'GET',
      url: '/api/alerts/:alertId',
      summary: 'One alert with its workflow state and audit trail',
      tags: ['alerts'],
      access: READERS,
      params: alertIdParams,
      handler: async ({ params, principal }) => visible(params.alertId, principal),
    });

    defineRoute(app, {
      method: 'GET',
      url: '/api/alerts/:alertId/audit',
      summary: 'The audit trail of one alert: who did what, when',
      tags: ['alerts'],
      access: READERS,
      params: alertIdParams,
      handler: async ({ params, principal }) => ({
        audit: (await visible(params.alertId, principal)).audit,
      }),
    });

    defineRoute(app, {
      method: 'GET',
      url: '/api/alerts/:alertId/drilldown',
      summary: 'The raw transactions and response codes behind an alert',
      tags: ['alerts'],
      access: READERS,
      params: alertIdParams,
      query: z.strictObject({
        limit: z.coerce.number().int().min(1).max(1000).default(200),
        since: timeParam.optional(),
        until: timeParam.optional(),
        /** only the txnIds the alert's evidence names, when it names any */
        evidenceOnly: z
          .enum(['true', 'false'])
          .default('false')
          .transform((v) => v === 'true'),
      }),
      handler: async ({ params, query, principal }) => {
        const rec = await visible(params.alertId, principal);
        const q = drillQuery(rec.alert, query.limit, query.since, query.until, query.evidenceOnly);
        const own = boundMerchant(principal);
        if (own !== undefined) q.merchantId = own;
        return { alertId: rec.alert.alertId, query: q, ...(await store.rawEvents(q)) };
      },
    });

    const action = (
      kind: AlertActionInput['action'],
      path: string,
      body: z.ZodType,
      who: typeof READERS,
    ) =>
      defineRoute(app, {
        method: 'POST',
        url: `/api/alerts/:alertId/${path}`,
        summary: `${kind} an alert (recorded in its audit trail)`,
        tags: ['alerts'],
        access: who,
        params: alertIdParams,
        body,
        handler: async ({ params, body: b, principal }) => {
          await visible(params.alertId, principal);
          const input = b as {
            note?: string;
            author?: string;
            assignee?: string;
            verdict?: Verdict;
          };
          const own = boundMerchant(principal);
          const rec = await store.applyAction(
            params.alertId,
            {
              action: kind,
              actor: principal.id,
              role: principal.role,
              ...(input.author ? { author: input.author } : {}),
              ...(input.note ? { note: input.note } : {}),
              ...(input.assignee ? { assignee: input.assignee } : {}),
              ...(input.verdict ? { verdict: input.verdict } : {}),
            },
            own !== undefined ? { merchantId: own } : {},
          );
          if (!rec) throw notFound(`alert ${params.alertId}`);
          return rec;
        },
      });
    action(
      'acknowledge',
      'ack',
      z.strictObject({ note: noteField.optional(), author: authorField }),
      STAFF,
    );
    action(
      'assign',
      'assign',
      z.strictObject({
        assignee: z.string().trim().min(1).max(64),
        note: noteField.optional(),
        author: authorField,
      }),
      STAFF,
    );
    // merchants may record what they checked and did on their own alerts (the guides' record)
    action('note', 'notes', z.strictObject({ note: noteField, author: authorField }), READERS);
    // Closing asks for a verdict: it feeds the per-rule precision report (GET /api/quality).
    // Closing again with another verdict replaces it (latest wins, store.ts applyWorkflowAction).
    action(
      'resolve',
      'resolve',
      z.strictObject({
        verdict: z.enum(VERDICTS, {
          error: `a verdict is required to close an alert: one of ${VERDICTS.join(', ')}`,
        }),
        note: noteField.optional(),
        author: authorField,
      }),
      STAFF,
    );
  },
  { name: 'tw-alerts', dependencies: ['tw-auth'] },
);

/** Which raw events explain an alert: its scope's key over its window before firstSeen until now/lastSeen. */
export function drillQuery(
  a: Alert,
  limit: number,
  since?: number,
  until?: number,
  evidenceOnly = false,
): RawEventsQuery {
  let windowMs = 300_000;
  try {
    windowMs = parseWindowLabel(a.window);
  } catch {
    // schema already checked the label; keep 5 min if a unit is unknown
  }
  const q: RawEventsQuery = {
    limit,
    since: since ?? Date.parse(a.firstSeen) - windowMs,
    ...(until !== undefined
      ? { until }
      : a.status === 'resolved'
        ? { until: Date.parse(a.lastSeen) }
        : {}),
  };
  switch (a.scope) {
    case 'terminal':
      q.terminalId = a.key;
      break;
    case 'merchant':
      q.merchantId = a.key;
      break;
    case 'region':
      q.region = a.key;
      break;
    case 'firmware':
      q.firmware = a.key;
      break;
    case 'issuer':
      q.issuerId = a.key;
      break;
  }
  const txns = a.evidence['txnIds'];
  if (evidenceOnly && Array.isArray(txns) && txns.every((t) => typeof t === 'string'))
    q.txnIds = txns as string[];
  return q;
}
