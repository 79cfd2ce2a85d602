import { resolveConfig } from './config';
import { DedupWindow } from './dedup';
import { DensePanes } from './dense-panes';
import { Entities } from './entities';
import { EngineError } from './engine-error';
import { EventKinds, reversalKind } from './event-kinds';
import * as L from './engine-layout';
import { loadSnapshot, openSnapshot, writeSnapshot, type EngineParts } from './engine-snapshot';
import { Hasher } from './hash';
import { PaneClock } from './pane-clock';
import { RecordStore } from './record-store';
import { ScopeFan } from './scope-fan';
import { TimerTable } from './timer-table';
import {
  CAT,
  FLEET_KEY,
  Outcome,
  SCOPE,
  type EngineConfig,
  type EngineCounters,
  type EngineEvent,
  type ScopeIndex,
  type WindowEngine,
} from './types';

// Module-local copies of the layout constants and shared enums (why: engine-layout.ts).
const F_ISSUER = L.F_ISSUER;
const F_MERCHANT = L.F_MERCHANT;
const K_AUTH = L.K_AUTH;
const K_HEARTBEAT = L.K_HEARTBEAT;
const O_REFS = L.O_REFS;
const SW = L.SW;
const SC_ISSUER = SCOPE.issuer;
const CAT_APPROVED = CAT.approved;
const CAT_TIMEOUT = CAT.timeout;
const OUT_ACCEPTED = Outcome.Accepted as Outcome;
const OUT_DUPLICATE = Outcome.Duplicate as Outcome;
const OUT_LATE = Outcome.Late as Outcome;

export { EngineError };

/**
 * The performance-tuned sliding-window engine. Same semantics as ReferenceEngine (the
 * executable definition in reference.ts; property tests hold the two equal), laid out for a
 * hot path that allocates nothing per event and for a few hundred bytes per tracked terminal.
 *
 * Every scope key (terminal, merchant, region, firmware, issuer, fleet) is an entity slot. An
 * event's contribution is one record kind (event-kinds.ts) at one tick, fanned out to the
 * slots of its scopes: each is touched (entities.ts: names, lifecycle, eviction) and gets the
 * record (record-store.ts: slot words, record and card logs in an arena; dense-panes.ts: the
 * rings of busy entities). Ticks and panes come from pane-clock.ts; pending settlements and
 * reversals, and the records they add when due, from timer-table.ts; the snapshot format is
 * engine-snapshot.ts. Engine wires these, filters duplicates and late events, and reads.
 */

export interface EngineTuning {
  /**
   * A sparse entity whose log would need more than this many records becomes dense.
   * Default: half the dense block's words, so a dense entity never costs more than 2x the log
   * it replaces. Tests set it tiny to exercise both layouts.
   */
  promoteAt?: number;
  /**
   * Bits of a record's tick, relative to a base that moves up when time runs past them (a
   * rebase: every log shifted and repacked). At most 10: 2-byte records; more: 4-byte ones.
   * Default: 10 when the horizon (lateness + longest window + largest pane, in ticks of the
   * pane gcd) leaves MIN_REBASE_TICKS between rebases, as the default config's 748 ticks do;
   * else 25. Tests set it wide to exercise both layouts.
   */
  relBits?: number;
}

export class Engine implements WindowEngine {
  readonly config: EngineConfig;
  private readonly promoteAt: number;
  private readonly relBits: number;
  private readonly nW: number;
  private readonly lateness: number;
  private readonly idleMs: number;
  /** windowEnd's condition: no idle eviction of a key with counts in a window still read */
  private readonly stableReads: boolean;
  private readonly deadline: number;
  private readonly grace: number;
  private readonly kinds: EventKinds;
  private readonly sweepEvery: number;

  private wm = Number.NEGATIVE_INFINITY;
  private nextSweep = Number.NEGATIVE_INFINITY;
  private nAccepted = 0;
  private nDup = 0;
  private nLate = 0;

  private readonly clock: PaneClock;
  private readonly dense: DensePanes;
  private readonly store: RecordStore;
  private readonly ents: Entities;
  private readonly timers: TimerTable;
  private readonly dedup: DedupWindow;
  private readonly hasher = new Hasher();
  private readonly fan: ScopeFan;

  constructor(config: Partial<EngineConfig> = {}, tuning: EngineTuning = {}) {
    const c = resolveConfig(config);
    this.config = c;
    const clock = new PaneClock(c);
    this.clock = clock;
    this.nW = clock.nW;
    this.lateness = clock.lateness;
    this.idleMs = c.idleEvictMs;
    this.stableReads = c.windowsMs.every((w, i) => c.idleEvictMs >= w + c.panesMs[i]!);
    this.deadline = c.settlementDeadlineMs;
    this.grace = c.reversalGraceMs;
    this.sweepEvery = Math.max(Math.max(...c.panesMs), c.idleEvictMs / 4);
    this.promoteAt = Math.max(1, tuning.promoteAt ?? Math.max(64, clock.blockWords >> 1));
    this.kinds = new EventKinds(c);
    const room = clock.horizonTicks + 2 + L.MIN_REBASE_TICKS;
    const relBits =
      tuning.relBits ?? (room <= 2 ** L.NARROW_REL_BITS ? L.NARROW_REL_BITS : L.WIDE_REL_BITS);
    if (!Number.isInteger(relBits) || relBits > L.WIDE_REL_BITS || room > 2 ** relBits) {
      throw new EngineError(
        'TW_ENGINE_CONFIG',
        `engine: ${relBits}-bit record ticks cannot hold a horizon of ${clock.horizonTicks} ticks`,
      );
    }
    this.relBits = relBits;

    this.dense = new DensePanes(clock);
    this.store = new RecordStore(clock, this.dense, this.promoteAt, relBits);
    this.ents = new Entities(this.store);
    this.fan = new ScopeFan(this.ents, this.store);
    this.timers = new TimerTable(clock, this.store, this.ents, this.fan);
    this.dedup = new DedupWindow(c.dedupCapacity);

    // The fleet entity is pinned (one permanent ref): timers need not store it.
    const fleet = this.ents.alloc(SCOPE.fleet, FLEET_KEY);
    this.ents.fleetSlot = fleet;
    this.store.si[fleet * SW + O_REFS] = 1;
  }

  get watermark(): number {
    return this.wm;
  }

  // ======================================================================================
  // hot path
  // ======================================================================================

  ingest(ev: EngineEvent): Outcome {
    const h = this.hasher;
    const lo = h.hash(ev.eventId);
    if (this.dedup.seenOrAdd(lo, h.hi)) {
      this.nDup++;
      return OUT_DUPLICATE;
    }
    const ts = ev.ts;
    if (ts < this.wm) {
      this.nLate++;
      return OUT_LATE;
    }
    this.nAccepted++;
    switch (ev.type) {
      case 'auth':
        this.applyAuth(ev, ts);
        break;
      case 'settlement':
        this.applySettlement(ev, ts);
        break;
      case 'reversal':
        this.applyReversal(ev, ts);
        break;
      case 'heartbeat':
        this.applyHeartbeat(ev, ts);
        break;
    }
    const w = ts - this.lateness;
    if (w > this.wm) this.advance(w);
    return OUT_ACCEPTED;
  }

  private applyAuth(ev: EngineEvent, ts: number): void {
    const t = this.ents.terminal(ev.terminalId);
    const fw = ev.firmware ?? this.ents.knownFw;
    const kind = this.kinds.auth(ev);
    const cat = (kind - K_AUTH) >> 2;

    this.clock.setTime(ts);
    const fan = this.fan;
    fan.forTerminal(t, ev.merchantId, ev.region, fw);
    if (ev.issuerId !== undefined) fan.slots[F_ISSUER] = this.ents.resolve(SC_ISSUER, ev.issuerId);
    fan.contribute(ts, kind);
    if (cat !== CAT_APPROVED && ev.cardFingerprint !== undefined) {
      const card = this.hasher.hash(ev.cardFingerprint);
      this.store.addCard(t, card);
      this.store.addCard(fan.slots[F_MERCHANT]!, card);
    }

    // timers: an approved auth is due for settlement, a timeout auth for reversal; any other
    // auth with the same txnId cancels what was pending (ReferenceEngine's pending.delete).
    const timers = this.timers;
    const lo = this.hasher.hash(ev.txnId ?? '');
    const hi = this.hasher.hi;
    let i = timers.find(lo, hi);
    if (cat === CAT_APPROVED || cat === CAT_TIMEOUT) {
      if (i >= 0) timers.release(i);
      else i = timers.create(lo, hi);
      const settle = cat === CAT_APPROVED;
      timers.arm(i, ts + (settle ? this.deadline : this.grace), settle);
    } else if (i >= 0) {
      timers.release(i);
      timers.drop(i);
    }
  }

  private applyReversal(ev: EngineEvent, ts: number): void {
    const t = this.ents.terminal(ev.terminalId);
    const fw = this.ents.knownFw;
    const kind = reversalKind(ev);
    this.clock.setTime(ts);
    this.fan.forTerminal(t, ev.merchantId, ev.region, fw);
    this.fan.contribute(ts, kind);
    if (ev.status === 'succeeded') {
      const lo = this.hasher.hash(ev.txnId ?? '');
      this.timers.markReversed(lo, this.hasher.hi, ts);
    }
  }

  private applySettlement(ev: EngineEvent, ts: number): void {
    if (ev.status !== 'settled') return;
    const lo = this.hasher.hash(ev.txnId ?? '');
    this.timers.markSettled(lo, this.hasher.hi, ts);
  }

  private applyHeartbeat(ev: EngineEvent, ts: number): void {
    const t = this.ents.terminal(ev.terminalId);
    const fw = ev.firmware ?? this.ents.knownFw;
    this.clock.setTime(ts);
    this.fan.forTerminal(t, ev.merchantId, ev.region, fw);
    this.fan.contribute(ts, K_HEARTBEAT);
  }

  // ======================================================================================
  // time
  // ======================================================================================

  advance(watermarkMs: number): void {
    if (!(watermarkMs > this.wm)) return;
    this.wm = watermarkMs;
    this.ents.idleBefore = watermarkMs - this.idleMs;
    this.clock.advanceTick(Math.floor(watermarkMs / this.clock.g));
    this.timers.stage(watermarkMs + this.lateness);
    if (this.timers.dueHeap.peek() < watermarkMs) this.timers.fire(watermarkMs);
    if (watermarkMs >= this.nextSweep) {
      this.nextSweep = watermarkMs + this.sweepEvery;
      this.ents.sweep();
    }
  }

  // ======================================================================================
  // reads
  // ======================================================================================

  /**
   * Where window w's read ends now (ms): a multiple of its pane at or before the watermark. Its
   * counts before that end cannot change any more (an accepted event is at or after the
   * watermark, a timer counts at its due time as the watermark passes it), and while it stays
   * the same a tracked key stays tracked (idleEvictMs is at least a window and its pane longer
   * than any window's reach), so a read of a tracked key at the same end gives the same counts:
   * what the rules' read cache keeps across evaluations. NaN when an idle eviction could come
   * sooner (idleEvictMs shorter than that) or before the first event.
   */
  windowEnd(windowIndex: number): number {
    const c = this.clock;
    if (!this.stableReads || !(windowIndex >= 0 && windowIndex < this.nW)) return Number.NaN;
    const q = c.q[windowIndex]!;
    return Math.floor(c.wmTick / q) * q * c.g;
  }

  read(scope: ScopeIndex, key: string, windowIndex: number, out: Float64Array): boolean {
    const s = this.ents.live(scope, key);
    if (s < 0) return false;
    out.fill(0);
    const w = windowIndex;
    if (w >= 0 && w < this.nW) this.store.read(s, w, out);
    return true;
  }

  distinctDeclinedCards(scope: ScopeIndex, key: string, windowIndex: number): number {
    if (scope !== SCOPE.terminal && scope !== SCOPE.merchant) return 0;
    const s = this.ents.live(scope, key);
    if (s < 0 || !(windowIndex >= 0 && windowIndex < this.nW)) return 0;
    return this.store.distinctCards(s, windowIndex);
  }

  keys(scope: ScopeIndex): string[] {
    return this.ents.touchedSince(scope, Number.NEGATIVE_INFINITY);
  }

  touchedSince(scope: ScopeIndex, sinceMs: number): string[] {
    return this.ents.touchedSince(scope, sinceMs);
  }

  unsettledSince(scope: ScopeIndex, sinceMs: number): string[] {
    const log = this.timers.unsettled;
    return sinceMs < log.completeFrom ? this.keys(scope) : log.keysSince(scope, sinceMs);
  }

  lastSeen(scope: ScopeIndex, key: string): number {
    const s = this.ents.live(scope, key);
    return s < 0 ? Number.NEGATIVE_INFINITY : this.store.sf[s * 8]!;
  }

  terminalInfo(
    terminalId: string,
  ): { merchantId: string; region: string; firmware?: string } | undefined {
    const ents = this.ents;
    const t = ents.live(SCOPE.terminal, terminalId);
    if (t < 0) return undefined;
    const fw = ents.memoF[t];
    return fw === undefined
      ? { merchantId: ents.memoM[t]!, region: ents.memoR[t]! }
      : { merchantId: ents.memoM[t]!, region: ents.memoR[t]!, firmware: fw };
  }

  counters(): EngineCounters {
    return {
      accepted: this.nAccepted,
      duplicates: this.nDup,
      lateDropped: this.nLate,
      evicted: this.ents.nEvicted + this.ents.idleCount(),
      pendingSettlements: this.timers.nSettle,
      pendingTimeouts: this.timers.nReverse,
    };
  }

  /** Bytes held in typed arrays (capacity, not just use); the JS heap part is measured apart. */
  byteLength(): number {
    return (
      this.store.byteLength() +
      this.dense.byteLength() +
      this.timers.byteLength() +
      this.dedup.byteLength()
    );
  }

  /** Typed-array bytes by part (capacity): window state, pending timers, dedup window. */
  memoryBreakdown(): { windowState: number; pendingTimers: number; dedup: number } {
    const timers = this.timers.byteLength();
    const dedup = this.dedup.byteLength();
    return { windowState: this.byteLength() - timers - dedup, pendingTimers: timers, dedup };
  }

  /** Diagnostics for benchmarks: how many entities are sparse and dense. */
  layoutStats(): { slots: number; live: number; dense: number; arenaWords: number } {
    return this.ents.layoutStats();
  }

  // ======================================================================================
  // snapshot / restore (the format: engine-snapshot.ts)
  // ======================================================================================

  /**
   * The whole state as bytes: a version byte, a JSON header (config, scalars, names) and the
   * typed arrays verbatim (used part only). restore() rebuilds the identical state, so reads
   * are equal and the restored engine continues exactly as the original would.
   */
  snapshot(): Uint8Array {
    const scalars = {
      wm: this.wm,
      nextSweep: this.nextSweep,
      accepted: this.nAccepted,
      duplicates: this.nDup,
      late: this.nLate,
    };
    return writeSnapshot(this.config, this.promoteAt, this.relBits, scalars, this.parts());
  }

  /**
   * An engine in exactly the state of the snapshot. `config`, when given, must describe the
   * same layout (windows, panes, lateness, dedup capacity); it may change the rest (e.g. a
   * new code table applies to events from now on).
   */
  static restore(bytes: Uint8Array, config?: Partial<EngineConfig>): Engine {
    const snap = openSnapshot(bytes, config);
    const e = new Engine(snap.cfg, {
      promoteAt: snap.header.promoteAt,
      relBits: snap.header.relBits,
    });
    const s = loadSnapshot(snap, e.parts());
    e.wm = s.wm;
    e.nextSweep = s.nextSweep;
    e.nAccepted = s.accepted;
    e.nDup = s.duplicates;
    e.nLate = s.late;
    return e;
  }

  private parts(): EngineParts {
    const { clock, store, dense, ents, timers, dedup } = this;
    return { clock, store, dense, ents, timers, dedup };
  }
}

export function createEngine(config: Partial<EngineConfig> = {}, tuning?: EngineTuning): Engine {
  return new Engine(config, tuning);
}
