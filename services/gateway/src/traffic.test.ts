import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegionTrafficReport } from '@tillwatch/contracts';
import type { ApiKeyEntry } from './auth';
import { defaultGatewayConfig } from './config';
import { syntheticAuth } from './fixtures';
import { createGateway, type Gateway } from './gateway';
import { MemoryStore } from './memory-store';

const keys: ApiKeyEntry[] = [
  { key: 'analyst-key-000000000001', role: 'analyst' },
  { key: 'sre-key-0000000000000001', role: 'sre' },
  { key: 'admin-key-00000000000001', role: 'admin' },
  { key: 'merchant-a-key-000000001', role: 'merchant', merchantId: 'M-A' },
];
const auth = (k: ApiKeyEntry) => ({ authorization: `Bearer ${k.key}` });
const DAY = 86_400_000;

let gw: Gateway;
beforeAll(async () => {
  const store = new MemoryStore();
  gw = await createGateway({
    config: defaultGatewayConfig({ apiKeys: keys, webDist: '/nonexistent' }),
    store,
  });
  const now = Date.now();
  const ev = (region: string, ts: number) =>
    syntheticAuth({ terminalId: `T-${region}`, merchantId: 'M-A', region, ts });
  // CN-31: 6 auths half an hour ago; 4 in that hour one day back, 2 three days back
  store.pushEvents([
    ...Array.from({ length: 4 }, (_, i) => ev('CN-31', now - DAY - 1_800_000 + i)),
    ...Array.from({ length: 2 }, (_, i) => ev('CN-31', now - 3 * DAY - 1_800_000 + i)),
    ...Array.from({ length: 6 }, (_, i) => ev('CN-31', now - 1_800_000 + i)),
    ev('CN-44-SZ', now - 600_000),
  ]);
});
afterAll(() => gw.close());

describe('GET /api/regions/traffic', () => {
  it('staff read it; a merchant key gets 403 (regions mix merchants); no key 401', async () => {
    for (const k of keys.slice(0, 3)) {
      const res = await gw.app.inject({ url: '/api/regions/traffic', headers: auth(k) });
      expect(res.statusCode).toBe(200);
    }
    const m = await gw.app.inject({ url: '/api/regions/traffic', headers: auth(keys[3]!) });
    expect(m.statusCode).toBe(403);
    expect((await gw.app.inject({ url: '/api/regions/traffic' })).statusCode).toBe(401);
  });

  it('each region: the last hour, its normal for this hour, the ratio and a 12-bucket sparkline', async () => {
    const res = await gw.app.inject({ url: '/api/regions/traffic', headers: auth(keys[1]!) });
    const body = res.json<RegionTrafficReport>();
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(3_600_000);
    expect(body).toMatchObject({ bucketMs: 300_000, buckets: 12, days: 7 });
    const sh = body.regions.find((r) => r.region === 'CN-31')!;
    expect(sh).toMatchObject({
      timeZone: 'Asia/Shanghai',
      auths: 6,
      normal: 3,
      normalDays: 2,
      ratio: 2,
    });
    expect(sh.series).toHaveLength(12);
    expect(sh.series.reduce((a, b) => a + b, 0)).toBe(6);
    expect(sh.normalSeries!.reduce((a, b) => a + b, 0)).toBe(3);
    const sz = body.regions.find((r) => r.region === 'CN-44-SZ')!;
    expect(sz).toMatchObject({
      auths: 1,
      normal: null,
      normalDays: 0,
      ratio: null,
      normalSeries: null,
    });
  });

  it('refuses unknown parameters', async () => {
    const res = await gw.app.inject({ url: '/api/regions/traffic?x=1', headers: auth(keys[1]!) });
    expect(res.statusCode).toBe(400);
  });
});
