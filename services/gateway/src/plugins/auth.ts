import fp from 'fastify-plugin';
import { KeyRing, tokenFromHeaders, type Principal, type Role } from '../auth';
import type { FailedAuthLimiter } from '../auth-limit';
import { forbidden, rateLimited, retryAfterSeconds, unauthorized, type ApiError } from '../errors';

/**
 * Route access, declared per route in `config.access`:
 * - roles: the roles allowed (401 without a valid key, 403 with another role);
 * - 'metrics': sre/admin keys or the dedicated metrics token (Prometheus);
 * - absent: public (liveness, the dashboard's static files, /docs).
 */
export type Access = readonly Role[] | 'metrics';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    keyRing: KeyRing;
  }
}

export const authPlugin = fp<{ keyRing: KeyRing; failures: FailedAuthLimiter }>(
  async (app, opts) => {
    app.decorate('keyRing', opts.keyRing);
    app.decorateRequest('principal', undefined);
    // Refusals are sent from here rather than thrown: a thrown error goes to the error handler
    // of the route's own context, and an encapsulated plugin (the webhook routes) has its own,
    // which would relabel a 401/403. Sent here, every route answers the same body.
    // This hook runs before the per-key rate limit (a route hook), so refused credentials are
    // counted here, per client address and key prefix (FailedAuthLimiter).
    app.addHook('onRequest', async (req, reply) => {
      const access = req.routeOptions.config.access;
      if (!access) return;
      const refuse = (e: ApiError) => reply.code(e.statusCode).send(e.body());
      const token = tokenFromHeaders(req.headers);
      const wait = opts.failures.retryAfterMs(req.ip, token);
      if (wait > 0) {
        const s = retryAfterSeconds(wait);
        reply.header('retry-after', String(s));
        return refuse(
          rateLimited(
            `too many refused credentials from this address or for this key; retry in ${s} s`,
          ),
        );
      }
      const fail = () => {
        opts.failures.fail(req.ip, token);
        return refuse(unauthorized());
      };
      if (access === 'metrics') {
        if (opts.keyRing.isMetricsToken(token)) return;
        const p = opts.keyRing.authenticate(token);
        if (!p) return fail();
        if (p.role !== 'sre' && p.role !== 'admin')
          return refuse(forbidden('metrics need an sre or admin key, or the metrics token'));
        req.principal = p;
        return;
      }
      const p = opts.keyRing.authenticate(token);
      if (!p) return fail();
      if (!access.includes(p.role))
        return refuse(forbidden(`role ${p.role} may not ${req.method} ${req.routeOptions.url}`));
      req.principal = p;
    });
  },
  { name: 'tw-auth', fastify: '5.x' },
);
