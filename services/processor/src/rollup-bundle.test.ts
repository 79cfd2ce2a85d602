import { describe, expect, it } from 'vitest';
import { decodeEvent, type Alert } from '@tillwatch/contracts';
import { DEFAULT_ENGINE_CONFIG } from '@tillwatch/core';
import { createSimulation } from '@tillwatch/simulator';
import { bundleRollups } from './rollup-bundle';
import {
  EventStage,
  RollupStage,
  streamWindows,
  FORWARD_CATEGORIES,
  eventMonitor,
  partitionerFor,
  rollupMonitor,
  type RollupMessage,
  type StageSink,
} from '@tillwatch/stream';
import type { RollupRecord } from '@tillwatch/contracts';
import { statLine } from './stat-rows';

const win = streamWindows(DEFAULT_ENGINE_CONFIG);
const engine = { windowsMs: win.windowsMs, panesMs: win.panesMs };
const ROLLUP_PARTITIONS = 3;

/** Two source partitions over an hour with a regional outage: their rollup messages, in order. */
function messages(): RollupMessage[] {
  const route = partitionerFor(2);
  const sim = createSimulation({
    seed: 5,
    scenario: 'regional-outage-errors',
    start: Date.UTC(2026, 2, 2, 1, 0, 0),
    durationMs: 3_600_000,
    fleet: { terminals: 400 },
  });
  const out: RollupMessage[] = [];
  const sink: StageSink = { stats() {}, alert() {}, rollup: (m) => out.push(m) };
  const tasks = [0, 1].map(
    (partition) =>
      new EventStage({
        partition,
        sourcePartitions: 2,
        rollupPartitions: ROLLUP_PARTITIONS,
        monitor: eventMonitor(engine),
        statsWindows: win.statsWindows,
        paneWindow: win.paneWindow,
        p0: win.p0,
        forwardCategories: FORWARD_CATEGORIES,
      }),
  );
  for (const raw of sim.events()) {
    const d = decodeEvent(JSON.stringify(raw));
    if (!d.ok) throw new Error(d.reason);
    tasks[route(d.event.merchantId) % 2]!.handle(d.event, sink);
  }
  return out;
}

function rollupOutputs(records: RollupRecord[]) {
  const stats: string[] = [];
  const alerts: Alert[] = [];
  const task = new RollupStage({
    windowsMs: DEFAULT_ENGINE_CONFIG.windowsMs,
    panesMs: DEFAULT_ENGINE_CONFIG.panesMs,
    p0: win.p0,
    monitor: (w) => rollupMonitor(w, engine),
  });
  const sink: StageSink = {
    stats: (...r) => stats.push(statLine(...r)),
    alert: (a) => alerts.push(a),
    rollup() {},
  };
  for (const r of records) task.handle(r, sink);
  return { stats, alerts };
}

describe('rollup bundles', () => {
  const msgs = messages();
  const route = partitionerFor(ROLLUP_PARTITIONS);

  it('a rollups partition computes from bundles exactly what it computes from single records', () => {
    // bundles as a commit group makes them: several batches' messages at a time
    const bundled: RollupRecord[][] = Array.from({ length: ROLLUP_PARTITIONS }, () => []);
    const single: RollupRecord[][] = Array.from({ length: ROLLUP_PARTITIONS }, () => []);
    for (const m of msgs) single[m.partition ?? route(m.key!)]!.push(m.value);
    for (let i = 0; i < msgs.length; i += 1234) {
      for (const b of bundleRollups(msgs.slice(i, i + 1234), route, 16 * 1024)) {
        const rec = JSON.parse(b.value) as RollupRecord;
        expect(rec.k).toBe('b');
        expect(Buffer.byteLength(b.value)).toBeLessThanOrEqual(16 * 1024 + 4096);
        bundled[b.partition]!.push(rec);
      }
    }
    let alerts = 0;
    for (let p = 0; p < ROLLUP_PARTITIONS; p++) {
      const a = rollupOutputs(single[p]!);
      const b = rollupOutputs(bundled[p]!);
      expect(b.stats.length).toBeGreaterThan(0);
      expect(b.stats).toEqual(a.stats);
      expect(b.alerts).toEqual(a.alerts);
      alerts += a.alerts.length;
    }
    expect(alerts).toBeGreaterThan(0); // the outage is raised, from bundles as from records
    expect(msgs.length).toBeGreaterThan(50 * bundled.flat().length);
  });

  it('a bundle is stamped with its latest pane end and keeps its partition order', () => {
    const out = bundleRollups(msgs.slice(0, 5000), route);
    for (const b of out) {
      const rec = JSON.parse(b.value) as { r: { pane?: number; wm?: number }[] };
      const ends = rec.r.map((r) => (r.wm !== undefined ? r.wm : r.pane! + win.p0));
      expect(Number(b.timestamp)).toBe(Math.max(...ends));
    }
    const order = out.flatMap((b) =>
      (JSON.parse(b.value) as { r: unknown[] }).r.map(
        (r) => [b.partition, JSON.stringify(r)] as const,
      ),
    );
    for (let p = 0; p < ROLLUP_PARTITIONS; p++) {
      const want = msgs
        .slice(0, 5000)
        .filter((m) => (m.partition ?? route(m.key!)) === p)
        .map((m) => JSON.stringify(m.value));
      expect(order.filter(([q]) => q === p).map(([, v]) => v)).toEqual(want);
    }
  });
});
