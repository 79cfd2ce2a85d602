import { rateRowSchema } from '@tillwatch/contracts';
import { ReferenceEngine } from '@tillwatch/core';
import { describe, expect, it } from 'vitest';
import { createMonitor } from './monitor';
import { smallFleet, stream, T0 } from './testing';

const H = 3_600_000;

describe('Monitor', () => {
  const fleet = smallFleet({ rate: 2 });
  const evs = stream(fleet, T0, T0 + 2.5 * H, (ev, t, rnd) =>
    t.id === 'T4_1' && ev.type === 'auth' && ev.ts > T0 + 2 * H && rnd() < 0.5
      ? { ...ev, responseCode: '12' }
      : ev,
  );

  it('rates(): every region, and the worst terminals by fault rate with a minimum volume', () => {
    const mon = createMonitor();
    for (const ev of evs) {
      mon.ingest(ev);
      mon.tick();
    }
    const regions = mon.rates('region', '5m');
    expect(regions.map((r) => r.key)).toEqual(['R0', 'R1', 'R2']);
    for (const r of regions) expect(rateRowSchema.safeParse(r).success).toBe(true);
    const worst = mon.rates('terminal', '15m', { top: 3, minAuths: 10 });
    expect(worst).toHaveLength(3);
    expect(worst[0]).toMatchObject({ key: 'T4_1', merchantId: 'M4', region: 'R1' });
    expect(worst[0]!.faultRate).toBeGreaterThan(0.3);
    expect(worst[0]!.volumeRatio).toBeGreaterThan(0.5);
    expect(mon.rates('terminal', '15m', { minAuths: 1000 })).toEqual([]);
    expect(() => mon.rates('region', '2m')).toThrow(/not kept by the engine/);
  });

  it('takes an injected engine, and a duplicate event counts once', () => {
    let made = 0;
    const mon = createMonitor({
      engineFactory: (c) => {
        made++;
        return new ReferenceEngine(c);
      },
    });
    expect(made).toBe(1);
    expect(mon.engine).toBeInstanceOf(ReferenceEngine);
    mon.ingest(evs[0]!);
    mon.ingest({ ...evs[0]! });
    expect(mon.stats()).toMatchObject({ accepted: 1, duplicates: 1 });
  });

  it('on() returns its unsubscribe; tick(watermark) moves time without events', () => {
    const mon = createMonitor();
    const seen: string[] = [];
    const off = mon.on('alert', (a) => seen.push(a.status));
    // Region R1 goes dark for good at 2 h 20 min (not on the hour, when shops close): the wall
    // clock (the caller) moves time on.
    let last = 0;
    const dark = T0 + 2 * H + 20 * 60_000;
    for (const ev of stream(fleet, T0, dark)) {
      mon.ingest(ev);
      mon.tick();
      last = ev.ts;
    }
    const r1 = stream(
      fleet.filter((t) => t.region !== 'R1'),
      dark,
      dark + 0.2 * H,
      undefined,
      9,
    );
    for (const ev of r1) {
      mon.ingest(ev);
      mon.tick();
    }
    for (let t = last; t < dark + 0.4 * H; t += 10_000) mon.tick(t);
    expect(mon.active().map((a) => `${a.rule}/${a.key}`)).toContain('regional_outage/R1');
    expect(seen).toContain('firing');
    off();
    const before = seen.length;
    mon.flush(T0 + 5 * H);
    expect(seen.length).toBe(before);
  });
});
