import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { errorResponse } from '@tillwatch/contracts';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';

/**
 * What fastify and node answer before any route runs, in the one error shape
 * `{ error, message, details }` (@tillwatch/contracts api-errors.ts) like everything else:
 *
 * - `frameworkErrors`: a URL the router cannot decode (`/api/%zz`, 400) or a path parameter
 *   past its length limit (414); fastify's own answer was `{ error, code, message, statusCode }`.
 * - `clientErrorHandler`: what node's HTTP parser refuses before fastify sees a request, headers
 *   over the limit (431), a request that took too long (408), anything unparsable (400). Only
 *   the socket exists then, so the response is written on it by hand and the socket closed, as
 *   fastify's default does, with the shared body instead of fastify's.
 *
 * 404 (no route), 413 (body too large), 415 and unparsable JSON go through the error and
 * not-found handlers of errors.ts.
 */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (
  err: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
) => {
  const r = errorResponse(err);
  // FST_ERR_ASYNC_CONSTRAINT is a 500: ours to look at
  if (r.log === 'error') req.log.error({ err }, 'request failed before routing');
  void reply.code(r.status).headers(r.headers).send(r.body);
};

const CLIENT_ERRORS: Record<string, [status: number, message: string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'request headers too large: send fewer or shorter headers (cookies, long tokens)',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request took too long to arrive; send it again'],
};

/** The raw HTTP response for an error node's parser raised on `socket`; exported for tests. */
export function clientErrorResponse(err: NodeJS.ErrnoException): string {
  const [status, message] = CLIENT_ERRORS[err.code ?? ''] ?? [
    400,
    'malformed HTTP request: the server could not parse it',
  ];
  const { body } = errorResponse(
    Object.assign(new Error(message), { statusCode: status, code: err.code ?? 'HPE_INVALID' }),
  );
  const json = JSON.stringify(body);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    `Content-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(json)}\r\n` +
    `Connection: close\r\n\r\n${json}`
  );
}

export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // a reset connection has no one to answer (https://nodejs.org/api/http.html#event-clienterror)
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) socket.write(clientErrorResponse(err));
  socket.destroy(err);
}
