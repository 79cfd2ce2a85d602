import { describe, expect, it } from 'vitest';
import type { Alert, TerminalEvent } from '@tillwatch/contracts';
import {
  DEFAULT_ENGINE_CONFIG,
  ReferenceEngine,
  SCOPE,
  METRIC_COUNT,
  type ScopeName,
} from '@tillwatch/core';
import { validateEvent } from '@tillwatch/contracts';
import { createSimulation } from '@tillwatch/simulator';
import {
  EventStage,
  LocalTopology,
  RollupStage,
  streamWindows,
  type PaneRow,
  type RollupMessage,
} from './index';
import type { RollupRecord } from '@tillwatch/contracts';
import { PANE_COUNTERS } from '@tillwatch/clickhouse';
import { PANE_METRICS, paneText, parsePane, windowOf } from './test-rows';

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
    paneWindow: win.paneWindow,
    p0: win.p0,
  });
}

/** A sink that keeps the pane rows as text lines, and drops alerts and rollups. */
function collectPanes() {
  const panes: string[] = [];
  const sink = {
    panes: (...r: PaneRow) => panes.push(paneText(...r)),
    alert: () => {},
    rollup: () => {},
  };
  return { panes, sink };
}

/** Two event stages whose pane rows and rollup records are kept, and the rollup stage that
 *  merges those records into pane rows of its own. */
function twoPartitions() {
  const rollups: RollupRecord[] = [];
  const local: string[] = [];
  const sink = {
    panes: (...r: PaneRow) => local.push(paneText(...r)),
    alert: () => {},
    rollup: (m: RollupMessage) => rollups.push(m.value),
  };
  const merge = () => {
    const merged: string[] = [];
    const rt = new RollupStage({
      windowsMs: DEFAULT_ENGINE_CONFIG.windowsMs,
      panesMs: DEFAULT_ENGINE_CONFIG.panesMs,
      p0: win.p0,
    });
    for (const r of rollups)
      rt.handle(r, { ...sink, panes: (...row) => merged.push(paneText(...row)) });
    return { merged, late: rt.late };
  };
  return { rollups, local, sink, tasks: [task(0), task(1)], merge };
}

describe('EventStage + RollupStage', () => {
  it('region windows summed from the merged pane rows of two partitions equal one engine over all events', () => {
    // Two partitions, one shared region: 400 events over 20 minutes, every 3 s, a decline in 5.
    const parts: TerminalEvent[][] = [[], []];
    const all: TerminalEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const ev = auth(i, T0 + i * 3000, 'CN-31', i % 5 === 0 ? '91' : '00');
      all.push(ev);
      parts[i % 2]!.push(ev);
    }
    const { rollups, local, sink, tasks, merge } = twoPartitions();
    // Interleave as a consumer would, partition by partition in chunks.
    for (let i = 0; i < 200; i += 50) {
      for (let p = 0; p < 2; p++)
        for (const ev of parts[p]!.slice(i, i + 50)) tasks[p]!.handle(ev, sink);
    }
    expect(local.some((l) => l.startsWith('terminal\tT0\t'))).toBe(true);
    expect(rollups.filter((r) => r.k === 'p').length).toBeGreaterThan(0);

    const { merged, late } = merge();
    expect(late).toBe(0);

    // Reference: one engine over all events, its 5 min window read at every 10 s boundary up
    // to the last merged pane, against the sum of the merged pane rows in that window.
    const region = merged.map(parsePane).filter((p) => p.scope === 'region');
    expect(region.length).toBeGreaterThan(100);
    const lastEnd = region.at(-1)!.start + win.p0;
    const ref = new ReferenceEngine({});
    const out = new Float64Array(METRIC_COUNT);
    let j = 0;
    let compared = 0;
    for (let end = T0 + 10_000; end <= lastEnd; end += 10_000) {
      while (j < all.length && all[j]!.ts - 10_000 < end) ref.ingest(all[j++]!);
      ref.advance(end);
      expect(ref.read(SCOPE.region, 'CN-31', 1, out)).toBe(true);
      expect(windowOf(merged, 'region', 'CN-31', end - 300_000, end)).toEqual(
        PANE_METRICS.map((i) => out[i]!),
      );
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  });

  it("a closed pane's rows are the keys with counts in it, not those active after it", () => {
    // T0/M0 sells in the pane [T0, T0 + 5 s); T1/M1 only in the next one, which the stage has
    // ingested (within the allowed lateness) when it closes the first.
    const t = task(0, 1);
    const { panes, sink } = collectPanes();
    t.handle(auth(0, T0 + 1_000, 'CN-31'), sink);
    t.handle(auth(1, T0 + 6_000, 'CN-31'), sink);
    const late = DEFAULT_ENGINE_CONFIG.allowedLatenessMs;
    const at = (start: number) =>
      panes
        .map(parsePane)
        .filter((p) => p.start === start)
        .map((p) => `${p.scope} ${p.key} ${p.counts[0]}`);
    t.advance(T0 + 5_000 + late, sink);
    expect(at(T0)).toEqual(['terminal T0 1', 'merchant M0 1']);
    t.advance(T0 + 10_000 + late, sink);
    expect(at(T0 + 5_000)).toEqual(['terminal T1 1', 'merchant M1 1']);
    // nothing sold after: no more rows, however long the time runs
    t.advance(T0 + 3_600_000 + late, sink);
    expect(panes).toHaveLength(4);
    // a terminal's row carries its merchant and region
    expect(panes[0]!.split('\t').slice(0, 5)).toEqual([
      'terminal',
      'T0',
      String(T0),
      'M0',
      'CN-31',
    ]);
  });

  it("an event older than the partition's first (within the lateness) gets its pane row; the rules start at the first", () => {
    const ticks: number[] = [];
    const monitor = bareMonitor();
    const t = new EventStage({
      partition: 0,
      sourcePartitions: 1,
      rollupPartitions: 1,
      monitor: {
        ...monitor,
        tick: (wm?: number) => {
          if (wm !== undefined) ticks.push(wm);
          return monitor.tick(wm);
        },
      },
      paneWindow: win.paneWindow,
      p0: win.p0,
    });
    const { panes, sink } = collectPanes();
    // three terminals agree on the partition's time (ahead-guard.ts lets their events in)...
    for (let i = 0; i < 3; i++) t.handle(auth(i, T0 + 1_000 + i * 500, 'CN-31'), sink);
    // ...then one 4 s older than the first: not late (the lateness is 10 s), in the pane before
    t.handle(auth(4, T0 - 3_000, 'CN-31'), sink);
    t.advance(T0 + 5_000 + DEFAULT_ENGINE_CONFIG.allowedLatenessMs, sink);
    const rows = panes
      .map(parsePane)
      .map((p) => `${p.start - T0} ${p.scope} ${p.key} ${p.counts[0]}`);
    expect(rows).toEqual([
      '-5000 terminal T1 1',
      '-5000 merchant M0 1',
      '0 terminal T0 1',
      '0 terminal T1 1',
      '0 terminal T2 1',
      '0 merchant M0 2',
      '0 merchant M1 1',
    ]);
    // the rules' first boundary is the first event's pane end, as it always was
    expect(ticks[0]).toBe(T0 + 5_000);
  });

  it('a gap longer than the stepped one (7 days) is jumped after the panes before it got their rows', () => {
    // Two partitions sell for 2 minutes, fall quiet for 8 days, then sell for 2 minutes again.
    // The events of the last panes before the gap are ingested ahead of the watermark (up to
    // the lateness): the jump must close those panes first, in both stages.
    const parts: TerminalEvent[][] = [[], []];
    const gap = 8 * 86_400_000;
    let n = 0;
    for (const from of [T0, T0 + gap]) {
      for (let k = 0; k < 40; k++) {
        const ev = auth(n, from + k * 3000, 'CN-31');
        parts[n % 2]!.push(ev);
        n++;
      }
    }
    const { local, sink, tasks, merge } = twoPartitions();
    for (let p = 0; p < 2; p++) for (const ev of parts[p]!) tasks[p]!.handle(ev, sink);
    const end = T0 + gap + 3_600_000;
    for (const t of tasks) t.advance(end, sink);
    const { merged } = merge();
    const unsettled = PANE_COUNTERS.findIndex(([c]) => c === 'unsettled');
    const sum = (lines: string[], scope: string, before: number, i = 0) =>
      lines
        .map(parsePane)
        .filter((p) => p.scope === scope && p.start < before)
        .reduce((a, p) => a + p.counts[i]!, 0);
    // every auth in a pane row, before the gap and after it, and the sales before it that were
    // never settled, a day later: the terminals' and merchants' (event stages), the region's
    // and the fleet's (rollup stage)
    for (const [lines, scope] of [
      [local, 'terminal'],
      [local, 'merchant'],
      [merged, 'region'],
      [merged, 'fleet'],
    ] as const) {
      expect([scope, sum(lines, scope, T0 + gap)]).toEqual([scope, 40]);
      expect([scope, sum(lines, scope, end)]).toEqual([scope, 80]);
      expect([scope, sum(lines, scope, T0 + gap, unsettled)]).toEqual([scope, 40]);
    }
  });

  it('sends nothing while replaying (sink null) but keeps state', () => {
    const t = task(0, 1);
    const { panes, sink } = collectPanes();
    for (let i = 0; i < 50; i++) t.handle(auth(i, T0 + i * 1000, 'CN-31'), null);
    expect(panes).toEqual([]);
    for (let i = 50; i < 100; i++) t.handle(auth(i, T0 + i * 1000, 'CN-31'), sink);
    // Rows only for panes closed while sending; the windows (state) still count the replayed
    // events: M0 has the even events, all of them before the window's end.
    const rows = panes.map(parsePane);
    expect(rows.length).toBeGreaterThan(0);
    const firstSent = Math.min(...rows.map((p) => p.start));
    // panes closed while replaying ([T0 + 30 s, T0 + 35 s) the last: 49 s less the lateness)
    // are not sent; the next is, with the replayed events in it
    expect(firstSent).toBe(T0 + 35_000);
    const out = new Float64Array(METRIC_COUNT);
    expect(t.engine.read(SCOPE.merchant, 'M0', 1, out)).toBe(true);
    // the 5 min window (10 s panes) ends at the engine's watermark's pane
    const end = Math.floor(t.engine.watermark / 10_000) * 10_000;
    const want = Array.from({ length: 100 }, (_, i) => i).filter(
      (i) => i % 2 === 0 && T0 + i * 1000 < end,
    ).length;
    expect(want).toBeGreaterThan(30);
    expect(out[0]).toBe(want);
  });

  it('every window the stages read is the sum of the pane rows they wrote (a simulated evening)', () => {
    // What readers of pane_counts rely on: a window of any scope and length ending at a
    // boundary is its panes summed. Checked at every pane row, for every window whose pane ends
    // there, against the engine (terminal, merchant) or merged windows (region, firmware,
    // issuer, fleet) of the stage that wrote it, read at that moment.
    const sim = createSimulation({
      seed: 11,
      scenario: 'all',
      start: Date.UTC(2026, 2, 3, 9, 0, 0),
      durationMs: 90 * 60_000,
    });
    const written = new Map<string, { start: number; counts: number[] }[]>();
    const windowsMs = DEFAULT_ENGINE_CONFIG.windowsMs;
    const panesMs = DEFAULT_ENGINE_CONFIG.panesMs;
    const read = new Float64Array(METRIC_COUNT);
    let checked = 0;
    let rows = 0;
    const scopes = new Set<string>();
    const topology: LocalTopology = new LocalTopology(
      {
        alert: () => {},
        panes: (scope: ScopeName, key, start, m) => {
          rows++;
          scopes.add(scope);
          const id = `${scope}\u0000${key}`;
          let list = written.get(id);
          if (!list) written.set(id, (list = []));
          list.push({ start, counts: PANE_METRICS.map((i) => m[i]!) });
          const end = start + win.p0;
          for (let w = 0; w < windowsMs.length; w++) {
            if (end % panesMs[w]! !== 0) continue;
            const rollup = scope !== 'terminal' && scope !== 'merchant';
            const found = rollup
              ? topology.rollupStages.some(
                  (r) =>
                    r.windows.touched(SCOPE[scope], key, end - windowsMs[w]!, end) &&
                    (r.windows.sumInto(SCOPE[scope], key, end - windowsMs[w]!, end, read), true),
                )
              : topology.eventStages.some((e) => e.engine.read(SCOPE[scope], key, w, read));
            expect(found).toBe(true);
            const sum = PANE_METRICS.map(() => 0);
            for (const p of list) {
              if (p.start < end - windowsMs[w]! || p.start >= end) continue;
              for (let i = 0; i < sum.length; i++) sum[i]! += p.counts[i]!;
            }
            expect(sum).toEqual(PANE_METRICS.map((i) => read[i]!));
            checked++;
          }
        },
      },
      { partitions: 3, rollupPartitions: 2 },
    );
    for (const raw of sim.events()) {
      const r = validateEvent(raw);
      if (r.ok) topology.push(r.event);
    }
    topology.end();
    expect(rows).toBeGreaterThan(10_000);
    expect(checked).toBeGreaterThan(rows);
    expect([...scopes].sort()).toEqual([
      'firmware',
      'fleet',
      'issuer',
      'merchant',
      'region',
      'terminal',
    ]);
    // a pane is written once per key
    for (const list of written.values()) {
      expect(new Set(list.map((p) => p.start)).size).toBe(list.length);
    }
  });
});
