import { resolveConfig } from './config';
import { DedupWindow } from './dedup';
import { DensePanes } from './dense-panes';
import { Entities } from './entities';
import { EngineError } from './engine-error';
import {
  FAN,
  F_FIRMWARE,
  F_FLEET,
  F_ISSUER,
  F_MERCHANT,
  F_REGION,
  F_TERMINAL,
  K_AUTH,
  K_DUE,
  K_HEARTBEAT,
  K_REV,
  K_UNREVERSED,
  K_UNSETTLED,
  O_FSLOT,
  O_MSLOT,
  O_REFS,
  O_RSLOT,
  SW,
  T_KIND,
  T_REVERSED,
  T_SETTLE,
  T_SETTLED,
} from './engine-layout';
import { loadSnapshot, openSnapshot, writeSnapshot, type EngineParts } from './engine-snapshot';
import { Hasher } from './hash';
import { PaneClock } from './pane-clock';
import { RecordStore } from './record-store';
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

export { EngineError };

/**
 * The performance-tuned sliding-window engine. Same semantics as ReferenceEngine (the
 * executable definition in reference.ts; property tests hold the two equal), laid out for a
 * hot path that allocates nothing per event and for a few hundred bytes per tracked terminal.
 *
 * Layout
 * - Every scope key (terminal, merchant, region, firmware, issuer, fleet) is an entity slot:
 *   64 bytes in one ArrayBuffer (lastSeen, lastActive as f64; log, dense, card and cache words
 *   as i32), so touching an entity is one cache line, not one per field.
 * - An entity starts *sparse*: a log of 4-byte records in a shared arena, one record per
 *   contribution: (tick << 6 | kind). A tick is the gcd of the pane sizes (5 s by default), so
 *   one record serves every window; the kind (42 of them) says which metrics it adds (an auth
 *   adds auths, its category, and maybe inputErrors/smallAuths/smallDeclines). A terminal with
 *   30 events an hour keeps ~30-60 records: 120-240 B instead of the ~9 KB that 22 counters
 *   x (12+30+30+30) panes would cost.
 * - A busy entity (its log would pass `promoteAt` records) is promoted to *dense* panes: per
 *   window a ring of R = window/pane + ceil(lateness/pane) + 2 panes x 22 i32 counters, cleared
 *   lazily by the entity's newest pane (`hi`), so no sweep over all entities when time moves.
 *   Fleet, regions and big merchants end up here; a read sums the ring.
 * - Declined cards (terminal and merchant scopes) are a second log of (tick, 32-bit card hash).
 * - Pending timers (settlement deadline, reversal grace) live in an open-addressing table
 *   keyed by the 64-bit hash of txnId, with the due time and the scope slots they count in;
 *   two due-ordered queues fire them as the watermark passes.
 * - Eviction: an entity idle (no contribution) for idleEvictMs is reset; its slot is reused
 *   once no pending timer refers to it.
 */

export interface EngineTuning {
  /**
   * A sparse entity whose log would need more than this many records becomes dense.
   * Default: half the dense block's words, so a dense entity never costs more than 2x the log
   * it replaces. Tests set it tiny to exercise both layouts.
   */
  promoteAt?: number;
}

// Module-local copies of the shared enums: bundlers may turn cross-module imports (and a const
// enum from another file) into property loads through getters on the hot path.
const SC_MERCHANT = SCOPE.merchant;
const SC_REGION = SCOPE.region;
const SC_FIRMWARE = SCOPE.firmware;
const SC_ISSUER = SCOPE.issuer;
const CAT_APPROVED = CAT.approved;
const CAT_TIMEOUT = CAT.timeout;
const CAT_OTHER = CAT.other;
const OUT_ACCEPTED = Outcome.Accepted as Outcome;
const OUT_DUPLICATE = Outcome.Duplicate as Outcome;
const OUT_LATE = Outcome.Late as Outcome;

export class Engine implements WindowEngine {
  readonly config: EngineConfig;
  private readonly promoteAt: number;
  private readonly nW: number;
  private readonly lateness: number;
  private readonly idleMs: number;
  private readonly deadline: number;
  private readonly grace: number;
  private readonly smallAmount: number;
  /** 2-char ASCII response codes: c0 * 128 + c1 -> category; other codes go to the Map */
  private readonly codeCat: Int8Array;
  private readonly codeInput: Uint8Array;
  private readonly inputSet: Set<string>;
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
  /**
   * The slots the contribution being applied counts in, at the F_* positions (-1: the event
   * has no such scope). One preallocated list, so no event allocates one.
   */
  private readonly fan = new Int32Array(FAN);

  constructor(config: Partial<EngineConfig> = {}, tuning: EngineTuning = {}) {
    const c = resolveConfig(config);
    this.config = c;
    const clock = new PaneClock(c);
    this.clock = clock;
    this.nW = clock.nW;
    this.lateness = clock.lateness;
    this.idleMs = c.idleEvictMs;
    this.deadline = c.settlementDeadlineMs;
    this.grace = c.reversalGraceMs;
    this.smallAmount = c.smallAmount;
    this.sweepEvery = Math.max(Math.max(...c.panesMs), c.idleEvictMs / 4);
    this.promoteAt = Math.max(1, tuning.promoteAt ?? Math.max(64, clock.blockWords >> 1));

    this.codeCat = new Int8Array(128 * 128).fill(CAT.other);
    this.codeInput = new Uint8Array(128 * 128);
    for (const [code, cat] of c.codeCategories) {
      if (isAscii2(code)) this.codeCat[code.charCodeAt(0) * 128 + code.charCodeAt(1)] = cat;
    }
    this.inputSet = new Set(c.inputErrorCodes);
    for (const code of c.inputErrorCodes) {
      if (isAscii2(code)) this.codeInput[code.charCodeAt(0) * 128 + code.charCodeAt(1)] = 1;
    }

    this.dense = new DensePanes(clock);
    this.store = new RecordStore(clock, this.dense, this.promoteAt);
    this.ents = new Entities(this.store);
    this.timers = new TimerTable(this.ents);
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
    const code = ev.responseCode ?? '';
    let cat: number;
    let input: number;
    if (code.length === 2 && code.charCodeAt(0) < 128 && code.charCodeAt(1) < 128) {
      const ci = code.charCodeAt(0) * 128 + code.charCodeAt(1);
      cat = this.codeCat[ci]!;
      input = this.codeInput[ci]!;
    } else {
      cat = this.config.codeCategories.get(code) ?? CAT_OTHER;
      input = this.inputSet.has(code) ? 1 : 0;
    }
    const small = (ev.amount ?? 0) <= this.smallAmount ? 1 : 0;
    const kind = K_AUTH + cat * 4 + input * 2 + small;

    this.clock.setTime(ts);
    const fan = this.fanOut(t, ev.merchantId, ev.region, fw);
    if (ev.issuerId !== undefined) fan[F_ISSUER] = this.ents.resolve(SC_ISSUER, ev.issuerId);
    this.contribute(ts, kind);
    if (cat !== CAT_APPROVED && ev.cardFingerprint !== undefined) {
      const card = this.hasher.hash(ev.cardFingerprint);
      this.store.addCard(t, card);
      this.store.addCard(fan[F_MERCHANT]!, card);
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
      timers.arm(i, ts + (settle ? this.deadline : this.grace), settle, fan);
    } else if (i >= 0) {
      timers.release(i);
      timers.drop(i);
    }
  }

  private applyReversal(ev: EngineEvent, ts: number): void {
    const t = this.ents.terminal(ev.terminalId);
    const fw = this.ents.knownFw;
    const failed = ev.status === 'failed' ? 1 : 0;
    const kind = K_REV + reasonIndex(ev.reason) * 2 + failed;
    this.clock.setTime(ts);
    this.fanOut(t, ev.merchantId, ev.region, fw);
    this.contribute(ts, kind);
    if (ev.status === 'succeeded') {
      const timers = this.timers;
      const lo = this.hasher.hash(ev.txnId ?? '');
      const i = timers.find(lo, this.hasher.hi);
      if (i >= 0 && ts < timers.tDue[i]!) timers.tMeta[i]! |= T_REVERSED;
    }
  }

  private applySettlement(ev: EngineEvent, ts: number): void {
    if (ev.status !== 'settled') return;
    const timers = this.timers;
    const lo = this.hasher.hash(ev.txnId ?? '');
    const i = timers.find(lo, this.hasher.hi);
    if (i >= 0 && (timers.tMeta[i]! & T_KIND) === T_SETTLE && ts < timers.tDue[i]!) {
      timers.tMeta[i]! |= T_SETTLED;
    }
  }

  private applyHeartbeat(ev: EngineEvent, ts: number): void {
    const t = this.ents.terminal(ev.terminalId);
    const fw = ev.firmware ?? this.ents.knownFw;
    this.clock.setTime(ts);
    this.fanOut(t, ev.merchantId, ev.region, fw);
    this.contribute(ts, K_HEARTBEAT);
  }

  /**
   * Fills the fan-out with terminal t's merchant, region, fleet and firmware slots (through
   * its cache words) and no issuer, and updates t's memo of them.
   */
  private fanOut(
    t: number,
    merchantId: string,
    region: string,
    fw: string | undefined,
  ): Int32Array {
    const ents = this.ents;
    const tb = t * SW;
    const m = ents.cached(tb + O_MSLOT, SC_MERCHANT, merchantId);
    const r = ents.cached(tb + O_RSLOT, SC_REGION, region);
    const f = fw === undefined ? -1 : ents.cached(tb + O_FSLOT, SC_FIRMWARE, fw);
    ents.remember(t, m, r, f);
    const fan = this.fan;
    fan[F_TERMINAL] = t;
    fan[F_MERCHANT] = m;
    fan[F_REGION] = r;
    fan[F_FLEET] = ents.fleetSlot;
    fan[F_FIRMWARE] = f;
    fan[F_ISSUER] = -1;
    return fan;
  }

  /** An event's contribution of `kind` at ts (the clock's time) to every slot of the fan-out. */
  private contribute(ts: number, kind: number): void {
    const fan = this.fan;
    const ents = this.ents;
    // every touch before the record: a touch may evict, and recordFor may rebase live logs
    for (let k = 0; k < FAN; k++) {
      const s = fan[k]!;
      if (s >= 0) ents.touch(s, ts);
    }
    const store = this.store;
    const rec = store.recordFor(kind);
    if (rec < 0) return;
    for (let k = 0; k < FAN; k++) {
      const s = fan[k]!;
      if (s >= 0) store.addRecord(s, rec, kind);
    }
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
    if (this.timers.dueHeap.peek() < watermarkMs) this.fireTimers(watermarkMs);
    if (watermarkMs >= this.nextSweep) {
      this.nextSweep = watermarkMs + this.sweepEvery;
      this.ents.sweep();
    }
  }

  /** Fires every timer due before the watermark, in due order (as ReferenceEngine does). */
  private fireTimers(wm: number): void {
    const timers = this.timers;
    const h = timers.dueHeap;
    while (h.len > 0 && h.due[0]! < wm) {
      const i = h.idx[0]!;
      const gen = h.gen[0]!;
      h.pop();
      if (timers.tGen[i] !== gen) continue; // replaced or cancelled
      const meta = timers.tMeta[i]!;
      if ((meta & T_KIND) === T_SETTLE) {
        if (!(meta & T_REVERSED)) {
          this.timerContribute(i, K_DUE);
          if (!(meta & T_SETTLED)) this.timerContribute(i, K_UNSETTLED);
        }
      } else if (!(meta & T_REVERSED)) {
        this.timerContribute(i, K_UNREVERSED);
      }
      timers.release(i);
      timers.drop(i);
    }
  }

  /** Timer i's record of `kind` at its due time, to every slot it counts in. */
  private timerContribute(i: number, kind: number): void {
    const due = this.timers.tDue[i]!;
    this.clock.setTime(due);
    const rec = this.store.recordFor(kind);
    const fan = this.fan;
    const ents = this.ents;
    this.timers.loadFan(i, fan, ents.fleetSlot);
    for (let k = 0; k < FAN; k++) {
      const s = fan[k]!;
      if (s >= 0) ents.timerTouch(s, due, rec, kind);
    }
  }

  // ======================================================================================
  // reads
  // ======================================================================================

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
    return writeSnapshot(this.config, this.promoteAt, scalars, this.parts());
  }

  /**
   * An engine in exactly the state of the snapshot. `config`, when given, must describe the
   * same layout (windows, panes, lateness, dedup capacity); it may change the rest (e.g. a
   * new code table applies to events from now on).
   */
  static restore(bytes: Uint8Array, config?: Partial<EngineConfig>): Engine {
    const snap = openSnapshot(bytes, config);
    const e = new Engine(snap.cfg, { promoteAt: snap.header.promoteAt });
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

function isAscii2(code: string): boolean {
  return code.length === 2 && code.charCodeAt(0) < 128 && code.charCodeAt(1) < 128;
}

function reasonIndex(reason: string | undefined): number {
  switch (reason) {
    case 'timeout':
      return 0;
    case 'customer_cancel':
      return 1;
    case 'terminal_error':
      return 2;
    case 'host_error':
      return 3;
    default:
      return 4;
  }
}

export function createEngine(config: Partial<EngineConfig> = {}, tuning?: EngineTuning): Engine {
  return new Engine(config, tuning);
}
