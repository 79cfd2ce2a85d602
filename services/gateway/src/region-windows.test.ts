import { regionChunkMs } from '@tillwatch/clickhouse';
import type { TerminalEvent } from '@tillwatch/contracts';
import { describe, expect, it } from 'vitest';
import { syntheticAuth } from './fixtures';
import { regionAuthsFromChunks, type RegionChunk } from './region-windows';
import { countedAuths, regionPanes, seeded } from './test-window-rows';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 3, 8, 0, 0);
const Q = { spanMs: HOUR, bucketMs: 300_000 };

const auth = (region: string, ts: number) =>
  syntheticAuth({ terminalId: `T-${region}`, merchantId: 'M-1', region, ts });

/** What ClickHouse answers for these panes (queryRegionAuthChunks): auths per region and chunk. */
function chunksOf(events: readonly TerminalEvent[], starts: readonly number[]): RegionChunk[] {
  const chunk = regionChunkMs(starts, Q.bucketMs);
  const m = new Map<string, RegionChunk>();
  for (const p of regionPanes(events)) {
    if (!starts.some((s) => p.paneMs >= s && p.paneMs < s + Q.spanMs)) continue;
    const from = Math.floor(p.paneMs / chunk) * chunk;
    const k = `${p.key}|${from}`;
    const c = m.get(k) ?? { region: p.key, from, auths: 0 };
    c.auths += p.counts.auths ?? 0;
    m.set(k, c);
  }
  return [...m.values()].filter((c) => c.auths > 0);
}

describe('region auths from region pane rows', () => {
  it('equal the events’ counts for quiet, busy and bursty regions, ranges at any whole minute', () => {
    const rnd = seeded(11);
    const events: TerminalEvent[] = [];
    for (let t = T - HOUR; t < T + 2 * HOUR; t += 1000) {
      if (rnd() < 0.9) events.push(auth('CN-11', t + Math.floor(rnd() * 1000)));
      if (rnd() < 0.004) events.push(auth('CN-31', t));
    }
    for (let t = T - HOUR; t < T + 2 * HOUR;) {
      const burst = 5_000 + Math.floor(rnd() * 60_000);
      for (let u = t; u < t + burst; u += 700) events.push(auth('CN-42', u));
      t += burst + 10_000 + Math.floor(rnd() * 170_000);
    }
    // starts 7 and 13 minutes past the hour: chunks of one minute, not of the 5 min bucket
    const starts = [0, 7, 13, 31, 44, 59].map((k) => T + k * 60_000);
    expect(regionChunkMs(starts, Q.bucketMs)).toBe(60_000);
    const got = regionAuthsFromChunks(chunksOf(events, starts), { ...Q, starts });
    expect(got).toEqual(countedAuths(events, { ...Q, starts }));
    expect(got.length).toBeGreaterThan(100);
  });

  it('heartbeats are not auths; a chunk outside every range is not counted', () => {
    const hb = (ts: number) => ({ ...auth('CN-51', ts), type: 'heartbeat' }) as TerminalEvent;
    const events = [hb(T + 1000), hb(T + 400_000), auth('CN-51', T + 2000), auth('CN-33', T - 5)];
    expect(regionPanes(events).find((p) => p.paneMs === T + 400_000)?.counts).toEqual({
      heartbeats: 1,
    });
    const chunks: RegionChunk[] = [
      ...chunksOf(events, [T]),
      { region: 'CN-33', from: T - 60_000, auths: 4 },
      { region: 'CN-33', from: T + HOUR, auths: 2 },
    ];
    expect(regionAuthsFromChunks(chunks, { ...Q, starts: [T] })).toEqual([
      { region: 'CN-51', start: T, bucket: 0, auths: 1 },
    ]);
  });

  it('chunks of two ranges go to their own range and bucket', () => {
    const DAY = 86_400_000;
    const starts = [T, T - DAY];
    const chunks: RegionChunk[] = [
      { region: 'CN-11', from: T - DAY + 240_000, auths: 3 },
      { region: 'CN-11', from: T - DAY + 300_000, auths: 5 },
      { region: 'CN-11', from: T + HOUR - 60_000, auths: 7 },
      { region: 'CN-11', from: T + 60_000, auths: 1 },
      { region: 'CN-11', from: T + 120_000, auths: 1 },
    ];
    expect(regionAuthsFromChunks(chunks, { ...Q, starts })).toEqual([
      { region: 'CN-11', start: T - DAY, bucket: 0, auths: 3 },
      { region: 'CN-11', start: T - DAY, bucket: 1, auths: 5 },
      { region: 'CN-11', start: T, bucket: 0, auths: 2 },
      { region: 'CN-11', start: T, bucket: 11, auths: 7 },
    ]);
  });

  it('a range or bucket that is not whole panes is refused', () => {
    expect(() => regionChunkMs([T + 2500], Q.bucketMs)).toThrow(/whole panes/);
    expect(() => regionChunkMs([T], 7_500)).toThrow(/whole panes/);
  });
});
