import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a test receiver saw: one entry per request. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  at: number;
}

export type Behaviour = (
  r: Omit<Received, 'status' | 'at'>,
  res: ServerResponse,
  n: number,
) => void;

/**
 * A real HTTP receiver on 127.0.0.1, port 0 (tests only). `behave` answers each request;
 * default 204. Every request is recorded with the status it got.
 */
export async function startReceiver(behave?: Behaviour) {
  const seen: Received[] = [];
  let behaviour = behave;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      res.on('finish', () => seen.push({ ...r, status: res.statusCode, at: Date.now() }));
      if (behaviour) behaviour(r, res, seen.length);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    seen,
    port,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    setBehaviour(b: Behaviour | undefined) {
      behaviour = b;
    },
    /** webhook-ids the receiver accepted (2xx), with how many times each. */
    accepted(): Map<string, number> {
      const m = new Map<string, number>();
      for (const r of seen) {
        if (r.status < 200 || r.status >= 300) continue;
        const id = String(r.headers['webhook-id']);
        m.set(id, (m.get(id) ?? 0) + 1);
      }
      return m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
