import { describe, expect, it } from 'vitest';
import { createMetrics, serveMetrics } from './metrics';

describe('/healthz', () => {
  it('answers 503 with the reason once the instance can no longer work (its consumer stopped for good)', async () => {
    let why: string | undefined;
    const { server, port } = await serveMetrics(createMetrics(), '127.0.0.1', 0, () => why);
    try {
      const get = async () => {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        return [r.status, await r.text()];
      };
      expect(await get()).toEqual([200, 'ok\n']);
      why = 'consumer stopped: Failed to find group coordinator';
      expect(await get()).toEqual([503, 'consumer stopped: Failed to find group coordinator\n']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
