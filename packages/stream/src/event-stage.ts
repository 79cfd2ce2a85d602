import {
  type FailureTuple,
  type LocalAlertRecord,
  type PartialRecord,
  type PresenceTuple,
  type SilenceTuple,
  type TerminalEvent,
  type TickRecord,
} from '@tillwatch/contracts';
import {
  anyCount,
  CAT,
  FLEET_KEY,
  METRIC_COUNT,
  Outcome,
  SCOPE,
  type ScopeName,
  type WindowEngine,
} from '@tillwatch/core';
import { AheadGuard } from './ahead-guard';
import { PaneSchedule } from './schedule';
import type { MonitorLike, StageMemory, StageSink } from './types';
import { PARTITION_LOCAL_SCOPES, ROLLUP_SCOPE_NAMES } from './windows';

/**
 * The event stage of one pos.events partition: decode is the driver's, the rest is here. Every
 * valid event goes into the core engine and the partition-local rules (terminal and merchant
 * windows are complete in one partition: pos.events is keyed by merchant); at each boundary of
 * the tick schedule (schedule.ts) the stage emits the pane rows of the closed pane (each key's
 * counts in it, the window stats ClickHouse keeps),
 * the rules' alert transitions, and for the rollup stage a partial per region, firmware and
 * issuer key it saw in the pane plus one tick to every rollup partition (docs/contract.md §5).
 *
 * The cross-partition rules (regional_outage, issuer_degradation, firmware_regression) also need
 * breadth (how many terminals or merchants fail) and evidence (top codes, terminals): counters
 * do not sum those. So a partial also carries, optionally:
 *   f  the pane's failures of the categories those rules read (timeout, issuer, terminal, other;
 *      not cardholder declines, the bulk of healthy failures), at most 8 per terminal;
 *   a  presence: terminals of the key seen in the pane and not announced in the last 30 minutes
 *      (region and firmware partials), so "terminals in the region / on the version" is known.
 * In a healthy fleet that is a few percent of the events; in an outage, the failing auths.
 */

/**
 * Terminals are announced to the rollup at most this often: within the rollup's replay span
 * (1 h + margin), so a rebuilt rollup knows every live terminal, and a small share of the
 * traffic (a terminal heartbeats 12 times an hour and sells more).
 */
const ANNOUNCE_EVERY_MS = 30 * 60_000;
const HOUR_MS = 3_600_000;

/** A memory is for the stage and partition (of that many) it was taken from. */
export function checkMemory(
  m: StageMemory,
  stage: StageMemory['stage'],
  partition: number,
  partitions: number,
): void {
  if (m.stage !== stage || m.partition !== partition || m.partitions !== partitions) {
    throw new Error(
      `rules memory of ${m.stage} partition ${m.partition} of ${m.partitions} cannot be restored into ${stage} partition ${partition} of ${partitions}`,
    );
  }
}

/** how often (event time) the stage reports terminals gone silent or back to the rollup */
const SILENCE_EVERY_MS = 30_000;
const NO_SILENCES: readonly SilenceTuple[] = [];
/** failures forwarded per terminal per pane: breadth needs one, evidence a few */
const MAX_FORWARDED_PER_TERMINAL = 8;

interface PaneForward {
  failures: FailureTuple[];
  presence: PresenceTuple[];
  perTerminal: Map<string, number>;
}

export interface EventStageOptions {
  partition: number;
  /** partitions of the source topic (pos.events) */
  sourcePartitions: number;
  rollupPartitions: number;
  monitor: MonitorLike;
  /** the engine window of one pane p0: the pane rows' and the partials' counts */
  paneWindow: number;
  p0: number;
  /** failure categories (core CAT indices) forwarded to the rollup for the cross-partition rules */
  forwardCategories?: ReadonlySet<number>;
  /** an event this far past the partition's time waits for corroboration (ahead-guard.ts); default 15 min */
  maxAheadMs?: number;
}

/**
 * How far past its partition's time an event may be before it is a jump that waits for a second
 * terminal (ahead-guard.ts): a quiet partition's next event (a lone shop at night) is usually
 * within it.
 */
export const DEFAULT_MAX_AHEAD_MS = 15 * 60_000;

export class EventStage {
  readonly engine: WindowEngine;
  readonly monitor: MonitorLike;
  private readonly schedule: PaneSchedule;
  private readonly m = new Float64Array(METRIC_COUNT);
  /** pane start -> what to forward with that pane's partials */
  private readonly forward = new Map<number, PaneForward>();
  /** terminal -> event time it was last announced to the rollup */
  private readonly announced = new Map<string, number>();
  /** terminals announced with their link (network) */
  private readonly linked = new Set<string>();
  /** events whose time is far past the partition's: held until vouched for */
  readonly guard: AheadGuard;
  boundariesClosed = 0;

  constructor(private readonly o: EventStageOptions) {
    this.guard = new AheadGuard(o.maxAheadMs ?? DEFAULT_MAX_AHEAD_MS);
    this.engine = o.monitor.engine;
    this.monitor = o.monitor;
    const c = this.engine.config;
    this.schedule = new PaneSchedule(
      o.p0,
      c.allowedLatenessMs,
      Math.max(c.settlementDeadlineMs, c.reversalGraceMs),
    );
  }

  /**
   * Ingest one valid event; the boundaries it passes are closed first and their results sent
   * to `sink` (or dropped when null: replaying what was already written).
   */
  handle(ev: TerminalEvent, sink: StageSink | null, tag = -1): void {
    const now = this.guard.admit(ev, tag);
    if (this.guard.holding === 0) {
      if (now) this.take(ev, sink);
      return;
    }
    // what the guard lets go, and this event, in time order
    let done = !now;
    for (const e of this.guard.release()) {
      if (!done && ev.ts <= e.ts) {
        this.take(ev, sink);
        done = true;
      }
      this.take(e, sink);
    }
    if (!done) this.take(ev, sink);
    this.fromGuard(sink);
  }

  /**
   * An event of this terminal stamped `offsetMs` away from the partition's time (ahead-guard.ts
   * notes, or the processor's refusal against the record's time): its rules hear of it
   * (terminal_clock_drift).
   */
  noteClock(ev: TerminalEvent, offsetMs: number): void {
    this.o.monitor.noteClock?.(ev, offsetMs);
  }

  /**
   * The input ended (replay): every event still held for a time the partition never reached is
   * a dead letter, not dropped silently.
   */
  end(sink: StageSink | null): void {
    this.guard.endInput();
    this.fromGuard(sink);
  }

  /** What the guard gave up on (dead letters) and the clocks it saw ahead (the rules). */
  private fromGuard(sink: StageSink | null): void {
    for (const r of this.guard.rejected()) sink?.dead?.(r.ev, r.reason, r.tag);
    if (this.guard.aheadNotes.length) {
      for (const n of this.guard.aheadNotes) this.noteClock(n.ev, n.offsetMs);
      this.guard.aheadNotes = [];
    }
  }

  private take(ev: TerminalEvent, sink: StageSink | null): void {
    this.closeUpTo(this.schedule.watermarkOf(ev.ts), sink);
    if (this.o.monitor.ingest(ev) === Outcome.Accepted) {
      this.schedule.counted(ev.ts);
      if (this.o.forwardCategories) this.collect(ev, this.o.forwardCategories);
    }
  }

  /**
   * The driver's source vouches that no event older than `watermark` (less the lateness it
   * already allowed for) will come: close the boundaries up to it. The embedded start's wall
   * clock is such a source; replay and the processor only have their events.
   */
  advance(watermark: number, sink: StageSink | null): void {
    // the source's word is as good as a second terminal's: events it reached go in
    this.guard.vouch(watermark);
    if (this.guard.holding) for (const e of this.guard.release()) this.take(e, sink);
    this.fromGuard(sink);
    this.closeUpTo(watermark, sink);
  }

  /** Give back what this partition's rules had learnt (StageSink.memory), before a replay
   *  that starts at or before its time. */
  restore(m: StageMemory): void {
    checkMemory(m, 'events', this.o.partition, this.o.sourcePartitions);
    this.o.monitor.importMemory?.(m.memory);
  }

  /** Feed an event of the settlement rebuild (before the replay): no stepping, no outputs. */
  prime(ev: TerminalEvent): void {
    const m = this.o.monitor;
    if (m.prime) m.prime(ev);
    else m.ingest(ev);
  }

  private closeUpTo(watermark: number, sink: StageSink | null): void {
    for (let b = this.schedule.take(watermark); b === b; b = this.schedule.take(watermark)) {
      this.close(b, sink);
    }
  }

  /** Keep what the rollup's cross-partition rules need of an accepted event. */
  private collect(ev: TerminalEvent, cats: ReadonlySet<number>): void {
    if (ev.type === 'settlement') return;
    const paneStart = Math.floor(ev.ts / this.o.p0) * this.o.p0;
    const info = this.engine.terminalInfo(ev.terminalId);
    const fw = info?.firmware ?? '';
    const last = this.announced.get(ev.terminalId);
    const net = this.o.monitor.terminalNetwork?.(ev.terminalId);
    // ...and once more when its link becomes known (a first heartbeat after its first sale)
    const netNews = net !== undefined && !this.linked.has(ev.terminalId);
    if (last === undefined || ev.ts - last >= ANNOUNCE_EVERY_MS || netNews) {
      this.announced.set(ev.terminalId, ev.ts);
      const a: PresenceTuple = [ev.terminalId, ev.merchantId, ev.region, fw, ev.ts];
      if (net !== undefined) {
        a.push(net);
        this.linked.add(ev.terminalId);
      }
      this.bucket(paneStart).presence.push(a);
    }
    if (ev.type !== 'auth') return;
    const cat = this.engine.config.codeCategories.get(ev.responseCode) ?? CAT.other;
    if (!cats.has(cat)) return;
    const b = this.bucket(paneStart);
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

  private bucket(paneStart: number): PaneForward {
    let fwd = this.forward.get(paneStart);
    if (!fwd) {
      fwd = { failures: [], presence: [], perTerminal: new Map() };
      this.forward.set(paneStart, fwd);
    }
    return fwd;
  }

  private close(b: number, sink: StageSink | null): void {
    if (b < this.schedule.first) {
      this.closePaneOnly(b, sink);
      return;
    }
    const alerts = this.o.monitor.tick(b);
    // Silences are judged every SILENCE_EVERY_MS of event time, also while replaying without
    // output: the tracker's state must be the same as if the outputs had been sent.
    const silences =
      b % SILENCE_EVERY_MS === 0 ? (this.o.monitor.silenceChanges?.(b) ?? []) : NO_SILENCES;
    this.boundariesClosed++;
    const paneStart = b - this.o.p0;
    const fwd = this.forward.get(paneStart);
    for (const t of this.forward.keys()) if (t <= paneStart) this.forward.delete(t);
    if (this.announced.size > 4 * 65_536) {
      // Bounded: a terminal not seen for an announce period is announced again anyway.
      for (const [id, ts] of this.announced) {
        if (ts < b - ANNOUNCE_EVERY_MS) {
          this.announced.delete(id);
          this.linked.delete(id);
        }
      }
    }
    if (!sink) return;
    if (sink.memory && b % HOUR_MS === 0 && this.o.monitor.exportMemory) {
      sink.memory({
        stage: 'events',
        partition: this.o.partition,
        partitions: this.o.sourcePartitions,
        at: b,
        memory: this.o.monitor.exportMemory(b),
      });
    }
    // Out through the rollup stage of the alert's region (fold-gate.ts), not straight to the sink.
    for (const a of alerts) {
      const value: LocalAlertRecord = { k: 'x', src: this.o.partition, a };
      sink.rollup({ key: `region:${a.region ?? ''}`, value, timestamp: b });
    }
    if (sink.panes) this.emitPanes(paneStart, sink.panes.bind(sink));
    this.emitRollups(b, paneStart, fwd, silences, sink);
  }

  /**
   * A boundary before the first event's pane end (schedule.ts `first`): an event up to the
   * lateness older than the partition's first one is counted in these panes, so they get their
   * pane rows too, or those counts would be in the windows and in no row. The rules do not
   * evaluate here and no partials go to the rollup: their timeline starts at the first event.
   */
  private closePaneOnly(b: number, sink: StageSink | null): void {
    this.engine.advance(b);
    if (sink?.panes) this.emitPanes(b - this.o.p0, sink.panes.bind(sink));
  }

  /**
   * A pane row per partition-local key with counts in the closed pane [paneStart, paneStart +
   * p0): its one-pane window, read once the watermark reached the pane's end, so the counts are
   * final (a later event of the pane is late and dropped; a timer due in it has fired). Keys
   * touched since paneStart include any touched after the pane (the stage closes a pane only
   * once the lateness has passed): their pane read is all zeros and they are passed over.
   */
  private emitPanes(paneStart: number, panes: NonNullable<StageSink['panes']>): void {
    const e = this.engine;
    const m = this.m;
    const pw = this.o.paneWindow;
    for (let s = 0; s < PARTITION_LOCAL_SCOPES.length; s++) {
      const scope = PARTITION_LOCAL_SCOPES[s]!;
      const si = SCOPE[scope];
      for (const key of e.touchedSince(si, paneStart)) {
        if (!e.read(si, key, pw, m) || !anyCount(m)) continue;
        if (scope === 'terminal') {
          const t = e.terminalInfo(key);
          panes(scope, key, paneStart, m, t?.merchantId, t?.region);
        } else panes(scope, key, paneStart, m, key);
      }
    }
  }

  /** Partials of the pane [b - p0, b) of every rollup key it touched, then a tick to every rollup partition. */
  private emitRollups(
    b: number,
    paneStart: number,
    fwd: PaneForward | undefined,
    silences: readonly SilenceTuple[],
    sink: StageSink,
  ): void {
    const e = this.engine;
    const m = this.m;
    const pw = this.o.paneWindow;
    const partials = new Map<string, PartialRecord>();
    const to = (scope: ScopeName, key: string): PartialRecord => {
      const id = `${scope}:${key}`;
      let p = partials.get(id);
      if (!p) {
        // a key with forwarded records but no counter delta (cannot happen for an accepted
        // event in the pane; kept total so nothing forwarded is dropped)
        p = {
          k: 'p',
          src: this.o.partition,
          s: scope as PartialRecord['s'],
          key,
          pane: paneStart,
          c: [],
        };
        partials.set(id, p);
      }
      return p;
    };
    for (const scope of ROLLUP_SCOPE_NAMES) {
      const si = SCOPE[scope];
      for (const key of e.touchedSince(si, paneStart)) {
        if (!e.read(si, key, pw, m)) continue;
        const c = countsOf(m);
        if (c.length) to(scope, key).c = c;
      }
    }
    if (fwd) {
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
    for (const q of silences) (to('region', q[2]).q ??= []).push(q);
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
