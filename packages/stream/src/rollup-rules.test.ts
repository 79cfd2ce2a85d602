import { describe, expect, it } from 'vitest';
import { decodeEvent, type Alert, type TerminalEvent } from '@tillwatch/contracts';
import { DEFAULT_ENGINE_CONFIG } from '@tillwatch/core';
import { CROSS_PARTITION_RULES, createMonitor, type RulesConfigInput } from '@tillwatch/rules';
import { createSimulation, type IncidentScenario } from '@tillwatch/simulator';
import {
  EventStage,
  RollupStage,
  streamWindows,
  FORWARD_CATEGORIES,
  eventMonitor,
  rollupMonitor,
  type RollupMessage,
  type StageSink,
} from './index';
import { smallFleet, stream, T0 } from '@tillwatch/rules/testing';
import { paneText, parsePane } from './test-rows';

/**
 * The cross-partition rules in the rollup stage against the same rules in one Monitor that sees
 * every event: terminals spread over 3 source partitions, keys over 2 rollup partitions, as in
 * the processor (which adds Kafka, ClickHouse and recovery around exactly these tasks).
 */

const win = streamWindows(DEFAULT_ENGINE_CONFIG);
const engine = {
  windowsMs: win.windowsMs,
  panesMs: win.panesMs,
  allowedLatenessMs: DEFAULT_ENGINE_CONFIG.allowedLatenessMs,
};
const cross = new Set<string>(CROSS_PARTITION_RULES);

function events(scenario: IncidentScenario, seed: number) {
  const sim = createSimulation({
    seed,
    scenario,
    // business hours (09:00 to 12:00 in the fleet's UTC+8), where the incidents have traffic
    start: Date.UTC(2026, 2, 2, 1, 0, 0),
    durationMs: 3 * 3_600_000,
    fleet: { terminals: 800 },
  });
  const out: TerminalEvent[] = [];
  for (const raw of sim.events()) {
    const d = decodeEvent(JSON.stringify(raw));
    if (!d.ok) throw new Error(d.reason);
    out.push(d.event);
  }
  return { events: out, label: sim.labels[0]! };
}

const hash = (s: string) => {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h >>> 0;
};

function sinkInto(alerts: Alert[], rollups?: RollupMessage[][], stats?: string[]): StageSink {
  return {
    panes: (...r) => stats?.push(paneText(...r)),
    alert: (a) => alerts.push(a),
    rollup: (m) => {
      // without rollup partitions, a partition-local alert on its way to the fold gate is the output
      if (!rollups) {
        if (m.value.k === 'x') alerts.push(m.value.a);
        return;
      }
      const r = m.partition ?? hash(m.key!) % rollups.length;
      rollups[r]!.push(m);
    },
  };
}

/** One Monitor over every event, every rule on: what a single process would raise. */
function single(evs: readonly TerminalEvent[], rules: RulesConfigInput = {}): Alert[] {
  const alerts: Alert[] = [];
  const t = new EventStage({
    partition: 0,
    sourcePartitions: 1,
    rollupPartitions: 0,
    monitor: createMonitor({ engine, rules }),
    paneWindow: win.paneWindow,
    p0: win.p0,
  });
  const sink = sinkInto(alerts);
  for (const ev of evs) t.handle(ev, sink);
  return alerts.filter((a) => cross.has(a.rule));
}

function partitioned(
  evs: readonly TerminalEvent[],
  sources = 3,
  rollupPartitions = 2,
  rules: RulesConfigInput = {},
) {
  const logs: RollupMessage[][] = Array.from({ length: rollupPartitions }, () => []);
  const local: Alert[] = [];
  const tasks = Array.from(
    { length: sources },
    (_, partition) =>
      new EventStage({
        partition,
        sourcePartitions: sources,
        rollupPartitions,
        monitor: eventMonitor(engine, { rules }),
        paneWindow: win.paneWindow,
        p0: win.p0,
        forwardCategories: FORWARD_CATEGORIES,
      }),
  );
  const parts: TerminalEvent[][] = Array.from({ length: sources }, () => []);
  // by merchant, as pos.events is keyed
  for (const ev of evs) parts[hash(ev.merchantId) % sources]!.push(ev);
  // Interleave as a consumer does: partition by partition, in batches of 500.
  const sink = sinkInto(local, logs);
  for (let i = 0; parts.some((p) => i < p.length); i += 500) {
    for (let p = 0; p < sources; p++)
      for (const ev of parts[p]!.slice(i, i + 500)) tasks[p]!.handle(ev, sink);
  }
  const alerts: Alert[] = [];
  const rollups = logs.map((log) => {
    const rt = new RollupStage({
      windowsMs: DEFAULT_ENGINE_CONFIG.windowsMs,
      panesMs: DEFAULT_ENGINE_CONFIG.panesMs,
      p0: win.p0,
      monitor: (windows) => rollupMonitor(windows, engine, { rules }),
    });
    // the rollup stage passes the partition-local rules' transitions through its fold gate
    const s: StageSink = {
      alert: (a) => (cross.has(a.rule) ? alerts : local).push(a),
      rollup: () => {},
    };
    for (const m of log) rt.handle(m.value, s);
    return rt;
  });
  return { alerts, local, rollups, logs };
}

const fired = (alerts: readonly Alert[]) =>
  alerts.filter((a) => a.status === 'firing').map((a) => `${a.rule}|${a.scope}|${a.key}`);

describe('cross-partition rules in the rollup stage', () => {
  for (const [scenario, rule] of [
    ['regional-outage-errors', 'regional_outage'],
    ['issuer-outage', 'issuer_degradation'],
    ['firmware-regression', 'firmware_regression'],
  ] as const) {
    it(`${rule}: raised by the rollup as by one Monitor over every event (${scenario})`, () => {
      const { events: evs, label } = events(scenario, 3);
      const want = single(evs);
      const got = partitioned(evs);
      // the labelled incident is found, by both
      expect(fired(want)).toContain(`${rule}|${label.scope}|${label.key}`);
      expect(fired(got.alerts)).toContain(`${rule}|${label.scope}|${label.key}`);
      // the same episodes, opened within one evaluation period of each other
      expect([...new Set(fired(got.alerts))].sort()).toEqual([...new Set(fired(want))].sort());
      const first = (as: readonly Alert[], k: string) =>
        Date.parse(
          as.find((a) => `${a.rule}|${a.scope}|${a.key}` === k && a.status === 'firing')!.firstSeen,
        );
      for (const k of new Set(fired(want))) {
        expect(Math.abs(first(got.alerts, k) - first(want, k))).toBeLessThanOrEqual(60_000);
      }
      // and they resolve too, as in one Monitor
      const resolved = (as: readonly Alert[]) =>
        new Set(as.filter((a) => a.status === 'resolved').map((a) => `${a.rule}|${a.key}`));
      expect(resolved(got.alerts)).toEqual(resolved(want));
      // the source partitions raise none of them, and the rollup nothing else
      expect(got.local.filter((a) => cross.has(a.rule))).toEqual([]);
      expect(got.alerts.every((a) => cross.has(a.rule))).toBe(true);
      // evidence breadth comes from the forwarded failures; one Monitor also sees the events
      // of the allowed lateness past the boundary, the rollup stops at it
      const a = got.alerts.find(
        (x) => x.rule === rule && x.key === label.key && x.status === 'firing',
      )!;
      const b = want.find((x) => x.rule === rule && x.key === label.key && x.status === 'firing')!;
      const ev = a.evidence as Record<string, unknown>;
      const evWant = b.evidence as Record<string, unknown>;
      const breadthKey =
        rule === 'issuer_degradation' ? 'affectedMerchantCount' : 'affectedTerminalCount';
      expect(ev[breadthKey]).toBeGreaterThan(0);
      expect(
        Math.abs((ev[breadthKey] as number) - (evWant[breadthKey] as number)),
      ).toBeLessThanOrEqual(Math.max(1, Math.ceil(0.1 * (evWant[breadthKey] as number))));
      for (const rt of got.rollups) expect(rt.late).toBe(0);
    });
  }

  it('regional_outage: a carrier outage (silent tills while their shops sell) crosses the stages', () => {
    // every shop's first till on a cellular line, the rest on ethernet; R2's cellular tills cut
    // off for an hour: only the source partitions know the shops, only the rollup the region
    const fleet = smallFleet({ rate: 2 });
    const start = T0 + 2 * 3_600_000 + 23 * 60_000; // not on the hour, when lanes close
    const evs = stream(fleet, T0, T0 + 4 * 3_600_000, (ev, t) => {
      if (t.region === 'R2' && t.id.endsWith('_0') && ev.ts >= start && ev.ts < start + 3_600_000)
        return null;
      if (ev.type !== 'heartbeat') return ev;
      return { ...ev, network: t.id.endsWith('_0') ? 'cellular' : 'ethernet' };
    });
    const want = single(evs);
    const got = partitioned(evs);
    expect([...new Set(fired(want))]).toEqual(['regional_outage|region|R2']);
    expect([...new Set(fired(got.alerts))]).toEqual(['regional_outage|region|R2']);
    const a = got.alerts.find((x) => x.status === 'firing')!;
    const b = want.find((x) => x.status === 'firing')!;
    expect(a.evidence.trigger).toBe('partial_outage');
    expect(a.evidence.link).toMatchObject({
      network: 'cellular',
      silent: 4,
      silentWhileShopSells: 4,
    });
    // reported every 30 s at the source, judged at the rollup's next evaluation
    expect(Math.abs(Date.parse(a.firstSeen) - Date.parse(b.firstSeen))).toBeLessThanOrEqual(60_000);
    // the tills' own terminal_silent alerts fold into it at the rollup's gate
    expect(got.local.filter((x) => x.status === 'firing')).toEqual([]);
  });

  it('forwards a small share of a healthy stream, not the stream', () => {
    const { events: evs } = events('regional-outage-errors', 5);
    const got = partitioned(evs.filter((e) => e.ts < evs[0]!.ts + 90 * 60_000));
    const forwarded = got.rollups.reduce((n, rt) => n + rt.forwarded, 0);
    const n = evs.filter((e) => e.ts < evs[0]!.ts + 90 * 60_000).length;
    expect(forwarded).toBeGreaterThan(0);
    console.log(
      `forwarded to the rollup: ${forwarded} records for ${n} events (${((100 * forwarded) / n).toFixed(1)} %)`,
    );
    expect(forwarded / n).toBeLessThan(0.2);
  });

  it('an idle source partition holds the rollup back until it is reported idle', () => {
    const { events: evs } = events('regional-outage-errors', 3);
    // four source partitions, the fourth never gets a record
    const logs: RollupMessage[][] = [[]];
    const tasks = [0, 1, 2].map(
      (partition) =>
        new EventStage({
          partition,
          sourcePartitions: 4,
          rollupPartitions: 1,
          monitor: eventMonitor(engine),
          paneWindow: win.paneWindow,
          p0: win.p0,
          forwardCategories: FORWARD_CATEGORIES,
        }),
    );
    const sink = sinkInto([], logs);
    const part = evs.filter((e) => e.ts < evs[0]!.ts + 20 * 60_000);
    for (const ev of part) tasks[hash(ev.terminalId) % 3]!.handle(ev, sink);
    const stats: string[] = [];
    const rt = new RollupStage({
      windowsMs: DEFAULT_ENGINE_CONFIG.windowsMs,
      panesMs: DEFAULT_ENGINE_CONFIG.panesMs,
      p0: win.p0,
    });
    const out = sinkInto([], undefined, stats);
    const log = logs[0]!;
    const half = Math.floor(log.length / 2);
    for (const m of log.slice(0, half)) rt.handle(m.value, out);
    expect(stats).toEqual([]);
    // the processor that owns partition 3 finds it caught up and quiet: an idle tick
    rt.handle({ k: 't', src: 3, n: 4, wm: 0, idle: true }, out);
    const afterIdle = stats.length;
    expect(afterIdle).toBeGreaterThan(0);
    for (const m of log.slice(half)) rt.handle(m.value, out);
    expect(stats.length).toBeGreaterThan(afterIdle);
    expect(rt.late).toBe(0);
    // the region's pane rows count events of the three live partitions only, each pane once
    const auths = part.filter((e) => e.type === 'auth' && e.region === 'CN-31').length;
    const region = stats.map(parsePane).filter((p) => p.scope === 'region' && p.key === 'CN-31');
    const counted = region.reduce((n, p) => n + p.counts[0]!, 0);
    expect(counted).toBeGreaterThan(0);
    expect(counted).toBeLessThanOrEqual(auths);
    expect(new Set(region.map((p) => p.start)).size).toBe(region.length);
    // an ordinary tick from partition 3 makes the rollup wait for it again
    const end = region.at(-1)!.start + win.p0;
    rt.handle({ k: 't', src: 3, n: 4, wm: end }, out);
    expect(rt.watermark).toBe(end);
  });
});
