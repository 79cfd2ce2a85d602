import type { TerminalEvent } from '@tillwatch/contracts';
import { describe, expect, it } from 'vitest';
import { syntheticAuth } from './fixtures';
import { DiffUnionFind, regionAuthsFromWindows, type RegionWindowRow } from './region-windows';
import type { RegionAuthCount } from './store';
import { P0, countedAuths, regionWindowRows, seeded } from './test-window-rows';

const OPTS = { paneMs: P0, shortestMs: 60_000, lookbackMs: 3_600_000 };
const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 3, 8, 0, 0);
const Q = { spanMs: HOUR, bucketMs: 300_000 };

const counted = (events: readonly TerminalEvent[], starts: readonly number[]) =>
  countedAuths(events, { ...Q, starts });

const sorted = (xs: RegionAuthCount[]) =>
  [...xs].sort(
    (a, b) => a.region.localeCompare(b.region) || a.start - b.start || a.bucket - b.bucket,
  );

const auth = (region: string, ts: number) =>
  syntheticAuth({ terminalId: `T-${region}`, merchantId: 'M-1', region, ts });

describe('region auths from window_stats rows', () => {
  it('equal the events’ counts for quiet, busy and bursty regions, ranges at any whole minute', () => {
    const rnd = seeded(11);
    const events: TerminalEvent[] = [];
    // three hours of: a busy region (several auths in every 5 s pane), a quiet one (an auth
    // every few minutes), one in bursts with silences of 10 s to 3 min between them
    for (let t = T - HOUR; t < T + 2 * HOUR; t += 1000) {
      if (rnd() < 0.9) events.push(auth('CN-11', t + Math.floor(rnd() * 1000)));
      if (rnd() < 0.004) events.push(auth('CN-31', t));
    }
    for (let t = T - HOUR; t < T + 2 * HOUR;) {
      const burst = 5_000 + Math.floor(rnd() * 60_000);
      for (let u = t; u < t + burst; u += 700) events.push(auth('CN-42', u));
      t += burst + 10_000 + Math.floor(rnd() * 170_000);
    }
    const starts = [0, 7, 13, 31, 44, 59].map((k) => T + k * 60_000);
    const res = regionAuthsFromWindows(regionWindowRows(events), { ...Q, starts }, OPTS);
    expect(res.unresolved).toEqual([]);
    expect(sorted(res.counts)).toEqual(counted(events, starts));
  });

  it('a bucket end after a quiet 10 s (no 5m row there) is still exact', () => {
    const S = T + 17 * 60_000;
    const events: TerminalEvent[] = [];
    // busy, then silent for the last 25 s of every bucket
    for (let t = S - HOUR; t < S + HOUR; t += 2500) {
      if ((t - S + 10 * HOUR) % 300_000 < 275_000) events.push(auth('CN-35', t));
    }
    const rows = regionWindowRows(events);
    const end = S + 300_000;
    expect(rows.some((r) => r.windowMs === 300_000 && r.end === end)).toBe(false);
    const res = regionAuthsFromWindows(rows, { ...Q, starts: [S] }, OPTS);
    expect(res.unresolved).toEqual([]);
    expect(sorted(res.counts)).toEqual(counted(events, [S]));
  });

  it('heartbeats mark panes, not auths; a region without auths in the range is left out', () => {
    const S = T;
    const hb = (ts: number) => ({ ...auth('CN-51', ts), type: 'heartbeat' }) as TerminalEvent;
    const events = [hb(S + 1000), hb(S + 400_000), auth('CN-51', S + 2000), auth('CN-33', S - 5)];
    const res = regionAuthsFromWindows(regionWindowRows(events), { ...Q, starts: [S] }, OPTS);
    expect(res).toEqual({
      counts: [{ region: 'CN-51', start: S, bucket: 0, auths: 1 }],
      unresolved: [],
    });
  });

  it('rows that do not determine a range, or contradict each other, are reported, not guessed', () => {
    const S = T;
    // every pane had a partial but the one ending at S + 5 min, and only 1m rows were kept:
    // nothing ties the first bucket's end to its start
    const ones: RegionWindowRow[] = [];
    for (let end = S - HOUR + P0; end <= S + HOUR; end += P0) {
      if (end !== S + 300_000) ones.push({ region: 'CN-32', windowMs: 60_000, end, auths: 12 });
    }
    const a = regionAuthsFromWindows(ones, { ...Q, starts: [S] }, OPTS);
    expect(a.counts).toEqual([]);
    expect(a.unresolved).toEqual([{ region: 'CN-32', start: S }]);
    // a 1m row saying 3 and a 5m row over the same single pane saying 4
    const clash: RegionWindowRow[] = [
      { region: 'CN-32', windowMs: 60_000, end: S + 600_000, auths: 3 },
      { region: 'CN-32', windowMs: 300_000, end: S + 600_000, auths: 4 },
    ];
    const b = regionAuthsFromWindows(clash, { ...Q, starts: [S] }, OPTS);
    expect(b.unresolved).toEqual([{ region: 'CN-32', start: S }]);
  });
});

describe('DiffUnionFind', () => {
  it('knows a difference only when the records imply it', () => {
    const uf = new DiffUnionFind(6);
    expect(uf.union(1, 0, 5)).toBe(true);
    expect(uf.union(2, 1, -2)).toBe(true);
    expect(uf.union(4, 3, 7)).toBe(true);
    expect(uf.diff(2, 0)).toBe(3);
    expect(uf.diff(0, 2)).toBe(-3);
    expect(uf.diff(4, 0)).toBeUndefined();
    expect(uf.union(3, 2, 1)).toBe(true);
    expect(uf.diff(4, 0)).toBe(11);
    expect(uf.union(4, 0, 11)).toBe(true);
    expect(uf.union(4, 0, 12)).toBe(false);
    expect(uf.diff(5, 5)).toBe(0);
  });
});
