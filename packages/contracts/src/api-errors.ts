import { z } from 'zod';

/**
 * The one REST error shape of the gateway and every route it mounts (the webhook routes
 * included): `{ error, message, details }` with the HTTP status. `error` is a stable code a
 * client may branch on, `message` says what was wrong in words, `details` is structured (per
 * issue for bad input) or null. Lives here, beside the wire contracts, because two packages
 * answer HTTP (the gateway and @tillwatch/webhooks) and must not each spell it.
 */
export const errorBodySchema = z.object({
  error: z.string(),
  message: z.string(),
  details: z.unknown(),
});
export type ErrorBody = { error: string; message: string; details: unknown };

/** One problem of a bad request: which part (body, querystring, params), where, what. */
export interface InputIssue {
  in: string;
  /** dotted path inside that part, '' for the part itself */
  path: string;
  message: string;
  code: string;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  body(): ErrorBody {
    return { error: this.error, message: this.message, details: this.details };
  }
}

export const unauthorized = (
  message = 'missing or invalid credentials: send Authorization: Bearer <api key>',
) => new ApiError(401, 'unauthorized', message);
export const forbidden = (why: string) => new ApiError(403, 'forbidden', why);
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (why: string) => new ApiError(409, 'conflict', why);

/** 400 for one field the schema cannot judge (a refused URL, a field required for a role). */
export function invalidField(part: string, path: string, message: string): ApiError {
  const details: InputIssue[] = [{ in: part, path, message, code: 'custom' }];
  return new ApiError(400, 'bad_request', `invalid ${part}: ${path}: ${message}`, details);
}

/** 400 from a zod error: details list each problem with its path, so a client can show it. */
export function badRequest(part: string, error: z.ZodError): ApiError {
  const details: InputIssue[] = error.issues.map((i) => ({
    in: part,
    path: i.path.map(String).join('.'),
    message: i.message,
    code: i.code,
  }));
  return new ApiError(
    400,
    'bad_request',
    `invalid ${part}: ${details
      .slice(0, 3)
      .map((d) => (d.path ? `${d.path}: ${d.message}` : d.message))
      .join('; ')}${details.length > 3 ? `; and ${details.length - 3} more` : ''}`,
    details,
  );
}

/**
 * Codes for 4xx the framework raises before a handler runs (bad JSON, body too large, a URL it
 * cannot decode, headers over node's limit...).
 */
const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
};

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** how the host should log it: a 5xx is ours to look at, a 503 a dependency away */
  log: 'none' | 'warn' | 'error';
}

/**
 * Any thrown value → status, body and headers. ApiError as it says; a framework error with a
 * 4xx `statusCode` (fastify's: unparsable JSON, wrong content type, too large, rate limited)
 * keeps its status and message, with its own code in details; an error marked `retriable`
 * (the store's server restarting) is a 503 to retry; anything else a 500 that leaks nothing.
 */
export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof ApiError) {
    return { status: err.statusCode, body: err.body(), headers: {}, log: 'none' };
  }
  const e = (err ?? {}) as { statusCode?: unknown; code?: unknown; message?: unknown };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    return {
      status,
      body: {
        error: STATUS_CODES[status] ?? 'client_error',
        message: typeof e.message === 'string' ? e.message : 'bad request',
        details: code ? { code } : null,
      },
      headers: {},
      log: 'none',
    };
  }
  if ((err as { retriable?: unknown } | null)?.retriable === true) {
    return {
      status: 503,
      body: {
        error: 'unavailable',
        message: 'the store is unavailable for now; retry shortly',
        details: null,
      },
      headers: { 'retry-after': '5' },
      log: 'warn',
    };
  }
  return {
    status: 500,
    body: { error: 'internal', message: 'internal error; see the gateway log', details: null },
    headers: {},
    log: 'error',
  };
}
