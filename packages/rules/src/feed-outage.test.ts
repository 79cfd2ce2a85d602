import type { TerminalEvent } from '@tillwatch/contracts';
import { alertSchema } from '@tillwatch/contracts';
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from './episodes';
import { createMonitor, type MonitorOptions } from './monitor';
import { smallFleet, stream, T0 } from './testing';

const H = 3_600_000;
const MIN = 60_000;

/**
 * Driven as the stream drives a rollup monitor: a tick at every 5 s boundary of event time,
 * also through a gap without events (the stages step through every boundary of a gap once
 * events resume: stream/schedule.ts).
 */
function drive(evs: TerminalEvent[], opts: MonitorOptions = {}) {
  const mon = createMonitor(opts);
  const out: AlertRecord[] = [];
  let b = Math.floor(evs[0]!.ts / 5000) * 5000 + 5000;
  for (const ev of evs) {
    for (; b <= ev.ts; b += 5000) out.push(...mon.tick(b));
    mon.ingest(ev);
  }
  return out;
}

const firings = (out: AlertRecord[]) => out.filter((a) => a.status === 'firing');
/** alerts that paged: distinct episodes with a firing transition */
const paged = (out: AlertRecord[]) => [
  ...new Set(firings(out).map((a) => `${a.rule}/${a.scope}/${a.key}`)),
];

/** 48 terminals, 16 merchants, 4 regions, 2 auths/min each; 2 h of history first */
const fleet = smallFleet({ rate: 2, regions: 4, merchants: 16 });
/** the same at 4 auths a minute: a region's errors reach minCount in under a minute */
const busy = smallFleet({ rate: 4, regions: 4, merchants: 16 });
const START = T0 + 2 * H;
const cut = START + 20 * MIN; // 12:20 local: no shop closes then
const inCut = (ev: TerminalEvent) => ev.ts >= cut && ev.ts < cut + 30 * MIN;

describe('a feed or platform outage is one alert, not one per region', () => {
  it('every region silent at once: one feed alert, the regions folded into it', () => {
    const out = drive(stream(fleet, T0, T0 + 4 * H, (ev) => (inCut(ev) ? null : ev)));
    expect(paged(out)).toEqual(['regional_outage/region/*']);
    const feed = firings(out)[0]!;
    expect(alertSchema.safeParse(feed).success).toBe(true);
    expect(feed).toMatchObject({ severity: 'critical', key: '*', scope: 'region' });
    expect(feed.region).toBeUndefined();
    expect(Date.parse(feed.ts) - cut).toBeLessThanOrEqual(2 * MIN);
    expect(feed.evidence).toMatchObject({
      trigger: 'feed_outage',
      cause: 'silence',
      regionsCarryingTraffic: 4,
      affectedRegions: 4,
    });
    const regions = feed.evidence.regions as {
      region: string;
      judged: string;
      auths: number;
      expectedAuths: number;
    }[];
    expect(regions.map((r) => r.region)).toEqual(['R0', 'R1', 'R2', 'R3']);
    for (const r of regions) {
      expect(r.judged).toBe('silent');
      expect(r.auths).toBeLessThanOrEqual(0.3 * r.expectedAuths);
    }
    // the platform's causes and actions, not a region's
    expect(feed.probableCauses.join(' ')).toMatch(/feed|host/);
    expect(feed.i18n.zh.actions.join('')).toMatch(/主机/);
    // the regions' own outages are in its evidence, never sent on their own
    const folded = out.flatMap((a) => (a.evidence.folded ?? []) as { rule: string; key: string }[]);
    const foldedRegions = new Set(
      folded.filter((f) => f.rule === 'regional_outage').map((f) => f.key),
    );
    expect([...foldedRegions].sort()).toEqual(['R0', 'R1', 'R2', 'R3']);
    expect(out.filter((a) => a.key === '*' && a.status === 'resolved')).toHaveLength(1);
  });

  it('the acquirer host failing every region with timeouts and switch errors: one alert', () => {
    // (on a thin fleet one terminal's own failed_but_charged can page before the regions'
    // error counts are in; hence a busier one)
    const out = drive(
      stream(busy, T0, T0 + 4 * H, (ev, _t, rnd) =>
        inCut(ev) && ev.type === 'auth' && rnd() < 0.5
          ? { ...ev, responseCode: rnd() < 0.6 ? 'TO' : '91' }
          : ev,
      ),
    );
    expect(paged(out)).toEqual(['regional_outage/region/*']);
    const feed = firings(out)[0]!;
    expect(feed.evidence).toMatchObject({ cause: 'host_errors', affectedRegions: 4 });
    expect(Date.parse(feed.ts) - cut).toBeLessThanOrEqual(5 * MIN);
    // the terminals' unreversed timeouts fold into it instead of paging one by one
    const folded = out.flatMap((a) => (a.evidence.folded ?? []) as { rule: string }[]);
    expect(folded.some((f) => f.rule === 'failed_but_charged')).toBe(true);
  });

  it('one region silent is still that region’s outage', () => {
    const out = drive(
      stream(fleet, T0, T0 + 4 * H, (ev) => (inCut(ev) && ev.region === 'R1' ? null : ev)),
    );
    expect(paged(out)).toEqual(['regional_outage/region/R1']);
  });

  it('two regions of four silent are two regional outages (fewer than 80 %)', () => {
    const out = drive(
      stream(fleet, T0, T0 + 4 * H, (ev) =>
        inCut(ev) && (ev.region === 'R1' || ev.region === 'R2') ? null : ev,
      ),
    );
    expect(paged(out).sort()).toEqual(['regional_outage/region/R1', 'regional_outage/region/R2']);
  });

  it('switched off: the regions page one by one', () => {
    const out = drive(
      stream(fleet, T0, T0 + 4 * H, (ev) => (inCut(ev) ? null : ev)),
      { rules: { rules: { regional_outage: { feed: { enabled: false } } } } },
    );
    expect(paged(out).sort()).toEqual(
      ['R0', 'R1', 'R2', 'R3'].map((r) => `regional_outage/region/${r}`),
    );
  });
});

describe('what a regional outage explains is in its evidence, and does not page', () => {
  /** R1's terminals and two of R0's run 9.9 */
  const mixed = fleet.map((t) =>
    t.region === 'R1' || t.id === 'T0_0' || t.id === 'T4_0' ? { ...t, firmware: '9.9' } : t,
  );

  it('a version whose excess comes from an outage region is listed in the region’s alert', () => {
    const out = drive(
      stream(mixed, T0, T0 + 4 * H, (ev, t, rnd) =>
        t.region === 'R1' && ev.type === 'auth' && inCut(ev) && rnd() < 0.4
          ? { ...ev, responseCode: 'TO' }
          : ev,
      ),
    );
    expect(paged(out)).toEqual(['regional_outage/region/R1']);
    const explains = out
      .filter((a) => a.rule === 'regional_outage')
      .flatMap((a) => (a.evidence.explains ?? []) as { rule: string; key: string }[]);
    expect(explains).toContainEqual({
      rule: 'firmware_regression',
      scope: 'firmware',
      key: '9.9',
      failures: expect.any(Number),
    });
  });

  it('a version already paging when its region’s outage begins folds into it', () => {
    // 20 minutes of a real regression on 9.9 (terminal-side codes on all its terminals), then
    // R1's network times out: from then on 9.9's failures are R1's outage
    const reg = (ev: TerminalEvent) => ev.ts >= START && ev.ts < cut;
    const out = drive(
      stream(mixed, T0, T0 + 4 * H, (ev, t, rnd) => {
        if (ev.type !== 'auth') return ev;
        if (t.firmware === '9.9' && reg(ev) && rnd() < 0.25) return { ...ev, responseCode: '12' };
        if (t.region === 'R1' && inCut(ev) && rnd() < 0.5) return { ...ev, responseCode: 'TO' };
        return ev;
      }),
    );
    const fw = out.filter((a) => a.rule === 'firmware_regression');
    expect(fw.length).toBeGreaterThan(0);
    expect(Date.parse(fw[0]!.ts)).toBeLessThan(cut);
    const ro = firings(out).find((a) => a.rule === 'regional_outage' && a.key === 'R1')!;
    expect(ro).toBeDefined();
    // one update says it is folded into R1's outage; nothing more is sent for it until it ends
    const foldedAt = fw.findIndex((a) => a.evidence.foldedInto !== undefined);
    expect(foldedAt).toBeGreaterThan(0);
    expect(fw[foldedAt]!.evidence.foldedInto).toEqual({
      alertId: ro.alertId,
      rule: 'regional_outage',
      scope: 'region',
      key: 'R1',
    });
    expect(fw.slice(foldedAt + 1).every((a) => a.status === 'resolved')).toBe(true);
    // once its 15 min window is mostly the outage's timeouts
    expect(Date.parse(fw[foldedAt]!.ts) - Date.parse(ro.ts)).toBeLessThanOrEqual(15 * MIN);
  });
});
