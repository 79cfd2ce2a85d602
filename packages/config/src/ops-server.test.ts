import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { healthRoute, serveOps } from './ops-server';

describe('serveOps', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  it('answers its paths, 503 with the reason when unhealthy, 404/405 otherwise', async () => {
    const state: { why?: string } = {};
    const served = await serveOps('127.0.0.1', 0, {
      '/healthz': healthRoute(() => state.why),
      '/metrics': async () => ({ status: 200, type: 'text/plain', body: 'tw_up 1\n' }),
      '/boom': () => {
        throw new Error('no registry');
      },
    });
    server = served.server;
    const base = `http://127.0.0.1:${served.port}`;
    const get = async (p: string, method = 'GET') => {
      const r = await fetch(base + p, { method });
      return [r.status, await r.text()];
    };
    expect(served.port).toBeGreaterThan(0);
    expect(await get('/healthz')).toEqual([200, 'ok\n']);
    state.why = 'consumer stopped: broker gone';
    expect(await get('/healthz?probe=1')).toEqual([503, 'consumer stopped: broker gone\n']);
    expect(await get('/metrics')).toEqual([200, 'tw_up 1\n']);
    expect(await get('/boom')).toEqual([500, 'no registry\n']);
    expect((await get('/'))[0]).toBe(404);
    expect((await get('/healthz', 'POST'))[0]).toBe(405);
  });
});
