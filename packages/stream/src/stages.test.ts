import { describe, expect, it } from 'vitest';
import type { Alert, TerminalEvent } from '@tillwatch/contracts';
import { DEFAULT_ENGINE_CONFIG, ReferenceEngine, SCOPE, METRIC_COUNT } from '@tillwatch/core';
import { EventStage, RollupStage, streamWindows, type RollupMessage, type StatRow } from './index';
import type { RollupRecord } from '@tillwatch/contracts';
import { ROW_COUNTERS, rowText as statLine } from './test-rows';

const win = streamWindows(DEFAULT_ENGINE_CONFIG);
const T0 = Date.UTC(2026, 2, 2, 2, 0, 0);

function auth(i: number, ts: number, region: string, code = '00'): TerminalEvent {
  return {
    type: 'auth',
    eventId: `e${i}`,
    ts,
    terminalId: `T${i % 3}`,
    merchantId: `M${i % 2}`,
    region,
    txnId: `x${i}`,
    amount: 100,
    currency: 'CNY',
    responseCode: code,
    issuerId: 'ISS-1',
  };
}

/** A bare engine standing in for the Monitor: the task only needs engine + ingest + tick. */
function bareMonitor() {
  const engine = new ReferenceEngine({ windowsMs: win.windowsMs, panesMs: win.panesMs });
  return {
    engine,
    ingest: (ev: TerminalEvent) => engine.ingest(ev),
    tick: (wm?: number): Alert[] => {
      if (wm !== undefined) engine.advance(wm);
      return [];
    },
  };
}

function task(partition: number, sources = 2) {
  return new EventStage({
    partition,
    sourcePartitions: sources,
    rollupPartitions: 1,
    monitor: bareMonitor(),
    statsWindows: win.statsWindows,
    paneWindow: win.paneWindow,
    p0: win.p0,
  });
}

/** A sink that keeps the stats rows as text lines, and drops alerts and rollups. */
function collectStats() {
  const stats: string[] = [];
  const sink = {
    stats: (...r: StatRow) => stats.push(statLine(...r)),
    alert: () => {},
    rollup: () => {},
  };
  return { stats, sink };
}

describe('EventStage + RollupStage', () => {
  it('region windows merged from two partitions equal one engine over all events', () => {
    // Two partitions, one shared region: 400 events over 20 minutes, every 3 s, a decline in 5.
    const parts: TerminalEvent[][] = [[], []];
    const all: TerminalEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const ev = auth(i, T0 + i * 3000, 'CN-31', i % 5 === 0 ? '91' : '00');
      all.push(ev);
      parts[i % 2]!.push(ev);
    }
    const rollups: RollupRecord[] = [];
    const stats: string[] = [];
    const sink = {
      stats: (...r: StatRow) => stats.push(statLine(...r)),
      alert: () => {},
      rollup: (m: RollupMessage) => rollups.push(m.value),
    };
    const tasks = [task(0), task(1)];
    // Interleave as a consumer would, partition by partition in chunks.
    for (let i = 0; i < 200; i += 50) {
      for (let p = 0; p < 2; p++)
        for (const ev of parts[p]!.slice(i, i + 50)) tasks[p]!.handle(ev, sink);
    }
    expect(stats.some((l) => l.startsWith('terminal\tT0\t1m\t'))).toBe(true);
    expect(rollups.filter((r) => r.k === 'p').length).toBeGreaterThan(0);

    const merged: string[] = [];
    const rt = new RollupStage({
      windowsMs: DEFAULT_ENGINE_CONFIG.windowsMs,
      panesMs: DEFAULT_ENGINE_CONFIG.panesMs,
      p0: win.p0,
    });
    for (const r of rollups)
      rt.handle(r, { ...sink, stats: (...r) => merged.push(statLine(...r)) });
    expect(rt.late).toBe(0);

    // Reference: one engine over all events, read at each boundary a merged row names.
    const regionRows = merged.filter((l) => l.startsWith('region\tCN-31\t5m\t'));
    expect(regionRows.length).toBeGreaterThan(10);
    const ref = new ReferenceEngine({});
    const out = new Float64Array(METRIC_COUNT);
    let j = 0;
    for (const line of regionRows) {
      const cols = line.trimEnd().split('\t');
      const end = Number(cols[3]) * 1000;
      while (j < all.length && all[j]!.ts - 10_000 < end) ref.ingest(all[j++]!);
      ref.advance(end);
      expect(ref.read(SCOPE.region, 'CN-31', 1, out)).toBe(true);
      // auths, approved, failures, faults, then the counters of STAT_COUNTERS from cat_approved on
      const counters = ROW_COUNTERS.map((metric) => out[metric]!);
      const auths = out[0]!;
      const failures = auths - out[1]!;
      expect(cols.slice(7, 11 + counters.length).map(Number)).toEqual([
        auths,
        out[1]!,
        failures,
        failures - out[2]!,
        ...counters,
      ]);
      expect(auths).toBeGreaterThan(0);
    }
  });

  it("a closed pane's stats rows are the keys that moved in it, not those active after it", () => {
    // T0/M0 sells in the pane [T0, T0 + 5 s); T1/M1 only in the next one, which the stage has
    // ingested (within the allowed lateness) when it closes the first.
    const t = task(0, 1);
    const { stats, sink } = collectStats();
    t.handle(auth(0, T0 + 1_000, 'CN-31'), sink);
    t.handle(auth(1, T0 + 6_000, 'CN-31'), sink);
    const late = DEFAULT_ENGINE_CONFIG.allowedLatenessMs;
    t.advance(T0 + 5_000 + late, sink);
    const at = (b: number) =>
      stats
        .filter((l) => Number(l.split('\t')[3]) * 1000 === b)
        .map((l) => l.split('\t').slice(0, 3).join(' '));
    expect(at(T0 + 5_000)).toEqual(['terminal T0 1m', 'merchant M0 1m']);
    t.advance(T0 + 10_000 + late, sink);
    // T1 now; T0 did nothing in [T0 + 5 s, T0 + 10 s): its 1m window did not move
    // T1 in the 1 min window's pane; the 5 min window's 10 s pane [T0, T0 + 10 s) holds both
    expect(at(T0 + 10_000)).toEqual([
      'terminal T1 1m',
      'merchant M1 1m',
      'terminal T0 5m',
      'terminal T1 5m',
      'merchant M0 5m',
      'merchant M1 5m',
    ]);
    t.advance(T0 + 120_000 + late, sink);
    // the 1 h window's 120 s pane: both, once each
    expect(stats.filter((l) => l.split('\t')[2] === '1h').map((l) => l.split('\t')[1])).toEqual([
      'T0',
      'T1',
      'M0',
      'M1',
    ]);
  });

  it('sends nothing while replaying (sink null) but keeps state', () => {
    const t = task(0, 1);
    const { stats, sink } = collectStats();
    for (let i = 0; i < 50; i++) t.handle(auth(i, T0 + i * 1000, 'CN-31'), null);
    expect(stats).toEqual([]);
    for (let i = 50; i < 100; i++) t.handle(auth(i, T0 + i * 1000, 'CN-31'), sink);
    const row = stats.find((l) => l.startsWith('merchant\tM0\t5m\t'))!.split('\t');
    // The first row after the replay counts the replayed events too: state was rebuilt, only
    // outputs were held. M0 has the even events; all of them before the window end count.
    const end = Number(row[3]) * 1000;
    const want = Array.from({ length: 100 }, (_, i) => i).filter(
      (i) => i % 2 === 0 && T0 + i * 1000 < end,
    ).length;
    expect(want).toBeGreaterThan(10);
    expect(Number(row[7])).toBe(want);
  });
});
