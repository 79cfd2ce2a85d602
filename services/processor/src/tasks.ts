import type { Alert, TerminalEvent } from '@tillwatch/contracts';
import { windowLabel } from '@tillwatch/contracts';
import {
  M,
  METRIC_COUNT,
  SCOPE,
  type EngineConfig,
  type ScopeIndex,
  type ScopeName,
  type WindowEngine,
} from '@tillwatch/core';
import { STAT_COUNTERS } from './store';

/**
 * Per-partition work, free of I/O so it can be tested and replayed: an EventTask owns one
 * pos.events partition (terminal and merchant windows are complete there, DESIGN.md), a
 * RollupTask one pos.rollups partition (region, firmware and issuer windows merged over every
 * source partition).
 *
 * Time moves in steps of the smallest pane (p0 = 5 s by default). Before an event whose event
 * time moves the watermark past one or more pane boundaries, the task advances the engine to
 * each boundary in turn and closes it: the engine can only read the window ending at the latest
 * closed boundary, so stepping is how every boundary gets its row, also across gaps.
 *
 * Rollup partials (the format of pos.rollups, see README.md):
 *   partial  key "<scope>:<key>"    {"k":"p","src":3,"s":"region","key":"CN-31","pane":t,"c":[22 counts]}
 *   tick     explicit partition     {"k":"t","src":3,"n":4,"wm":t}
 * A partial holds the counter deltas of one p0 pane [t, t+p0) of one region/firmware/issuer
 * key as seen by one source partition: exactly the engine's counters for that key over a window
 * of one pane, which the processor keeps as an extra engine window (windowsMs gets p0 appended).
 * A tick says "source partition `src` (of `n`) has sent every partial of panes ending at or
 * before `wm`"; each source sends one to every rollup partition at every p0 boundary, so a
 * rollup partition knows the pane is complete once all n sources ticked past it. The record
 * timestamp is the pane end (event time): recovery finds its replay start by timestamp.
 */

export const PARTITION_LOCAL_SCOPES: readonly ScopeName[] = ['terminal', 'merchant'];
export const ROLLUP_SCOPES: readonly ScopeName[] = ['region', 'firmware', 'issuer'];

export interface PartialRecord {
  k: 'p';
  src: number;
  s: ScopeName;
  key: string;
  pane: number;
  c: number[];
}
export interface TickRecord {
  k: 't';
  src: number;
  n: number;
  wm: number;
}
export type RollupRecord = PartialRecord | TickRecord;

export interface RollupMessage {
  /** explicit partition (ticks); partials go by key */
  partition?: number;
  key: string | null;
  value: RollupRecord;
  /** record timestamp: the pane end, event time */
  timestamp: number;
}

export interface TaskSink {
  /** one TabSeparated line of the stats table */
  stats(line: string): void;
  alert(a: Alert): void;
  rollup(m: RollupMessage): void;
}

/** Engine windows for the processor: the stats windows plus one window of one smallest pane. */
export function processorEngineWindows(base: Pick<EngineConfig, 'windowsMs' | 'panesMs'>): {
  windowsMs: number[];
  panesMs: number[];
  statsWindows: number;
  paneWindow: number;
  p0: number;
} {
  const p0 = Math.min(...base.panesMs);
  for (const p of base.panesMs) {
    if (p % p0 !== 0)
      throw new Error(`pane ${p} ms is not a multiple of the smallest pane ${p0} ms`);
  }
  return {
    windowsMs: [...base.windowsMs, p0],
    panesMs: [...base.panesMs, p0],
    statsWindows: base.windowsMs.length,
    paneWindow: base.windowsMs.length,
    p0,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** TabSeparated escaping (ClickHouse text formats): backslash, tab, newline. */
export function tsvEscape(v: string): string {
  return /[\\\t\n\r]/.test(v)
    ? v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : v;
}

/**
 * A window-stats row from engine counters (the same figures as Monitor.rates), as one
 * TabSeparated line in window_stats' column order (@tillwatch/clickhouse schema): scope, key,
 * window, ts, ts_ms, merchant_id, region, counters, rates, volume_ratio (\\N: the processor
 * keeps no volume baseline), version (0: a replay writes the same row, not a newer one).
 */
export function statLine(
  scope: ScopeName,
  key: string,
  windowLabelText: string,
  end: number,
  m: Float64Array,
  merchantId = '',
  region = '',
): string {
  const auths = m[M.auths]!;
  const failures = auths - m[M.approved]!;
  const faults = failures - m[M.cardholder]!;
  let line = `${scope}\t${tsvEscape(key)}\t${windowLabelText}\t${Math.floor(end / 1000)}\t${end}\t${tsvEscape(merchantId)}\t${tsvEscape(region)}`;
  line += `\t${auths}\t${m[M.approved]!}\t${failures}\t${faults}`;
  for (let i = 2; i < STAT_COUNTERS.length; i++) line += `\t${m[STAT_COUNTERS[i]![1]]!}`;
  line += `\t${auths > 0 ? failures / auths : 0}\t${auths > 0 ? faults / auths : 0}\t${auths > 0 ? m[M.reversals]! / auths : 0}\t${m[M.settlementDue]! > 0 ? m[M.unsettled]! / m[M.settlementDue]! : 0}\t\\N\t0\n`;
  return line;
}

/** What an EventTask needs of the Monitor (structural, so tests can drive a bare engine). */
export interface MonitorLike {
  readonly engine: WindowEngine;
  ingest(ev: TerminalEvent): unknown;
  tick(watermarkMs?: number): Alert[];
}

export interface EventTaskOptions {
  partition: number;
  /** partitions of the source topic (pos.events) */
  sourcePartitions: number;
  rollupPartitions: number;
  monitor: MonitorLike;
  /** how many leading engine windows get stats rows (the rest is the pane window) */
  statsWindows: number;
  paneWindow: number;
  p0: number;
}

export class EventTask {
  readonly engine: WindowEngine;
  /** next pane boundary to close (multiple of p0) */
  private next = Number.NaN;
  private readonly m = new Float64Array(METRIC_COUNT);
  private readonly windows: readonly number[];
  private readonly panes: readonly number[];
  private readonly lateness: number;
  private readonly labels: readonly string[];
  boundariesClosed = 0;

  constructor(private readonly o: EventTaskOptions) {
    this.engine = o.monitor.engine;
    this.windows = this.engine.config.windowsMs;
    this.panes = this.engine.config.panesMs;
    this.lateness = this.engine.config.allowedLatenessMs;
    this.labels = this.windows.map(windowLabel);
  }

  /** Ingest one valid event; boundaries it passes are closed first and their results sent to `sink` (or dropped when null: replaying what was already written). */
  handle(ev: TerminalEvent, sink: TaskSink | null): void {
    const target = ev.ts - this.lateness;
    if (Number.isNaN(this.next)) this.next = (Math.floor(ev.ts / this.o.p0) + 1) * this.o.p0;
    while (this.next <= target) {
      this.close(this.next, sink);
      this.next += this.o.p0;
    }
    this.o.monitor.ingest(ev);
  }

  /** Feed an event of the settlement rebuild (before the replay): no stepping, no outputs. */
  prime(ev: TerminalEvent): void {
    this.o.monitor.ingest(ev);
  }

  private close(b: number, sink: TaskSink | null): void {
    const alerts = this.o.monitor.tick(b);
    this.boundariesClosed++;
    if (!sink) return;
    for (const a of alerts) sink.alert(a);
    const e = this.engine;
    const m = this.m;
    for (let w = 0; w < this.o.statsWindows; w++) {
      const pane = this.panes[w]!;
      if (b % pane !== 0) continue;
      for (const scope of PARTITION_LOCAL_SCOPES) {
        const si = SCOPE[scope];
        for (const key of e.touchedSince(si, b - pane)) {
          if (!e.read(si, key, w, m)) continue;
          if (scope === 'terminal') {
            const t = e.terminalInfo(key);
            sink.stats(statLine(scope, key, this.labels[w]!, b, m, t?.merchantId, t?.region));
          } else sink.stats(statLine(scope, key, this.labels[w]!, b, m, key));
        }
      }
    }
    // Partials: the pane window [b - p0, b) of every rollup key that had a contribution in it.
    const pw = this.o.paneWindow;
    const paneStart = b - this.o.p0;
    for (const scope of ROLLUP_SCOPES) {
      const si: ScopeIndex = SCOPE[scope];
      for (const key of e.touchedSince(si, paneStart)) {
        if (!e.read(si, key, pw, m)) continue;
        let any = false;
        for (let i = 0; i < METRIC_COUNT; i++) if (m[i] !== 0) any = true;
        if (!any) continue;
        sink.rollup({
          key: `${scope}:${key}`,
          value: {
            k: 'p',
            src: this.o.partition,
            s: scope,
            key,
            pane: paneStart,
            c: Array.from(m),
          },
          timestamp: b,
        });
      }
    }
    for (let r = 0; r < this.o.rollupPartitions; r++) {
      sink.rollup({
        partition: r,
        key: null,
        value: { k: 't', src: this.o.partition, n: this.o.sourcePartitions, wm: b },
        timestamp: b,
      });
    }
  }
}

export interface RollupTaskOptions {
  windowsMs: readonly number[];
  panesMs: readonly number[];
  p0: number;
}

/**
 * Merges partials of one pos.rollups partition: counter deltas per (scope, key, p0 pane), summed
 * over source partitions, windows summed from panes. A boundary closes once every source
 * partition ticked past it (the minimum of their watermarks), so a window row is emitted only
 * when all of its panes are in.
 */
export class RollupTask {
  private readonly srcWm = new Map<number, number>();
  private sources = 0;
  /** "scope\u0000key" -> pane start -> counts */
  private readonly panes = new Map<string, Map<number, Float64Array>>();
  private next = Number.NaN;
  private closedUpTo = Number.NEGATIVE_INFINITY;
  private readonly longest: number;
  private readonly sum = new Float64Array(METRIC_COUNT);
  /** partials for panes already closed: should not happen; counted, not silently lost */
  late = 0;

  constructor(private readonly o: RollupTaskOptions) {
    this.longest = Math.max(...o.windowsMs);
  }

  /** Global watermark: every source's tick, or -Infinity until all have ticked. */
  get watermark(): number {
    if (this.sources === 0 || this.srcWm.size < this.sources) return Number.NEGATIVE_INFINITY;
    let min = Number.POSITIVE_INFINITY;
    for (const v of this.srcWm.values()) if (v < min) min = v;
    return min;
  }

  handle(rec: RollupRecord, sink: TaskSink | null): void {
    if (rec.k === 'p') {
      const end = rec.pane + this.o.p0;
      if (end <= this.closedUpTo) {
        this.late++;
        return;
      }
      const id = `${rec.s}\u0000${rec.key}`;
      let byPane = this.panes.get(id);
      if (!byPane) this.panes.set(id, (byPane = new Map()));
      let c = byPane.get(rec.pane);
      if (!c) byPane.set(rec.pane, (c = new Float64Array(METRIC_COUNT)));
      for (let i = 0; i < METRIC_COUNT; i++) c[i]! += rec.c[i] ?? 0;
      if (Number.isNaN(this.next) || end < this.next) this.next = end;
      return;
    }
    this.sources = Math.max(this.sources, rec.n);
    const prev = this.srcWm.get(rec.src) ?? Number.NEGATIVE_INFINITY;
    if (rec.wm > prev) this.srcWm.set(rec.src, rec.wm);
    const wm = this.watermark;
    if (Number.isNaN(this.next)) return;
    while (this.next <= wm) {
      this.close(this.next, sink);
      this.closedUpTo = this.next;
      this.next += this.o.p0;
    }
  }

  private close(b: number, sink: TaskSink | null): void {
    const horizon = b - this.longest;
    for (const [id, byPane] of this.panes) {
      for (const t of byPane.keys()) if (t < horizon) byPane.delete(t);
      if (byPane.size === 0) {
        this.panes.delete(id);
        continue;
      }
      if (!sink) continue;
      const sep = id.indexOf('\u0000');
      const scope = id.slice(0, sep) as ScopeName;
      const key = id.slice(sep + 1);
      for (let w = 0; w < this.o.windowsMs.length; w++) {
        const pane = this.o.panesMs[w]!;
        if (b % pane !== 0) continue;
        let touched = false;
        for (const t of byPane.keys()) if (t >= b - pane && t < b) touched = true;
        if (!touched) continue;
        const start = b - this.o.windowsMs[w]!;
        this.sum.fill(0);
        for (const [t, c] of byPane) {
          if (t < start || t >= b) continue;
          for (let i = 0; i < METRIC_COUNT; i++) this.sum[i]! += c[i]!;
        }
        sink.stats(
          statLine(
            scope,
            key,
            windowLabel(this.o.windowsMs[w]!),
            b,
            this.sum,
            '',
            scope === 'region' ? key : '',
          ),
        );
      }
    }
  }
}

export { iso };
