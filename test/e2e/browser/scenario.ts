import {
  createGateway,
  defaultGatewayConfig,
  MemoryStore,
  syntheticAlert,
  syntheticAuth,
  syntheticRow,
  type ApiKeyEntry,
  type CreateGatewayOptions,
  type Gateway,
} from '@tillwatch/gateway';
import type { Alert, RateRow, TerminalEvent } from '@tillwatch/contracts';

/**
 * A small synthetic fleet for the browser suite: 8 regions, 3 merchants with 4 terminals
 * each, one incident (an outage in CN-44-SZ hitting merchant M-A's terminal T-A2) and live
 * rates pushed every `tickMs`, as the embedded engine does every second.
 */
export const REGIONS = ['CN-11', 'CN-31', 'CN-32', 'CN-33', 'CN-35', 'CN-42', 'CN-44-SZ', 'CN-51'];
export const OUTAGE_REGION = 'CN-44-SZ';
export const MERCHANTS = { 'M-A': 'CN-44-SZ', 'M-B': 'CN-31', 'M-C': 'CN-11' } as const;
export const WINDOWS = ['1m', '5m', '15m', '1h'];

export const KEYS: Record<
  'analyst' | 'sre' | 'admin' | 'merchantA' | 'merchantB' | 'merchantC',
  ApiKeyEntry
> = {
  analyst: { key: 'e2e-analyst-key-0000000000000001', role: 'analyst', name: 'analyst-e2e' },
  admin: { key: 'e2e-admin-key-000000000000000001', role: 'admin', name: 'admin-e2e' },
  sre: { key: 'e2e-sre-key-00000000000000000001', role: 'sre', name: 'sre-e2e' },
  merchantA: {
    key: 'e2e-merchant-a-key-0000000000001',
    role: 'merchant',
    merchantId: 'M-A',
    name: 'merchant-a',
  },
  merchantB: {
    key: 'e2e-merchant-b-key-0000000000001',
    role: 'merchant',
    merchantId: 'M-B',
    name: 'merchant-b',
  },
  /** a merchant without alerts */
  merchantC: {
    key: 'e2e-merchant-c-key-0000000000001',
    role: 'merchant',
    merchantId: 'M-C',
    name: 'merchant-c',
  },
};

export function terminalsOf(m: keyof typeof MERCHANTS): string[] {
  const letter = m.slice(2);
  return [1, 2, 3, 4].map((i) => `T-${letter}${i}`);
}

export const incidentAlert = (): Alert & { i18n: unknown } => ({
  ...syntheticAlert({
    alertId: 'al-e2e-T-A2',
    rule: 'terminal_network_errors',
    severity: 'critical',
    scope: 'terminal',
    key: 'T-A2',
    merchantId: 'M-A',
    region: OUTAGE_REGION,
    metric: 'timeout_rate',
    value: 0.46,
    threshold: 0.12,
    baseline: 0.02,
    evidence: { byCategory: { timeout: 41, approved: 52 }, topCodes: [{ code: 'TO', count: 41 }] },
    probableCauses: ['network trouble between the terminal and the host (router, SIM or Wi-Fi)'],
    actions: [
      'check the terminal’s router, SIM or Wi-Fi and reconnect',
      'if reversals keep happening, contact support',
    ],
  }),
  i18n: {
    en: {
      probableCauses: ['network trouble between the terminal and the host (router, SIM or Wi-Fi)'],
      actions: [
        'check the terminal’s router, SIM or Wi-Fi and reconnect',
        'if reversals keep happening, contact support',
      ],
    },
    zh: {
      probableCauses: ['终端与主机之间的网络故障（路由器、SIM 卡或 Wi-Fi）'],
      actions: ['检查终端的路由器、SIM 卡或 Wi-Fi 并重新连接', '如仍频繁冲正，请联系技术支持'],
    },
  },
});

export const outageAlert = (): Alert =>
  syntheticAlert({
    alertId: 'al-e2e-outage',
    rule: 'regional_outage',
    severity: 'critical',
    scope: 'region',
    key: OUTAGE_REGION,
    region: OUTAGE_REGION,
    merchantId: undefined,
    metric: 'faultRate',
    value: 0.44,
    threshold: 0.15,
    baseline: 0.02,
    evidence: { terminalsAffected: 37, byCategory: { timeout: 310, issuer: 52 } },
    probableCauses: ['carrier or backbone network outage in the region'],
    actions: ['page the SREs', 'tell merchants in the region'],
  });

export const merchantBAlert = (): Alert =>
  syntheticAlert({
    alertId: 'al-e2e-T-B3',
    rule: 'input_errors',
    severity: 'warning',
    scope: 'terminal',
    key: 'T-B3',
    merchantId: 'M-B',
    region: 'CN-31',
    metric: 'inputErrorRate',
    value: 0.18,
    threshold: 0.08,
    baseline: 0.01,
  });

export interface Scenario {
  gw: Gateway;
  store: MemoryStore;
  url: string;
  ticks: () => number;
  stop(): Promise<void>;
}

export interface ScenarioOptions {
  /** the webhook routes under /api/webhooks, with their store and SSRF guard (off: not mounted) */
  webhooks?: CreateGatewayOptions['webhooks'];
  /** the gateway's RULES_FILE (the rules screen shows it; admins edit it); defaults without */
  rulesFile?: string;
}

/**
 * Auths per 5 minutes per region in the last hour and in the same hour of the previous 7 days
 * (the region view's traffic against its normal): CN-35 at 60 % of its normal, CN-32 at 90 %,
 * CN-42 at 250 %, CN-51 without history (no normal yet), CN-44-GZ a second region in the
 * outage region's province. CN-11, CN-31 and CN-44-SZ also get the ticks' and tills' sales.
 */
export const TRAFFIC: Record<string, { now: number; normal: number | null }> = {
  'CN-11': { now: 10, normal: 10 },
  'CN-31': { now: 10, normal: 10 },
  'CN-32': { now: 9, normal: 10 },
  'CN-33': { now: 10, normal: 10 },
  'CN-35': { now: 6, normal: 10 },
  'CN-42': { now: 10, normal: 4 },
  'CN-44-SZ': { now: 3, normal: 12 },
  'CN-44-GZ': { now: 10, normal: 10 },
  'CN-51': { now: 8, normal: null },
};
export const NO_NORMAL_REGION = 'CN-51';

function seedTraffic(store: MemoryStore, now: number): void {
  const DAY = 86_400_000;
  const hour = (start: number, region: string, per5: number): TerminalEvent[] =>
    Array.from({ length: 12 * per5 }, (_, i) =>
      syntheticAuth({
        terminalId: `T-Z-${region}`,
        merchantId: 'M-Z',
        region,
        // a few seconds into each slot, so none falls on the hour's ends
        ts: start + Math.floor(i / per5) * 300_000 + 5_000 + (i % per5) * 1000,
      }),
    );
  // oldest first: the event ring keeps an hour, the region counts keep 8 days
  for (let k = 7; k >= 1; k--) {
    store.pushEvents(
      Object.entries(TRAFFIC).flatMap(([r, x]) =>
        x.normal === null ? [] : hour(now - k * DAY - 3_540_000, r, x.normal),
      ),
    );
  }
  store.pushEvents(Object.entries(TRAFFIC).flatMap(([r, x]) => hour(now - 3_540_000, r, x.now)));
}

export async function startScenario(tickMs = 250, opts: ScenarioOptions = {}): Promise<Scenario> {
  // a series point per tick, so the detail view's trend has a line after a few seconds
  const store = new MemoryStore({ seriesStepMs: tickMs, eventsPerTerminal: 1000 });
  seedTraffic(store, Date.now());
  const gw = await createGateway({
    config: defaultGatewayConfig({
      apiKeys: Object.values(KEYS),
      rateLimit: { max: 10_000, timeWindowMs: 60_000 },
      ...(opts.rulesFile ? { rulesFile: opts.rulesFile } : {}),
    }),
    store,
    ...(opts.webhooks ? { webhooks: opts.webhooks } : {}),
  });
  const url = await gw.listen();
  let tick = 0;
  const rnd = mulberry32(42);
  const push = () => {
    tick++;
    const ts = new Date().toISOString();
    const rows: RateRow[] = [];
    for (const w of WINDOWS) {
      const scale = { '1m': 1, '5m': 5, '15m': 15, '1h': 60 }[w] ?? 1;
      for (const r of REGIONS) {
        const out = r === OUTAGE_REGION;
        const auths = Math.round((out ? 160 : 600 + rnd() * 80) * scale);
        rows.push(
          syntheticRow({
            scope: 'region',
            key: r,
            window: w,
            ts,
            auths,
            faultRate: out ? 0.4 + rnd() * 0.06 : 0.01 + rnd() * 0.03,
            volumeRatio: out ? 0.24 + rnd() * 0.04 : 0.92 + rnd() * 0.16,
          }),
        );
      }
      for (const [m, region] of Object.entries(MERCHANTS) as [keyof typeof MERCHANTS, string][]) {
        const bad = m === 'M-A';
        rows.push(
          syntheticRow({
            scope: 'merchant',
            key: m,
            merchantId: m,
            region,
            window: w,
            ts,
            auths: Math.round((90 + rnd() * 20) * scale),
            faultRate: bad ? 0.2 + rnd() * 0.05 : 0.01 + rnd() * 0.02,
          }),
        );
        for (const t of terminalsOf(m)) {
          const hot = t === 'T-A2';
          rows.push(
            syntheticRow({
              scope: 'terminal',
              key: t,
              merchantId: m,
              region,
              window: w,
              ts,
              auths: Math.round((20 + rnd() * 8) * scale),
              faultRate: hot
                ? 0.42 + rnd() * 0.08
                : bad
                  ? 0.08 + rnd() * 0.06
                  : 0.005 + rnd() * 0.03,
            }),
          );
        }
      }
      rows.push(
        syntheticRow({
          scope: 'fleet',
          key: '*',
          window: w,
          ts,
          auths: Math.round((4600 + rnd() * 200) * scale),
          faultRate: 0.05 + rnd() * 0.01,
        }),
      );
    }
    store.pushRates(rows);
    const events = [];
    for (let i = 0; i < 6; i++) {
      events.push(
        syntheticAuth({
          terminalId: 'T-A2',
          merchantId: 'M-A',
          region: OUTAGE_REGION,
          responseCode: i % 2 ? 'TO' : i === 4 ? '91' : '00',
        }),
      );
      events.push(
        syntheticAuth({
          terminalId: 'T-B3',
          merchantId: 'M-B',
          region: 'CN-31',
          responseCode: i % 3 ? '00' : '55',
        }),
      );
    }
    store.pushEvents(events);
  };
  push();
  // a few sales of every terminal, so that a terminal no alert names has a page with events too
  store.pushEvents(
    (Object.keys(MERCHANTS) as (keyof typeof MERCHANTS)[]).flatMap((m) =>
      terminalsOf(m).flatMap((terminalId) =>
        [0, 1, 2].map(() => syntheticAuth({ terminalId, merchantId: m, region: MERCHANTS[m] })),
      ),
    ),
  );
  // T-C4, a busy till: more sales than one page of the drill-down (200), a second apart
  const now = Date.now();
  store.pushEvents(
    Array.from({ length: 250 }, (_, i) =>
      syntheticAuth({ terminalId: 'T-C4', merchantId: 'M-C', region: 'CN-11', ts: now - i * 1000 }),
    ),
  );
  store.pushAlert(outageAlert());
  store.pushAlert(incidentAlert());
  store.pushAlert(merchantBAlert());
  const timer = setInterval(push, tickMs);
  return {
    gw,
    store,
    url,
    ticks: () => tick,
    async stop() {
      clearInterval(timer);
      await gw.close();
    },
  };
}

/** Seeded PRNG so every run draws the same fleet. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
