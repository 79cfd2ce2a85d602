import { z } from 'zod';
import { alertSchema } from './alerts';
import { VERDICTS } from './quality';
import { rateRowSchema } from './rates';

/**
 * The gateway's socket.io contract: what it emits to boards (`rates`, `alert`, `audit`) and
 * what a board may ask (`subscribe` / `unsubscribe` a region room). The gateway builds its
 * payloads from these types and validates requests with these schemas; the dashboard reads
 * messages with the same types, so the two cannot drift apart silently.
 *
 * Every server message carries `room` and `seq`: seq grows by one per message in a room, so a
 * gap tells the board it missed something and must reload the REST snapshot.
 */

/** Who may hold an API key; an audit line's role may also be `engine`. */
export const ROLES = ['analyst', 'sre', 'merchant', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const AUDIT_ACTIONS = [
  'fired',
  'updated',
  'engine_resolved',
  'acknowledge',
  'assign',
  'note',
  'resolve',
] as const;
export type AuditActionKind = (typeof AUDIT_ACTIONS)[number];

const isoTime = z.iso.datetime({ offset: true });

export const WORKFLOW_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type WorkflowState = (typeof WORKFLOW_STATES)[number];

/** Where people have taken an alert (the engine's firing/resolved is `alert.status`). */
export const alertWorkflowSchema = z.object({
  state: z.enum(WORKFLOW_STATES),
  assignee: z.string().optional(),
  acknowledgedBy: z.string().optional(),
  acknowledgedAt: isoTime.optional(),
  resolvedBy: z.string().optional(),
  resolvedAt: isoTime.optional(),
  /** the analysts' latest verdict on the alert (given when closing it), who gave it and when */
  verdict: z.enum(VERDICTS).optional(),
  verdictBy: z.string().optional(),
  verdictAt: isoTime.optional(),
});
export type AlertWorkflow = z.infer<typeof alertWorkflowSchema>;

/** One line of an alert's record (the guides: the error, the checks made, the fix, the result). */
export const auditEntrySchema = z.object({
  /** `<alertId>@<ts ms>:<status>` for the engine's lines, the stored action's UUID for people's */
  id: z.string().min(1),
  alertId: z.string().min(1),
  /** ISO-8601 UTC: the transition's `ts` for the engine, the gateway's clock for people */
  at: isoTime,
  action: z.enum(AUDIT_ACTIONS),
  /** verified identity of the credential ('engine' for transitions) */
  actor: z.string().min(1),
  role: z.union([z.enum(ROLES), z.literal('engine')]),
  /** self-declared name typed on the board, shown beside the verified actor */
  author: z.string().optional(),
  note: z.string().optional(),
  assignee: z.string().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  /** a `resolve` line's verdict (quality.ts) */
  verdict: z.enum(VERDICTS).optional(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

const envelope = { room: z.string().min(1), seq: z.number().int().positive() };

/** `rates`: current-rate rows for the room (a merchant room only its own terminals/merchant). */
export const ratesMessageSchema = z.object({ ...envelope, rows: z.array(rateRowSchema) });
export type RatesMessage = z.infer<typeof ratesMessageSchema>;

/** `alert`: a transition with the alert's workflow and the silence that mutes it, if any. */
export const alertMessageSchema = z.object({
  ...envelope,
  alert: alertSchema,
  workflow: alertWorkflowSchema,
  silencedBy: z.string().optional(),
});
export type AlertMessage = z.infer<typeof alertMessageSchema>;

/** `audit`: a person acted on an alert; the new line and the workflow after it. */
export const auditMessageSchema = z.object({
  ...envelope,
  alertId: z.string().min(1),
  entry: auditEntrySchema,
  workflow: alertWorkflowSchema,
});
export type AuditMessage = z.infer<typeof auditMessageSchema>;

/** `subscribe` / `unsubscribe` body: one region room (staff only). */
export const regionRequestSchema = z.strictObject({
  region: z
    .string()
    .min(1)
    .max(32)
    .regex(/^[A-Za-z0-9_.:-]+$/),
});
export type RegionRequest = z.infer<typeof regionRequestSchema>;

export interface SubscribeAck {
  ok: boolean;
  room?: string;
  error?: string;
}
export interface UnsubscribeAck {
  ok: boolean;
  error?: string;
}

/** `connect_error` data when the handshake's token is refused. */
/**
 * Why a socket was refused (`connect_error`'s `data`): a credential that is not valid (401), or
 * too many refused credentials from the client or sockets on the key (429, `retryAfter` seconds
 * when known). socket.io does not reconnect after a refusal: a client retries a 429 itself.
 */
export type SocketAuthError =
  | { status: 401; error: 'unauthorized'; message: string }
  | { status: 429; error: 'rate_limited'; message: string; retryAfter?: number };

export const SERVER_EVENTS = ['rates', 'alert', 'audit'] as const;
export type ServerEvent = (typeof SERVER_EVENTS)[number];

export interface ServerToClientEvents {
  rates: (m: RatesMessage) => void;
  alert: (m: AlertMessage) => void;
  audit: (m: AuditMessage) => void;
}
export interface ClientToServerEvents {
  subscribe: (req: RegionRequest, ack?: (r: SubscribeAck) => void) => void;
  unsubscribe: (req: RegionRequest, ack?: (r: UnsubscribeAck) => void) => void;
}

/** Schema of each server event's payload, for whoever must check what arrived. */
export const serverMessageSchemas = {
  rates: ratesMessageSchema,
  alert: alertMessageSchema,
  audit: auditMessageSchema,
} as const satisfies Record<ServerEvent, z.ZodType>;
