import { RULE_IDS, windowLabel, type Alert, type TerminalEvent } from '@tillwatch/contracts';
import {
  CROSS_PARTITION_CATEGORIES,
  CROSS_PARTITION_RULES,
  createMonitor,
  type Monitor,
  type RulesConfigInput,
  type SilenceInput,
} from '@tillwatch/rules';
import {
  CAT,
  FLEET_KEY,
  M,
  METRIC_COUNT,
  Outcome,
  SCOPE,
  type EngineConfig,
  type ScopeIndex,
  type ScopeName,
  type WindowEngine,
} from '@tillwatch/core';
import { MergedWindows } from './rollup-engine';
import { STAT_COUNTERS } from './store';
import { tsvEscape, type RowBinaryWriter } from './tsv';

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
 *   partial  key "<scope>:<key>"    {"k":"p","src":3,"s":"region","key":"CN-31","pane":t,"c":[22 counts],
 *                                    "f":[failures], "a":[presence]}
 *   tick     explicit partition     {"k":"t","src":3,"n":4,"wm":t,"c":[22 fleet counts]}
 * A partial holds the counter deltas of one p0 pane [t, t+p0) of one region/firmware/issuer
 * key as seen by one source partition: exactly the engine's counters for that key over a window
 * of one pane, which the processor keeps as an extra engine window (windowsMs gets p0 appended).
 * A tick says "source partition `src` (of `n`) has sent every partial of panes ending at or
 * before `wm`"; each source sends one to every rollup partition at every p0 boundary, so a
 * rollup partition knows the pane is complete once all n sources ticked past it. It carries the
 * source's fleet counts of the pane (the rules compare a key with the rest of the fleet). The
 * record timestamp is the pane end (event time): recovery finds its replay start by timestamp.
 *
 * The cross-partition rules (regional_outage, issuer_degradation, firmware_regression) also need
 * breadth (how many terminals or merchants fail) and evidence (top codes, terminals): counters do
 * not sum those. So a partial also carries, optionally:
 *   f  the pane's failures of the categories those rules read (timeout, issuer, terminal, other;
 *      not cardholder declines, the bulk of healthy failures), one FailureTuple each;
 *   a  presence: terminals of the key seen in the pane and not announced in the last 30 minutes
 *      (region and firmware partials), so "terminals in the region / on the version" is known.
 * In a healthy fleet that is a few percent of the events; in an outage, the failing auths.
 */

export const PARTITION_LOCAL_SCOPES: readonly ScopeName[] = ['terminal', 'merchant'];
export const ROLLUP_SCOPES: readonly ScopeName[] = ['region', 'firmware', 'issuer'];

/** [eventId, ts, terminalId, merchantId, region, firmware ('' unknown), code, txnId, amount, issuerId ('' none)] */
export type FailureTuple = [
  string,
  number,
  string,
  string,
  string,
  string,
  string,
  string,
  number,
  string,
];
/** [terminalId, merchantId, region, firmware ('' unknown), ts] */
export type PresenceTuple = [string, string, string, string, number];

export interface PartialRecord {
  k: 'p';
  src: number;
  s: ScopeName;
  key: string;
  pane: number;
  c: number[];
  f?: FailureTuple[];
  a?: PresenceTuple[];
}
export interface TickRecord {
  k: 't';
  src: number;
  n: number;
  wm: number;
  /** the source's fleet counts of the pane [wm - p0, wm) */
  c?: number[];
  /**
   * The source is caught up and has had no record for a while (processor wall clock): do not
   * wait for it until its next ordinary tick. Without it one partition with no traffic would
   * hold every region, firmware and issuer window back forever.
   */
  idle?: true;
}
/** Several records for one rollups partition in one Kafka record (rollup-bundle.ts). */
export interface BundleRecord {
  k: 'b';
  r: (PartialRecord | TickRecord)[];
}
export type RollupRecord = PartialRecord | TickRecord | BundleRecord;

export interface RollupMessage {
  /** explicit partition (ticks); partials go by key */
  partition?: number;
  key: string | null;
  value: RollupRecord;
  /** record timestamp: the pane end, event time */
  timestamp: number;
}

/** One window-stats row, as statLine and writeStat take it. */
export type StatRow = [
  scope: ScopeName,
  key: string,
  windowLabelText: string,
  end: number,
  m: Float64Array,
  merchantId?: string,
  region?: string,
];

export interface TaskSink {
  /**
   * One row of the stats table. The processor writes it as bytes (writeStat); tests can take
   * the TabSeparated line (statLine). `m` is the task's scratch: read it before returning.
   */
  stats(...row: StatRow): void;
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

/**
 * A window-stats row from engine counters (the same figures as Monitor.rates), as one
 * TabSeparated line in window_stats' column order (@tillwatch/clickhouse schema): scope, key,
 * window, ts, ts_ms, merchant_id, region, counters, rates, volume_ratio (\\N: the processor
 * keeps no volume baseline), version (0: a replay writes the same row, not a newer one).
 * The readable reference of writeStat (what the processor sends, as RowBinary): tests compare
 * rows as these lines, and tsv.test.ts holds the two to the same figures.
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

/**
 * statLine's row as RowBinary in STATS_COLUMNS order (the figures of statLine, as fixed-width
 * values: tsv.test.ts decodes one and holds it to the other).
 */
export function writeStat(
  w: RowBinaryWriter,
  scope: ScopeName,
  key: string,
  windowLabelText: string,
  end: number,
  m: Float64Array,
  merchantId = '',
  region = '',
): void {
  const auths = m[M.auths]!;
  const failures = auths - m[M.approved]!;
  const faults = failures - m[M.cardholder]!;
  w.str(scope)
    .str(key)
    .str(windowLabelText)
    .u32(Math.floor(end / 1000))
    .u64(end);
  w.str(merchantId).str(region);
  w.u32(auths).u32(m[M.approved]!).u32(failures).u32(faults);
  for (let i = 2; i < STAT_COUNTERS.length; i++) w.u32(m[STAT_COUNTERS[i]![1]]!);
  w.f64(auths > 0 ? failures / auths : 0);
  w.f64(auths > 0 ? faults / auths : 0);
  w.f64(auths > 0 ? m[M.reversals]! / auths : 0);
  w.f64(m[M.settlementDue]! > 0 ? m[M.unsettled]! / m[M.settlementDue]! : 0);
  w.nullableF64(null).u64(0).end();
}

/**
 * A pane's counters as a partial carries them: up to the last non-zero one (readers take a
 * missing counter as 0), so a healthy pane's 22 counters are a few numbers on the wire. A
 * plain loop: Array.from on a Float64Array was the largest self time of a pane close.
 */
function countsOf(m: Float64Array): number[] {
  let n = m.length;
  while (n > 0 && m[n - 1] === 0) n--;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = m[i]!;
  return out;
}

/** What an EventTask needs of the Monitor (structural, so tests can drive a bare engine). */
export interface MonitorLike {
  readonly engine: WindowEngine;
  /** Outcome.Accepted (0) when the event counted */
  ingest(ev: TerminalEvent): unknown;
  tick(watermarkMs?: number): Alert[];
  setSilences?(list: readonly SilenceInput[]): void;
}

/**
 * Terminals are announced to the rollup at most this often: within the rollup's replay span
 * (1 h + margin), so a rebuilt rollup knows every live terminal, and a small share of the
 * traffic (a terminal heartbeats 12 times an hour and sells more).
 */
const ANNOUNCE_EVERY_MS = 30 * 60_000;
/** failures forwarded per terminal per pane: breadth needs one, evidence a few */
const MAX_FORWARDED_PER_TERMINAL = 8;

interface PaneForward {
  failures: FailureTuple[];
  presence: PresenceTuple[];
  perTerminal: Map<string, number>;
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
  /** failure categories (core CAT indices) forwarded to the rollup for the cross-partition rules */
  forwardCategories?: ReadonlySet<number>;
}

export class EventTask {
  readonly engine: WindowEngine;
  readonly monitor: MonitorLike;
  /** next pane boundary to close (multiple of p0) */
  private next = Number.NaN;
  private readonly m = new Float64Array(METRIC_COUNT);
  private readonly windows: readonly number[];
  private readonly panes: readonly number[];
  private readonly lateness: number;
  private readonly labels: readonly string[];
  /** pane start -> what to forward with that pane's partials */
  private readonly forward = new Map<number, PaneForward>();
  /** terminal -> event time it was last announced to the rollup */
  private readonly announced = new Map<string, number>();
  boundariesClosed = 0;

  constructor(private readonly o: EventTaskOptions) {
    this.engine = o.monitor.engine;
    this.monitor = o.monitor;
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
    if (this.o.monitor.ingest(ev) === Outcome.Accepted && this.o.forwardCategories) {
      this.collect(ev, this.o.forwardCategories);
    }
  }

  /** Keep what the rollup's cross-partition rules need of an accepted event. */
  private collect(ev: TerminalEvent, cats: ReadonlySet<number>): void {
    if (ev.type === 'settlement') return;
    const paneStart = Math.floor(ev.ts / this.o.p0) * this.o.p0;
    const info = this.engine.terminalInfo(ev.terminalId);
    const fw = info?.firmware ?? '';
    let fwd: PaneForward | undefined;
    const bucket = () => {
      fwd = this.forward.get(paneStart);
      if (!fwd) {
        fwd = { failures: [], presence: [], perTerminal: new Map() };
        this.forward.set(paneStart, fwd);
      }
      return fwd;
    };
    const last = this.announced.get(ev.terminalId);
    if (last === undefined || ev.ts - last >= ANNOUNCE_EVERY_MS) {
      this.announced.set(ev.terminalId, ev.ts);
      bucket().presence.push([ev.terminalId, ev.merchantId, ev.region, fw, ev.ts]);
    }
    if (ev.type !== 'auth') return;
    const cat = this.engine.config.codeCategories.get(ev.responseCode) ?? CAT.other;
    if (!cats.has(cat)) return;
    const b = bucket();
    const n = b.perTerminal.get(ev.terminalId) ?? 0;
    if (n >= MAX_FORWARDED_PER_TERMINAL) return;
    b.perTerminal.set(ev.terminalId, n + 1);
    b.failures.push([
      ev.eventId,
      ev.ts,
      ev.terminalId,
      ev.merchantId,
      ev.region,
      fw,
      ev.responseCode,
      ev.txnId,
      ev.amount,
      ev.issuerId ?? '',
    ]);
  }

  /** Feed an event of the settlement rebuild (before the replay): no stepping, no outputs. */
  prime(ev: TerminalEvent): void {
    this.o.monitor.ingest(ev);
  }

  private close(b: number, sink: TaskSink | null): void {
    const alerts = this.o.monitor.tick(b);
    this.boundariesClosed++;
    const paneStart = b - this.o.p0;
    const fwd = this.forward.get(paneStart);
    for (const t of this.forward.keys()) if (t <= paneStart) this.forward.delete(t);
    if (this.announced.size > 4 * 65_536) {
      // Bounded: a terminal not seen for an announce period is announced again anyway.
      for (const [id, ts] of this.announced) {
        if (ts < b - ANNOUNCE_EVERY_MS) this.announced.delete(id);
      }
    }
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
            sink.stats(scope, key, this.labels[w]!, b, m, t?.merchantId, t?.region);
          } else sink.stats(scope, key, this.labels[w]!, b, m, key);
        }
      }
    }
    // Partials: the pane window [b - p0, b) of every rollup key that had a contribution in it.
    const pw = this.o.paneWindow;
    const partials = new Map<string, PartialRecord>();
    for (const scope of ROLLUP_SCOPES) {
      const si: ScopeIndex = SCOPE[scope];
      for (const key of e.touchedSince(si, paneStart)) {
        if (!e.read(si, key, pw, m)) continue;
        const c = countsOf(m);
        if (!c.length) continue;
        partials.set(`${scope}:${key}`, {
          k: 'p',
          src: this.o.partition,
          s: scope,
          key,
          pane: paneStart,
          c,
        });
      }
    }
    if (fwd) {
      const to = (scope: ScopeName, key: string): PartialRecord => {
        const id = `${scope}:${key}`;
        let p = partials.get(id);
        if (!p) {
          // a key with forwarded records but no counter delta (cannot happen for an accepted
          // event in the pane; kept total so nothing forwarded is dropped)
          p = { k: 'p', src: this.o.partition, s: scope, key, pane: paneStart, c: [] };
          partials.set(id, p);
        }
        return p;
      };
      for (const f of fwd.failures) {
        (to('region', f[4]).f ??= []).push(f);
        if (f[5]) (to('firmware', f[5]).f ??= []).push(f);
        if (f[9]) (to('issuer', f[9]).f ??= []).push(f);
      }
      for (const a of fwd.presence) {
        (to('region', a[2]).a ??= []).push(a);
        if (a[3]) (to('firmware', a[3]).a ??= []).push(a);
      }
    }
    for (const [id, value] of partials) sink.rollup({ key: id, value, timestamp: b });
    const fleet = e.read(SCOPE.fleet, FLEET_KEY, pw, m) ? countsOf(m) : undefined;
    for (let r = 0; r < this.o.rollupPartitions; r++) {
      const value: TickRecord = {
        k: 't',
        src: this.o.partition,
        n: this.o.sourcePartitions,
        wm: b,
      };
      if (fleet) value.c = fleet;
      sink.rollup({ partition: r, key: null, value, timestamp: b });
    }
  }
}

export interface RollupTaskOptions {
  windowsMs: readonly number[];
  panesMs: readonly number[];
  p0: number;
  /** the Monitor running the cross-partition rules over the merged windows; none: stats only */
  monitor?: (windows: MergedWindows) => MonitorLike;
}

/**
 * Merges partials of one pos.rollups partition: counter deltas per (scope, key, p0 pane), summed
 * over source partitions, windows summed from panes (MergedWindows). A boundary closes once every
 * source partition ticked past it (the minimum of their watermarks), so a window row is emitted
 * only when all of its panes are in. At each boundary the cross-partition rules run over the
 * merged windows, with the failures and presence the sources forwarded in their tracker.
 */
export class RollupTask {
  readonly windows: MergedWindows;
  readonly monitor: MonitorLike | undefined;
  private readonly srcWm = new Map<number, number>();
  private sources = 0;
  private readonly idle = new Set<number>();
  private next = Number.NaN;
  private closedUpTo = Number.NEGATIVE_INFINITY;
  private readonly sum = new Float64Array(METRIC_COUNT);
  private readonly labels: readonly string[];
  /** partials for panes already closed (from a source that was idle): counted, not merged */
  late = 0;
  /** forwarded failures and presence records handed to the rules' tracker */
  forwarded = 0;
  /** forwarded records by pane start, until their pane closes */
  private readonly held = new Map<number, TerminalEvent[]>();

  constructor(private readonly o: RollupTaskOptions) {
    this.windows = new MergedWindows({ windowsMs: o.windowsMs, panesMs: o.panesMs });
    this.monitor = o.monitor?.(this.windows);
    this.labels = o.windowsMs.map(windowLabel);
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

  handle(rec: RollupRecord, sink: TaskSink | null): void {
    if (rec.k === 'b') {
      for (const r of rec.r) this.handle(r, sink);
      return;
    }
    if (rec.k === 'p') {
      const end = rec.pane + this.o.p0;
      if (end <= this.closedUpTo) {
        this.late++;
        return;
      }
      this.windows.add(SCOPE[rec.s], rec.key, rec.pane, rec.c);
      if (this.monitor && (rec.f || rec.a)) {
        // Held until the pane closes: sources run ahead of each other by whole batches, and
        // the rules must see the failures up to the boundary they judge, not minutes past it.
        let held = this.held.get(rec.pane);
        if (!held) this.held.set(rec.pane, (held = []));
        for (const f of rec.f ?? []) held.push(failureEvent(f));
        for (const a of rec.a ?? []) held.push(presenceEvent(a));
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
      this.close(this.next, sink);
      this.closedUpTo = this.next;
      this.next += this.o.p0;
    }
  }

  private close(b: number, sink: TaskSink | null): void {
    if (this.monitor && this.held.size) {
      const panes = [...this.held.keys()].filter((t) => t < b).sort((x, y) => x - y);
      for (const t of panes) {
        const evs = this.held.get(t)!.sort((x, y) => x.ts - y.ts);
        this.held.delete(t);
        this.forwarded += evs.length;
        for (const ev of evs) this.monitor.ingest(ev);
      }
    }
    this.windows.advance(b);
    const alerts = this.monitor?.tick(b) ?? [];
    if (!sink) return;
    for (const a of alerts) sink.alert(a);
    for (const scope of ROLLUP_SCOPES) {
      const si = SCOPE[scope];
      for (const key of this.windows.keys(si)) {
        for (let w = 0; w < this.o.windowsMs.length; w++) {
          const pane = this.o.panesMs[w]!;
          if (b % pane !== 0) continue;
          if (!this.windows.touched(si, key, b - pane, b)) continue;
          this.windows.sumInto(si, key, b - this.o.windowsMs[w]!, b, this.sum);
          sink.stats(scope, key, this.labels[w]!, b, this.sum, '', scope === 'region' ? key : '');
        }
      }
    }
  }
}

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
  return ev;
}

/**
 * Rules that need every partition's view (region, issuer, firmware) run in the rollup stage,
 * the others in the event partitions: each stage gets the configured rules with the other
 * stage's switched off, so every rule runs in exactly one place.
 */
export function rulesForStage(
  rules: RulesConfigInput,
  stage: 'events' | 'rollup',
): RulesConfigInput {
  const out: Record<string, unknown> = { ...(rules.rules ?? {}) };
  const cross = new Set<string>(CROSS_PARTITION_RULES);
  for (const id of RULE_IDS) {
    if (cross.has(id) !== (stage === 'rollup')) {
      out[id] = { ...((out[id] as object | undefined) ?? {}), enabled: false };
    }
  }
  return { ...rules, rules: out } as RulesConfigInput;
}

/** Failure categories (core CAT indices) the event tasks forward to the rollup stage. */
export const FORWARD_CATEGORIES: ReadonlySet<number> = new Set(
  CROSS_PARTITION_CATEGORIES.map((c) => CAT[c]),
);

/** The Monitor of an events partition: every rule but the cross-partition ones. */
export function eventMonitor(
  engine: Partial<EngineConfig>,
  rules: RulesConfigInput = {},
  silences: readonly SilenceInput[] = [],
): Monitor {
  return createMonitor({ engine, rules: rulesForStage(rules, 'events'), silences });
}

/** The Monitor of a rollup partition: the cross-partition rules over its merged windows. */
export function rollupMonitor(
  windows: MergedWindows,
  engine: Partial<EngineConfig>,
  rules: RulesConfigInput = {},
  silences: readonly SilenceInput[] = [],
): Monitor {
  return createMonitor({
    engine: { ...engine, windowsMs: windows.config.windowsMs, panesMs: windows.config.panesMs },
    engineFactory: () => windows,
    rules: rulesForStage(rules, 'rollup'),
    silences,
  });
}

export { iso, tsvEscape };
