import { ApiError, errorResponse } from '@tillwatch/contracts';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';

/**
 * The REST error shape `{ error, message, details }` and its helpers come from
 * @tillwatch/contracts (api-errors.ts), which the webhook routes use too: one definition for
 * every route the gateway serves.
 */
export {
  ApiError,
  badRequest,
  conflict,
  forbidden,
  invalidField,
  notFound,
  unauthorized,
  type ErrorBody,
} from '@tillwatch/contracts';

/** 429 in the one error shape; the caller sets `retry-after` (whole seconds, at least 1). */
export const rateLimited = (message: string) => new ApiError(429, 'rate_limited', message);

/** Retry-After in whole seconds, never 0 (a client reading 0 would hammer at once). */
export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** Sends what errorResponse() made of `err`, logging what is worth a look. */
export function sendError(reply: FastifyReply, err: unknown, log: FastifyBaseLogger): FastifyReply {
  const r = errorResponse(err);
  if (r.log === 'warn') log.warn({ err }, 'store unavailable');
  else if (r.log === 'error') log.error({ err }, 'request failed');
  return reply.code(r.status).headers(r.headers).send(r.body);
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => sendError(reply, err, req.log));
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: 'not_found',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
      details: null,
    }),
  );
}
