import { errorResponse } from '@tillwatch/contracts';
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
