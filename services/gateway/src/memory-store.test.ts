import { describe, expect, it } from 'vitest';
import { syntheticAlert, syntheticAuth, syntheticRow } from './fixtures';
import { MemoryStore } from './memory-store';
import type { StoreEvent } from './store';
import { alertLedgerContract } from './store-contract';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const ev = (terminalId: string, ts: number, code = '00', merchantId = 'M-1') =>
  syntheticAuth({ terminalId, merchantId, region: 'CN-31', ts, responseCode: code });

alertLedgerContract('MemoryStore', async ({ now, maxAuditPerAlert }) => {
  const store = new MemoryStore({ now, ...(maxAuditPerAlert ? { maxAuditPerAlert } : {}) });
  return {
    store,
    pushAlert: async (a) => void store.pushAlert(a),
    pushEvents: async (events) => store.pushEvents(events),
    close: () => store.close(),
  };
});

describe('MemoryStore bounds', () => {
  it('keeps at most maxEvents raw events and eventsPerTerminal per terminal', async () => {
    const s = new MemoryStore({ maxEvents: 100, eventsPerTerminal: 10 });
    for (let i = 0; i < 1000; i++) s.pushEvents([ev(`T-${i % 20}`, T0 + i)]);
    expect(s.stats().events).toBe(100);
    const d = await s.rawEvents({ terminalId: 'T-3', limit: 1000 });
    expect(d.matched).toBeLessThanOrEqual(10);
    expect(d.events.every((e) => e.ts >= T0 + 900)).toBe(true); // only the newest survive
  });

  it('drops events older than the retention horizon (event time) and forgets empty terminals', async () => {
    const s = new MemoryStore({ eventRetentionMs: 60_000 });
    s.pushEvents([ev('T-old', T0), ev('T-new', T0 + 30_000)]);
    s.pushEvents([ev('T-new', T0 + 90_000)]);
    expect((await s.rawEvents({ terminalId: 'T-old', limit: 10 })).matched).toBe(0);
    expect(
      (await s.rawEvents({ merchantId: 'M-1', limit: 10 })).events.map((e) => e.terminalId),
    ).toEqual(['T-new', 'T-new']);
  });

  it('caps series, points per series, and spaces points by seriesStepMs', async () => {
    const s = new MemoryStore({ maxSeries: 3, seriesPoints: 5, seriesStepMs: 1000 });
    s.pushRates([syntheticRow({ scope: 'terminal', key: 'T-0', ts: new Date(T0).toISOString() })]);
    for (let i = 0; i < 40; i++) {
      const ts = new Date(T0 + i * 500).toISOString();
      s.pushRates(
        [1, 2, 3].map((k) =>
          syntheticRow({ scope: 'terminal', key: `T-${k}`, ts, merchantId: 'M-1' }),
        ),
      );
    }
    expect(s.stats().series).toBe(3);
    expect(await s.series({ scope: 'terminal', key: 'T-0', window: '1m' })).toBeUndefined(); // least recently fed
    const pts = (await s.series({ scope: 'terminal', key: 'T-3', window: '1m' }))!;
    expect(pts).toHaveLength(5);
    expect(Date.parse(pts[1]!.ts) - Date.parse(pts[0]!.ts)).toBe(1000);
  });

  it('hides rows that stopped being refreshed (stale against the newest of their kind)', async () => {
    const s = new MemoryStore({ staleAfterMs: 10_000 });
    s.pushRates([
      syntheticRow({ scope: 'terminal', key: 'T-gone', ts: new Date(T0).toISOString() }),
    ]);
    s.pushRates([
      syntheticRow({ scope: 'terminal', key: 'T-live', ts: new Date(T0 + 30_000).toISOString() }),
    ]);
    expect((await s.currentRates({ scope: 'terminal' })).map((r) => r.key)).toEqual(['T-live']);
  });

  it('evicts resolved alerts first when over maxAlerts', async () => {
    const s = new MemoryStore({ maxAlerts: 3 });
    s.pushAlert(syntheticAlert({ alertId: 'a1' }));
    s.pushAlert(syntheticAlert({ alertId: 'a2', status: 'resolved' }));
    s.pushAlert(syntheticAlert({ alertId: 'a3' }));
    s.pushAlert(syntheticAlert({ alertId: 'a4' }));
    expect((await s.listAlerts({ limit: 10 })).map((r) => r.alert.alertId).sort()).toEqual([
      'a1',
      'a3',
      'a4',
    ]);
  });
});

describe('MemoryStore alerts', () => {
  it('one record per episode: fired, severity change and engine resolve are audited, value ticks are not', async () => {
    const s = new MemoryStore();
    const seen: StoreEvent['type'][] = [];
    s.subscribe((e) => seen.push(e.type));
    s.pushAlert(syntheticAlert({ alertId: 'e1', severity: 'warning', value: 0.2 }));
    s.pushAlert(syntheticAlert({ alertId: 'e1', severity: 'warning', value: 0.25 }));
    s.pushAlert(syntheticAlert({ alertId: 'e1', severity: 'critical', value: 0.4 }));
    s.pushAlert(syntheticAlert({ alertId: 'e1', status: 'resolved', severity: 'critical' }));
    const rec = (await s.getAlert('e1'))!;
    expect(rec.audit.map((a) => a.action)).toEqual(['fired', 'updated', 'engine_resolved']);
    expect(rec.alert.status).toBe('resolved');
    expect(seen).toEqual(['alert', 'alert', 'alert', 'alert']);
  });

  it('rejects an alert that breaks the contract, with a coded error', () => {
    const s = new MemoryStore();
    expect(() =>
      s.pushAlert({ ...syntheticAlert({ alertId: 'x' }), rule: 'made_up' as never }),
    ).toThrow(expect.objectContaining({ code: 'TW_GW_INVALID_ALERT' }));
  });

  it('fills merchantId/region from the key for merchant- and region-scope alerts (scoping relies on them)', async () => {
    const s = new MemoryStore();
    s.pushAlert(
      syntheticAlert({ alertId: 'm', scope: 'merchant', key: 'M-9', merchantId: undefined }),
    );
    s.pushAlert(
      syntheticAlert({
        alertId: 'r',
        scope: 'region',
        key: 'CN-44',
        region: undefined,
        merchantId: undefined,
      }),
    );
    expect((await s.getAlert('m'))!.alert.merchantId).toBe('M-9');
    expect((await s.getAlert('r'))!.alert.region).toBe('CN-44');
  });

  it('marks alerts a silence matches, and drill-down counts response codes by category', async () => {
    const s = new MemoryStore();
    await s.createSilence(
      {
        matchers: { region: 'CN-31' },
        startsAt: new Date(Date.now() - 1000).toISOString(),
        endsAt: new Date(Date.now() + 60_000).toISOString(),
        comment: 'maintenance',
      },
      'sre#1',
    );
    const rec = s.pushAlert(syntheticAlert({ alertId: 's1', region: 'CN-31' }));
    expect(rec.silencedBy).toBeDefined();
    expect(s.isSilenced(rec.alert)).toBeDefined();
    s.pushEvents([
      ev('T-1', T0, 'TO'),
      ev('T-1', T0 + 1, 'TO'),
      ev('T-1', T0 + 2, '91'),
      ev('T-1', T0 + 3, '00'),
    ]);
    const d = await s.rawEvents({ terminalId: 'T-1', limit: 2 });
    expect(d.events).toHaveLength(2);
    expect(d.matched).toBe(4);
    expect(d.responseCodes).toEqual([
      { code: 'TO', category: 'timeout', count: 2 },
      { code: '00', category: 'approved', count: 1 },
      { code: '91', category: 'issuer', count: 1 },
    ]);
  });
});
