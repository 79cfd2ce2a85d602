import type { FastifyError, FastifyInstance } from 'fastify';
import type { z } from 'zod';

/** Every error the API returns: `{ error, message, details }`, `error` a stable code. */
export interface ErrorBody {
  error: string;
  message: string;
  details: unknown;
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

export const unauthorized = () =>
  new ApiError(
    401,
    'unauthorized',
    'missing or invalid credentials: send Authorization: Bearer <api key>',
  );
export const forbidden = (why: string) => new ApiError(403, 'forbidden', why);
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

/** 400 from a zod error: details list each problem with its path, so a client can show it. */
export function badRequest(part: string, error: z.ZodError): ApiError {
  const details = error.issues.map((i) => ({
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
      .join('; ')}`,
    details,
  );
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.statusCode).send(err.body());
    const status = err.statusCode ?? 500;
    if (status === 429) {
      return reply.code(429).send({ error: 'rate_limited', message: err.message, details: null });
    }
    if (status >= 400 && status < 500) {
      // fastify's own 4xx (e.g. unparsable JSON body, wrong content type, body too large)
      return reply.code(status).send({
        error: status === 400 ? 'bad_request' : (err.code ?? 'client_error'),
        message: err.message,
        details: err.code ? { code: err.code } : null,
      });
    }
    if ((err as { retriable?: unknown }).retriable === true) {
      // the store's server is away (ClickHouse restarting): worth retrying, not a bug of ours
      req.log.warn({ err }, 'store unavailable');
      return reply.code(503).header('retry-after', '5').send({
        error: 'unavailable',
        message: 'the store is unavailable for now; retry shortly',
        details: null,
      });
    }
    req.log.error({ err }, 'request failed');
    return reply
      .code(500)
      .send({ error: 'internal', message: 'internal error; see the gateway log', details: null });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: 'not_found',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
      details: null,
    }),
  );
}
