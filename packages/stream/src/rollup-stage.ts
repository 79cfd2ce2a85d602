import {
  type Alert,
  type FailureTuple,
  type PresenceTuple,
  type RollupRecord,
  type SilenceTuple,
  type TerminalEvent,
} from '@tillwatch/contracts';
import { anyCount, FLEET_KEY, METRIC_COUNT, SCOPE, type ScopeName } from '@tillwatch/core';
import { FoldGate } from './fold-gate';
import { MergedWindows } from './merged-windows';
import { MAX_STEPPED_GAP_MS } from './schedule';
import { checkMemory } from './event-stage';
import type { MonitorLike, StageMemory, StageSink } from './types';
import { ROLLUP_SCOPE_NAMES } from './windows';

export interface RollupStageOptions {
  windowsMs: readonly number[];
  panesMs: readonly number[];
  p0: number;
  /** the Monitor running the cross-partition rules over the merged windows; none: stats only */
  monitor?: (windows: MergedWindows) => MonitorLike;
  /** this stage's pos.rollups partition and their number (the key of its rules memory) */
  partition?: number;
  partitions?: number;
}

/**
 * The rollup stage of one pos.rollups partition: counter deltas per (scope, key, p0 pane) summed
 * over source partitions, windows summed from panes (MergedWindows). A boundary closes once every
 * source partition ticked past it (the minimum of their watermarks), so a window row is emitted
 * only when all of its panes are in. At each boundary the cross-partition rules run over the
 * merged windows, with the failures and presence the sources forwarded in their tracker.
 *
 * Its outputs do not depend on how the sources' records interleave (a Kafka consumer, a second
 * instance and the local topology interleave them differently): a partial is merged before its
 * pane can close, forwarded records wait for their pane to close and are then taken in
 * (ts, eventId) order, and the rules read only panes before the watermark.
 */
/** A partition-local transition not sent yet, and the events partition that raised it. */
export interface HeldAlert {
  a: Alert;
  src: number;
}

export class RollupStage {
  readonly windows: MergedWindows;
  readonly monitor: MonitorLike | undefined;
  private readonly srcWm = new Map<number, number>();
  private sources = 0;
  private readonly idle = new Set<number>();
  private next = Number.NaN;
  private closedUpTo = Number.NEGATIVE_INFINITY;
  private readonly sum = new Float64Array(METRIC_COUNT);
  /** partials for panes already closed (from a source that was idle): counted, not merged */
  late = 0;
  /** forwarded failures and presence records handed to the rules' tracker */
  forwarded = 0;
  /** forwarded records by pane start, until their pane closes */
  private readonly held = new Map<number, Held[]>();
  /** partition-local alert transitions and their source, until the boundary they were raised at closes */
  private heldAlerts: HeldAlert[] = [];
  readonly gate: FoldGate;

  constructor(private readonly o: RollupStageOptions) {
    this.windows = new MergedWindows({ windowsMs: o.windowsMs, panesMs: o.panesMs });
    this.monitor = o.monitor?.(this.windows);
    this.gate = new FoldGate(() => new Set(this.monitor?.rules?.inhibit.regional_outage ?? []));
  }

  /** Global watermark: the slowest non-idle source's tick, or -Infinity while one is awaited. */
  get watermark(): number {
    let min = Number.POSITIVE_INFINITY;
    for (let src = 0; src < this.sources; src++) {
      if (this.idle.has(src)) continue;
      const v = this.srcWm.get(src);
      if (v === undefined) return Number.NEGATIVE_INFINITY;
      if (v < min) min = v;
    }
    return min === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : min;
  }

  handle(rec: RollupRecord, sink: StageSink | null): void {
    if (rec.k === 'b') {
      for (const r of rec.r) this.handle(r, sink);
      return;
    }
    if (rec.k === 'x') {
      if (Date.parse(rec.a.ts) <= this.closedUpTo) {
        // its boundary closed while its source was reported idle: decide now
        if (this.gate.pass(rec.a)) sink?.alert(rec.a);
      } else this.heldAlerts.push({ a: rec.a, src: rec.src });
      return;
    }
    if (rec.k === 'p') {
      const end = rec.pane + this.o.p0;
      if (end <= this.closedUpTo) {
        this.late++;
        return;
      }
      this.windows.add(SCOPE[rec.s], rec.key, rec.pane, rec.c);
      if (this.monitor && (rec.f || rec.a || rec.q)) {
        // Held until the pane closes: sources run ahead of each other by whole batches, and
        // the rules must see the failures up to the boundary they judge, not minutes past it.
        let held = this.held.get(rec.pane);
        if (!held) this.held.set(rec.pane, (held = []));
        for (const f of rec.f ?? []) held.push(failureEvent(f));
        for (const a of rec.a ?? []) held.push(presenceEvent(a));
        for (const q of rec.q ?? []) held.push(q);
      }
      if (Number.isNaN(this.next) || end < this.next) this.next = end;
      return;
    }
    this.sources = Math.max(this.sources, rec.n);
    if (rec.idle) {
      this.idle.add(rec.src);
    } else {
      this.idle.delete(rec.src);
      const prev = this.srcWm.get(rec.src) ?? Number.NEGATIVE_INFINITY;
      if (!(rec.wm > prev)) return;
      this.srcWm.set(rec.src, rec.wm);
      if (rec.c && rec.wm > this.closedUpTo) {
        this.windows.add(SCOPE.fleet, FLEET_KEY, rec.wm - this.o.p0, rec.c);
        if (Number.isNaN(this.next) || rec.wm < this.next) this.next = rec.wm;
      } else if (rec.c) this.late++;
    }
    const wm = this.watermark;
    if (Number.isNaN(this.next)) return;
    while (this.next <= wm) {
      if (wm - this.next > MAX_STEPPED_GAP_MS) this.next = Math.floor(wm / this.o.p0) * this.o.p0;
      this.close(this.next, sink);
      this.closedUpTo = this.next;
      this.next += this.o.p0;
    }
  }

  private close(b: number, sink: StageSink | null): void {
    if (this.monitor && this.held.size) {
      const panes = [...this.held.keys()].filter((t) => t < b).sort((x, y) => x - y);
      for (const t of panes) {
        const evs = this.held.get(t)!.sort(byTimeThenId);
        this.held.delete(t);
        this.forwarded += evs.length;
        for (const ev of evs) {
          if (Array.isArray(ev)) this.monitor.noteSilence?.(ev);
          else this.monitor.ingest(ev);
        }
      }
    }
    this.windows.advance(b);
    const alerts = this.monitor?.tick(b) ?? [];
    for (const a of alerts) this.gate.parent(a);
    const local = this.takeAlerts(b);
    if (!sink) return;
    if (sink.memory && b % 3_600_000 === 0 && this.monitor?.exportMemory) {
      sink.memory({
        stage: 'rollup',
        partition: this.o.partition ?? 0,
        partitions: this.o.partitions ?? 1,
        at: b,
        memory: this.monitor.exportMemory(b),
        gate: this.gate.save(),
      });
    }
    for (const a of alerts) sink.alert(a);
    for (const a of local) sink.alert(a);
    if (!sink.panes) return;
    // the pane rows of the closed pane [b - p0, b): each key's counts summed over the sources
    for (const scope of ROLLUP_SCOPE_NAMES) {
      for (const key of this.windows.keys(SCOPE[scope])) this.paneRow(sink, scope, key, b);
    }
    // the fleet's pane (every source's tick carries its pane's fleet counts): every rollup
    // partition holds the whole fleet, so the first one writes it
    if ((this.o.partition ?? 0) === 0) this.paneRow(sink, 'fleet', FLEET_KEY, b);
  }

  /** One key's pane row of the closed pane [b - p0, b), summed over the sources, if it counted. */
  private paneRow(sink: StageSink, scope: ScopeName, key: string, b: number): void {
    const p0 = this.o.p0;
    const si = SCOPE[scope];
    if (!this.windows.touched(si, key, b - p0, b)) return;
    this.windows.sumInto(si, key, b - p0, b, this.sum);
    if (anyCount(this.sum)) {
      sink.panes?.(scope, key, b - p0, this.sum, '', scope === 'region' ? key : '');
    }
  }

  /** Give back what this partition's rules had learnt (StageSink.memory), before a replay. */
  restore(m: StageMemory): void {
    checkMemory(m, 'rollup', this.o.partition ?? 0, this.o.partitions ?? 1);
    this.monitor?.importMemory?.(m.memory);
    if (m.gate) this.gate.load(m.gate);
  }

  /** The held partition-local transitions raised at or before b, through the fold gate. */
  private takeAlerts(b: number): Alert[] {
    if (this.heldAlerts.length === 0) return [];
    const due: Alert[] = [];
    const rest: HeldAlert[] = [];
    for (const h of this.heldAlerts) {
      if (Date.parse(h.a.ts) <= b) due.push(h.a);
      else rest.push(h);
    }
    this.heldAlerts = rest;
    return due.sort(byAlert).filter((a) => this.gate.pass(a));
  }

  /**
   * The partition-local transitions waiting here for their boundary to close (raised by the
   * events stage `src`, not sent yet): what a driver that stops keeps for its next start. In
   * the processor they are records of pos.rollups past its committed offset; in the embedded
   * start (LocalTopology) nothing else holds them.
   */
  inFlight(): HeldAlert[] {
    return this.heldAlerts.map((h) => ({ ...h }));
  }
}

/** Sources interleave differently from run to run: equal times are ordered by id. */
function byAlert(x: Alert, y: Alert): number {
  return (
    Date.parse(x.ts) - Date.parse(y.ts) ||
    (x.alertId < y.alertId ? -1 : x.alertId > y.alertId ? 1 : 0) ||
    (x.status < y.status ? -1 : x.status > y.status ? 1 : 0)
  );
}

/**
 * Sources interleave differently from run to run: equal times are ordered by id. Silence
 * reports sort among the events by their boundary-free identity (terminal id, kind).
 */
function byTimeThenId(x: Held, y: Held): number {
  const tx = Array.isArray(x) ? x[4] : x.ts;
  const ty = Array.isArray(y) ? y[4] : y.ts;
  const ix = Array.isArray(x) ? `~silence:${x[0]}:${x[5]}` : x.eventId;
  const iy = Array.isArray(y) ? `~silence:${y[0]}:${y[5]}` : y.eventId;
  return tx - ty || (ix < iy ? -1 : ix > iy ? 1 : 0);
}

/** What a pane holds for the rules: forwarded failures and presence as events, silence reports. */
type Held = TerminalEvent | SilenceTuple;

/**
 * Forwarded records as the events the rules' tracker observes. Only what the tracker reads is
 * filled in (currency is not forwarded): these never reach an engine that counts.
 */
function failureEvent(f: FailureTuple): TerminalEvent {
  const ev = {
    type: 'auth',
    eventId: f[0],
    ts: f[1],
    terminalId: f[2],
    merchantId: f[3],
    region: f[4],
    responseCode: f[6],
    txnId: f[7],
    amount: f[8],
    currency: '',
  } as TerminalEvent & { type: 'auth' };
  if (f[5]) ev.firmware = f[5];
  if (f[9]) ev.issuerId = f[9];
  return ev;
}

function presenceEvent(a: PresenceTuple): TerminalEvent {
  const ev = {
    type: 'heartbeat',
    eventId: `~presence:${a[0]}:${a[4]}`,
    ts: a[4],
    terminalId: a[0],
    merchantId: a[1],
    region: a[2],
  } as TerminalEvent & { type: 'heartbeat' };
  if (a[3]) ev.firmware = a[3];
  if (a[5]) ev.network = a[5] as 'ethernet' | 'wifi' | 'cellular';
  return ev;
}
