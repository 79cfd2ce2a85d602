import { describe, expect, it } from 'vitest';
import { decodeEvent, type Alert } from '@tillwatch/contracts';
import { DEFAULT_ENGINE_CONFIG } from '@tillwatch/core';
import { createSimulation } from '@tillwatch/simulator';
import { bundleRollups, bundleRollupsJson, bundlerFor, idleTick } from './rollup-bundle';
import {
  EventStage,
  RollupStage,
  streamWindows,
  FORWARD_CATEGORIES,
  eventMonitor,
  decodeRollupRecord,
  isRollupFrame,
  partitionerFor,
  rollupMonitor,
  type RollupMessage,
  type StageSink,
} from '@tillwatch/stream';
import type { RollupRecord } from '@tillwatch/contracts';
import { paneLine } from './pane-rows';

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
  const sink: StageSink = { panes() {}, alert() {}, rollup: (m) => out.push(m) };
  const tasks = [0, 1].map(
    (partition) =>
      new EventStage({
        partition,
        sourcePartitions: 2,
        rollupPartitions: ROLLUP_PARTITIONS,
        monitor: eventMonitor(engine),
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
    panes: (...r) => stats.push(paneLine(...r)),
    alert: (a) => alerts.push(a),
    rollup() {},
  };
  for (const r of records) task.handle(r, sink);
  return { stats, alerts };
}

type Bundle = Extract<RollupRecord, { k: 'b' }>;
const decode = (v: Buffer | string) =>
  decodeRollupRecord(typeof v === 'string' ? Buffer.from(v) : v) as Bundle;

describe('rollup bundles', () => {
  const msgs = messages();
  const route = partitionerFor(ROLLUP_PARTITIONS);

  /** each partition's records as the rollup stage gets them: single, or from bundles */
  function perPartition(
    bundle: typeof bundleRollups | typeof bundleRollupsJson | null,
    limit = 16 * 1024,
  ): RollupRecord[][] {
    const out: RollupRecord[][] = Array.from({ length: ROLLUP_PARTITIONS }, () => []);
    if (!bundle) {
      for (const m of msgs) out[m.partition ?? route(m.key!)]!.push(m.value);
      return out;
    }
    // bundles as a commit group makes them: several batches' messages at a time
    for (let i = 0; i < msgs.length; i += 1234) {
      for (const b of bundle(msgs.slice(i, i + 1234), route, limit))
        out[b.partition]!.push(decode(b.value));
    }
    return out;
  }

  it('a rollups partition computes from bundles exactly what it computes from single records', () => {
    const single = perPartition(null);
    const bundled = perPartition(bundleRollups);
    const legacy = perPartition(bundleRollupsJson);
    let alerts = 0;
    for (let p = 0; p < ROLLUP_PARTITIONS; p++) {
      const a = rollupOutputs(single[p]!);
      const b = rollupOutputs(bundled[p]!);
      const j = rollupOutputs(legacy[p]!);
      expect(b.stats.length).toBeGreaterThan(0);
      expect(b.stats).toEqual(a.stats);
      expect(b.alerts).toEqual(a.alerts);
      // the legacy JSON bundles of an older processor are still read, to the same results
      expect(j.stats).toEqual(a.stats);
      expect(j.alerts).toEqual(a.alerts);
      alerts += a.alerts.length;
    }
    expect(alerts).toBeGreaterThan(0); // the outage is raised, from bundles as from records
    expect(msgs.length).toBeGreaterThan(50 * bundled.flat().length);
  });

  it('a frame gives back every record as the JSON round trip of it, field for field', () => {
    const out = bundleRollups(msgs, route);
    for (let p = 0; p < ROLLUP_PARTITIONS; p++) {
      const want = msgs.filter((m) => (m.partition ?? route(m.key!)) === p).map((m) => m.value);
      const got = out.filter((b) => b.partition === p).flatMap((b) => decode(b.value).r);
      expect(got).toStrictEqual(JSON.parse(JSON.stringify(want)));
      expect(got.map((r) => JSON.stringify(r))).toEqual(want.map((r) => JSON.stringify(r)));
    }
    for (const b of out) expect(isRollupFrame(b.value)).toBe(true);
    expect(new Set(msgs.map((m) => m.value.k))).toEqual(new Set(['p', 't', 'x']));
  });

  it('a bundle is cut at the byte limit, stamped with its latest pane end, in partition order', () => {
    const limit = 4096;
    const some = msgs.slice(0, 5000);
    const out = bundleRollups(some, route, limit);
    expect(out.length).toBeGreaterThan(ROLLUP_PARTITIONS * 5);
    for (const b of out) {
      const rec = decode(b.value);
      if (rec.r.length > 1) expect(b.value.length).toBeLessThanOrEqual(limit);
      const ends = rec.r.map((r) =>
        r.k === 't' ? r.wm : r.k === 'p' ? r.pane + win.p0 : Number.NEGATIVE_INFINITY,
      );
      expect(Number(b.timestamp)).toBe(Math.max(...ends));
    }
    // cut where it must be: the next record would not have fitted
    for (let i = 0; i + 1 < out.length; i++) {
      if (out[i]!.partition !== out[i + 1]!.partition) continue;
      const next = decode(out[i + 1]!.value).r[0]!;
      const grown = bundleRollups(
        [...decode(out[i]!.value).r, next].map((value) => ({
          partition: 0,
          key: null,
          value,
          timestamp: 0,
        })),
        route,
        Number.MAX_SAFE_INTEGER,
      );
      expect(grown[0]!.value.length).toBeGreaterThan(limit);
    }
    const order = out.flatMap((b) =>
      decode(b.value).r.map((r) => [b.partition, JSON.stringify(r)] as const),
    );
    for (let p = 0; p < ROLLUP_PARTITIONS; p++) {
      const want = some
        .filter((m) => (m.partition ?? route(m.key!)) === p)
        .map((m) => JSON.stringify(m.value));
      expect(order.filter(([q]) => q === p).map(([, v]) => v)).toEqual(want);
    }
  });

  it('ROLLUPS_FORMAT picks the form on the wire; a reader gets the same records from both', () => {
    const bin = bundlerFor('binary')(msgs, route);
    const json = bundlerFor('json')(msgs, route);
    expect(bin.every((b) => Buffer.isBuffer(b.value) && isRollupFrame(b.value))).toBe(true);
    expect(json.every((b) => typeof b.value === 'string' && b.value.startsWith('{"k":"b"'))).toBe(
      true,
    );
    // each partition's records in its order (bundles of different partitions may interleave)
    const records = (list: typeof bin) =>
      Array.from({ length: ROLLUP_PARTITIONS }, (_, p) =>
        list.filter((b) => b.partition === p).flatMap((b) => decode(b.value).r),
      );
    expect(records(bin)).toEqual(records(json));
    const tick = { k: 't', src: 2, n: 4, wm: 0, idle: true };
    expect(decodeRollupRecord(idleTick('binary', 2, 4) as Buffer)).toEqual({ k: 'b', r: [tick] });
    expect(JSON.parse(idleTick('json', 2, 4) as string)).toEqual(tick);
    expect(isRollupFrame(idleTick('binary', 2, 4) as Buffer)).toBe(true);
  });

  it('binary bundles are smaller than the JSON ones', () => {
    const bin = bundleRollups(msgs, route).reduce((n, b) => n + b.value.length, 0);
    const json = bundleRollupsJson(msgs, route).reduce((n, b) => n + Buffer.byteLength(b.value), 0);
    expect(bin).toBeLessThan(json / 2);
  });
});
