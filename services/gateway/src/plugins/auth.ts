import fp from 'fastify-plugin';
import { KeyRing, tokenFromHeaders, type Principal, type Role } from '../auth';
import { forbidden, unauthorized } from '../errors';

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

export const authPlugin = fp<{ keyRing: KeyRing }>(
  async (app, opts) => {
    app.decorate('keyRing', opts.keyRing);
    app.decorateRequest('principal', undefined);
    app.addHook('onRequest', async (req) => {
      const access = req.routeOptions.config.access;
      if (!access) return;
      const token = tokenFromHeaders(req.headers);
      if (access === 'metrics') {
        if (opts.keyRing.isMetricsToken(token)) return;
        const p = opts.keyRing.authenticate(token);
        if (!p) throw unauthorized();
        if (p.role !== 'sre' && p.role !== 'admin')
          throw forbidden('metrics need an sre or admin key, or the metrics token');
        req.principal = p;
        return;
      }
      const p = opts.keyRing.authenticate(token);
      if (!p) throw unauthorized();
      if (!access.includes(p.role))
        throw forbidden(`role ${p.role} may not ${req.method} ${req.routeOptions.url}`);
      req.principal = p;
    });
  },
  { name: 'tw-auth', fastify: '5.x' },
);
