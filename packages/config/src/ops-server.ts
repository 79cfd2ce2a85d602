import { createServer, type Server } from 'node:http';

/** What an ops path answers. */
export interface OpsReply {
  status: number;
  type: string;
  body: string;
}
export type OpsRoute = () => OpsReply | Promise<OpsReply>;

/**
 * The plain HTTP listener a service keeps for its orchestrator and Prometheus: GET of a few
 * fixed paths (`/healthz`, `/metrics`), no auth and no business data, 404 for anything else.
 * Bound to `host` (127.0.0.1 by default in every service; 0.0.0.0 inside a container or pod).
 * Port 0 takes a free port: the one bound is returned.
 */
export function serveOps(
  host: string,
  port: number,
  routes: Readonly<Record<string, OpsRoute>>,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const route = req.method === 'GET' ? routes[path] : undefined;
    if (!route) {
      res.writeHead(req.method === 'GET' ? 404 : 405);
      res.end();
      return;
    }
    Promise.resolve()
      .then(route)
      .then(
        (r) => {
          res.writeHead(r.status, { 'content-type': r.type });
          res.end(r.body);
        },
        (e: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${(e as Error).message ?? String(e)}\n`);
        },
      );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : port });
    });
  });
}

/** `/healthz`: 200 "ok", or 503 with why the instance is not healthy (liveness and readiness). */
export function healthRoute(unhealthy: () => string | undefined): OpsRoute {
  return () => {
    const why = unhealthy();
    return { status: why ? 503 : 200, type: 'text/plain', body: why ? `${why}\n` : 'ok\n' };
  };
}
