import { resolveConfig } from './config';
import { DedupWindow } from './dedup';
import { TimerFifo, TimerHeap } from './due-queue';
import { Hasher } from './hash';
import { decodeSnapshot, encodeSnapshot, type SnapshotParts } from './snapshot-codec';
import {
  CAT,
  FLEET_KEY,
  M,
  METRIC_COUNT,
  Outcome,
  SCOPE,
  SCOPE_COUNT,
  type EngineConfig,
  type EngineCounters,
  type EngineEvent,
  type ScopeIndex,
  type WindowEngine,
} from './types';

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

export class EngineError extends Error {
  readonly code: string;
  readonly retriable = false;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'EngineError';
  }
}

// ---- record kinds ------------------------------------------------------------------------
const K_AUTH = 0; // + cat * 4 + inputError * 2 + small
const K_REV = 28; // + reason * 2 + failed
const K_HEARTBEAT = 38;
const K_UNREVERSED = 39;
const K_DUE = 40;
const K_UNSETTLED = 41;
const KIND_COUNT = 42;
const KIND_BITS = 6;
const KIND_MASK = 63;
/** record ticks stay below 2^25 so (tick << 6 | kind) is a non-negative i32 */
const MAX_REL_TICK = 1 << 25;

const KM_START = new Int32Array(KIND_COUNT + 1);
const KM: number[] = [];
for (let k = 0; k < KIND_COUNT; k++) {
  KM_START[k] = KM.length;
  if (k < K_REV) {
    const cat = k >> 2;
    const input = (k >> 1) & 1;
    const small = k & 1;
    KM.push(M.auths, M.approved + cat);
    if (input) KM.push(M.inputErrors);
    if (small) KM.push(M.smallAuths);
    if (small && cat !== CAT.approved) KM.push(M.smallDeclines);
  } else if (k < K_HEARTBEAT) {
    const reason = (k - K_REV) >> 1;
    KM.push(M.reversals, M.revTimeout + reason);
    if ((k - K_REV) & 1) KM.push(M.reversalsFailed);
  } else if (k === K_HEARTBEAT) KM.push(M.heartbeats);
  else if (k === K_UNREVERSED) KM.push(M.unreversedTimeouts);
  else if (k === K_DUE) KM.push(M.settlementDue);
  else KM.push(M.unsettled);
}
KM_START[KIND_COUNT] = KM.length;
const KMETRICS = Uint8Array.from(KM);

// ---- entity slots ------------------------------------------------------------------------
/** i32 words per slot (64 B); f64 words 0 and 1 are lastSeen and lastActive */
const SW = 16;
const O_LOG = 4;
const O_LEN = 5;
const O_CAP = 6;
const O_DENSE = 7;
const O_REFS = 8;
const O_STATE = 9; // state | scope << 4
const O_COFF = 10;
const O_CLEN = 11;
const O_CCAP = 12;
const O_MSLOT = 13; // terminal: cached merchant slot
const O_RSLOT = 14; // terminal: cached region slot
const O_FSLOT = 15; // terminal: cached firmware slot
const ST_FREE = 0;
const ST_LIVE = 1;
/** evicted (or just allocated): no data, kept while pending timers refer to it */
const ST_DEAD = 2;

// ---- timers ------------------------------------------------------------------------------
const T_SETTLE = 1;
const T_REVERSE = 2;
const T_KIND = 3;
const T_REVERSED = 4;
const T_SETTLED = 8;
/** timer slot words: terminal, merchant, region, firmware, issuer (fleet is implicit) */
const TS = 5;

const SNAPSHOT_VERSION = 1;

// Module-local copies of the shared enums: bundlers may turn cross-module imports (and a const
// enum from another file) into property loads through getters on the hot path.
const SC_TERMINAL = SCOPE.terminal;
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
const NMETRICS = METRIC_COUNT;

export class Engine implements WindowEngine {
  readonly config: EngineConfig;
  private readonly promoteAt: number;

  // derived config
  private readonly nW: number;
  private readonly paneMs: Float64Array;
  private readonly winMs: Float64Array;
  /** tick (ms): gcd of the pane sizes */
  private readonly g: number;
  /** ticks per pane, per window */
  private readonly q: Float64Array;
  private readonly winPanes: Float64Array;
  private readonly winTicks: Float64Array;
  /** ring panes per window in a dense block */
  private readonly ringN: Int32Array;
  private readonly winOff: Int32Array;
  private readonly blockWords: number;
  /** ticks a record must stay addressable: lateness + longest window + largest pane */
  private readonly horizonTicks: number;
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

  // time
  private wm = Number.NEGATIVE_INFINITY;
  private idleBefore = Number.NEGATIVE_INFINITY;
  /** oldest tick any window can still read (absolute ticks) */
  private minStartTick = Number.NEGATIVE_INFINITY;
  private wmTick = Number.NaN;
  /** records store tick - base */
  private base = 0;
  private hasBase = false;
  private nextSweep = Number.NEGATIVE_INFINITY;
  /** per window: newest pane number (max over event times and the watermark) and its ring slot */
  private readonly headPane: Float64Array;
  private readonly headSlot: Int32Array;
  private hasHead = false;
  /** panes of the time being applied (curTickAbs) */
  private readonly curPane: Float64Array;
  /** ring slot of curPane per window, or -1 when that pane is too old for any window */
  private readonly curSlot: Int32Array;
  private curTickAbs = Number.NaN;
  private readonly scratchPane: Float64Array;

  // counters
  private nAccepted = 0;
  private nDup = 0;
  private nLate = 0;
  private nEvicted = 0;
  private nSettle = 0;
  private nReverse = 0;

  // entities
  private slotBuf: ArrayBuffer;
  /**
   * Per slot [highest rel tick in its record log, how far below that highest rel a record was
   * ever appended]: a log is in arrival order, nearly event-time order. Every record before the
   * one at k is at most `disorder` ticks above it, so a read walking back from the newest
   * record stops at the first one more than `disorder` ticks before the window: a 1-minute read
   * no longer walks an hour of records (the stats rows read a 1m window at every 5 s pane).
   */
  private logOrder: Int32Array;
  private si: Int32Array;
  private sf: Float64Array;
  private slotTop = 0;
  private freeSlot = -1;
  private names: (string | undefined)[] = [];
  private memoM: (string | undefined)[] = [];
  private memoR: (string | undefined)[] = [];
  private memoF: (string | undefined)[] = [];
  private readonly maps: Map<string, number>[] = [];
  private fleetSlot: number;

  // record arena: chunks of 2^k words, free lists per size class
  private arena: Int32Array;
  private arenaTop = 0;
  private readonly freeHead = new Int32Array(32).fill(-1);

  // dense blocks
  private dense: Int32Array;
  private denseHi: Float64Array;
  private denseTop = 0;
  private denseFree: number[] = [];

  // timers
  private tH1: Int32Array;
  private tH2: Int32Array;
  private tDue: Float64Array;
  private tMeta: Int32Array;
  private tGen: Int32Array;
  private tSlots: Int32Array;
  private tTop = 0;
  private tFree = -1;
  private tTable: Int32Array;
  private tMask: number;
  private tCount = 0;
  private settleQ = new TimerFifo();
  private reverseQ = new TimerFifo();
  private dueHeap = new TimerHeap();

  private dedup: DedupWindow;
  private readonly hasher = new Hasher();
  private readonly kindCounts = new Int32Array(KIND_COUNT);
  private cardScratch = new Int32Array(64);

  constructor(config: Partial<EngineConfig> = {}, tuning: EngineTuning = {}) {
    const c = resolveConfig(config);
    this.config = c;
    const nW = c.windowsMs.length;
    this.nW = nW;
    this.paneMs = Float64Array.from(c.panesMs);
    this.winMs = Float64Array.from(c.windowsMs);
    let g = 0;
    for (const p of c.panesMs) {
      if (!Number.isSafeInteger(p)) {
        throw new EngineError('TW_ENGINE_CONFIG', `engine: pane ${p} ms must be a whole number`);
      }
      g = gcd(g, p);
    }
    this.g = g;
    this.q = new Float64Array(nW);
    this.winPanes = new Float64Array(nW);
    this.winTicks = new Float64Array(nW);
    this.ringN = new Int32Array(nW);
    this.winOff = new Int32Array(nW);
    this.lateness = c.allowedLatenessMs;
    let words = 0;
    for (let w = 0; w < nW; w++) {
      const P = this.paneMs[w]!;
      this.q[w] = P / g;
      this.winPanes[w] = this.winMs[w]! / P;
      this.winTicks[w] = this.winMs[w]! / g;
      this.ringN[w] = this.winPanes[w]! + Math.ceil(this.lateness / P) + 2;
      this.winOff[w] = words;
      words += this.ringN[w]! * METRIC_COUNT;
    }
    this.blockWords = words;
    const maxPane = Math.max(...c.panesMs);
    const maxWin = Math.max(...c.windowsMs);
    this.horizonTicks = Math.ceil((this.lateness + maxWin + maxPane) / g) + 2;
    if (this.horizonTicks * 4 > MAX_REL_TICK || words > 1 << 24) {
      throw new EngineError(
        'TW_ENGINE_CONFIG',
        `engine: windows of ${maxWin} ms over a ${g} ms pane gcd need too many ticks; use coarser panes`,
      );
    }
    this.idleMs = c.idleEvictMs;
    this.deadline = c.settlementDeadlineMs;
    this.grace = c.reversalGraceMs;
    this.smallAmount = c.smallAmount;
    this.sweepEvery = Math.max(maxPane, c.idleEvictMs / 4);
    this.promoteAt = Math.max(1, tuning.promoteAt ?? Math.max(64, words >> 1));

    this.codeCat = new Int8Array(128 * 128).fill(CAT.other);
    this.codeInput = new Uint8Array(128 * 128);
    for (const [code, cat] of c.codeCategories) {
      if (isAscii2(code)) this.codeCat[code.charCodeAt(0) * 128 + code.charCodeAt(1)] = cat;
    }
    this.inputSet = new Set(c.inputErrorCodes);
    for (const code of c.inputErrorCodes) {
      if (isAscii2(code)) this.codeInput[code.charCodeAt(0) * 128 + code.charCodeAt(1)] = 1;
    }

    this.headPane = new Float64Array(nW);
    this.headSlot = new Int32Array(nW);
    this.curPane = new Float64Array(nW);
    this.curSlot = new Int32Array(nW);
    this.scratchPane = new Float64Array(nW);

    this.slotBuf = new ArrayBuffer(64 * SW * 4);
    this.si = new Int32Array(this.slotBuf);
    this.sf = new Float64Array(this.slotBuf);
    this.logOrder = new Int32Array(64 * 2);
    for (let s = 0; s < SCOPE_COUNT; s++) this.maps.push(new Map());
    this.arena = new Int32Array(1024);
    this.dense = new Int32Array(0);
    this.denseHi = new Float64Array(0);

    const tcap = 256;
    this.tH1 = new Int32Array(tcap);
    this.tH2 = new Int32Array(tcap);
    this.tDue = new Float64Array(tcap);
    this.tMeta = new Int32Array(tcap);
    this.tGen = new Int32Array(tcap);
    this.tSlots = new Int32Array(tcap * TS);
    this.tTable = new Int32Array(tcap * 2);
    this.tMask = this.tTable.length - 1;
    this.dedup = new DedupWindow(c.dedupCapacity);

    // The fleet entity is pinned (one permanent ref): timers need not store it.
    this.fleetSlot = this.allocSlot(SCOPE.fleet, FLEET_KEY);
    this.si[this.fleetSlot * SW + O_REFS] = 1;
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
    const t = this.terminalSlot(ev.terminalId);
    const fw = ev.firmware ?? this.knownFw;
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

    this.setTime(ts);
    const tb = t * SW;
    const m = this.cached(tb + O_MSLOT, SC_MERCHANT, ev.merchantId);
    const r = this.cached(tb + O_RSLOT, SC_REGION, ev.region);
    const f = fw === undefined ? -1 : this.cached(tb + O_FSLOT, SC_FIRMWARE, fw);
    const iss = ev.issuerId === undefined ? -1 : this.resolve(SC_ISSUER, ev.issuerId);
    const si = this.si; // after the last possible slot allocation (growth replaces it)
    const names = this.names;
    this.memoM[t] = names[m];
    this.memoR[t] = names[r];
    this.memoF[t] = f < 0 ? undefined : names[f];
    const fl = this.fleetSlot;

    this.touch(t, ts);
    this.touch(m, ts);
    this.touch(r, ts);
    this.touch(fl, ts);
    if (f >= 0) this.touch(f, ts);
    if (iss >= 0) this.touch(iss, ts);
    const rec = this.recordFor(kind);
    this.addRecord(t, rec, kind);
    this.addRecord(m, rec, kind);
    this.addRecord(r, rec, kind);
    this.addRecord(fl, rec, kind);
    if (f >= 0) this.addRecord(f, rec, kind);
    if (iss >= 0) this.addRecord(iss, rec, kind);
    if (cat !== CAT_APPROVED && ev.cardFingerprint !== undefined) {
      const card = this.hasher.hash(ev.cardFingerprint);
      this.addCard(t, card);
      this.addCard(m, card);
    }

    // timers: an approved auth is due for settlement, a timeout auth for reversal; any other
    // auth with the same txnId cancels what was pending (ReferenceEngine's pending.delete).
    const lo = this.hasher.hash(ev.txnId ?? '');
    const hi = this.hasher.hi;
    let i = this.findTimer(lo, hi);
    if (cat === CAT_APPROVED || cat === CAT_TIMEOUT) {
      if (i >= 0) this.releaseTimer(i);
      else i = this.newTimer(lo, hi);
      const settle = cat === CAT_APPROVED;
      const due = ts + (settle ? this.deadline : this.grace);
      this.tDue[i] = due;
      this.tMeta[i] = settle ? T_SETTLE : T_REVERSE;
      const o = i * TS;
      const ts_ = this.tSlots;
      ts_[o] = t;
      ts_[o + 1] = m;
      ts_[o + 2] = r;
      ts_[o + 3] = f;
      ts_[o + 4] = iss;
      si[tb + O_REFS]!++;
      si[m * SW + O_REFS]!++;
      si[r * SW + O_REFS]!++;
      if (f >= 0) si[f * SW + O_REFS]!++;
      if (iss >= 0) si[iss * SW + O_REFS]!++;
      if (settle) {
        this.nSettle++;
        this.settleQ.push(i, this.tGen[i]!);
      } else {
        this.nReverse++;
        this.reverseQ.push(i, this.tGen[i]!);
      }
    } else if (i >= 0) {
      this.releaseTimer(i);
      this.dropTimer(i);
    }
  }

  private applyReversal(ev: EngineEvent, ts: number): void {
    const t = this.terminalSlot(ev.terminalId);
    const fw = this.knownFw;
    const failed = ev.status === 'failed' ? 1 : 0;
    const kind = K_REV + reasonIndex(ev.reason) * 2 + failed;
    this.setTime(ts);
    const tb = t * SW;
    const m = this.cached(tb + O_MSLOT, SC_MERCHANT, ev.merchantId);
    const r = this.cached(tb + O_RSLOT, SC_REGION, ev.region);
    const f = fw === undefined ? -1 : this.cached(tb + O_FSLOT, SC_FIRMWARE, fw);
    this.memoM[t] = this.names[m];
    this.memoR[t] = this.names[r];
    this.memoF[t] = f < 0 ? undefined : this.names[f];
    const fl = this.fleetSlot;
    this.touch(t, ts);
    this.touch(m, ts);
    this.touch(r, ts);
    this.touch(fl, ts);
    if (f >= 0) this.touch(f, ts);
    const rec = this.recordFor(kind);
    this.addRecord(t, rec, kind);
    this.addRecord(m, rec, kind);
    this.addRecord(r, rec, kind);
    this.addRecord(fl, rec, kind);
    if (f >= 0) this.addRecord(f, rec, kind);
    if (ev.status === 'succeeded') {
      const lo = this.hasher.hash(ev.txnId ?? '');
      const i = this.findTimer(lo, this.hasher.hi);
      if (i >= 0 && ts < this.tDue[i]!) this.tMeta[i]! |= T_REVERSED;
    }
  }

  private applySettlement(ev: EngineEvent, ts: number): void {
    if (ev.status !== 'settled') return;
    const lo = this.hasher.hash(ev.txnId ?? '');
    const i = this.findTimer(lo, this.hasher.hi);
    if (i >= 0 && (this.tMeta[i]! & T_KIND) === T_SETTLE && ts < this.tDue[i]!) {
      this.tMeta[i]! |= T_SETTLED;
    }
  }

  private applyHeartbeat(ev: EngineEvent, ts: number): void {
    const t = this.terminalSlot(ev.terminalId);
    const fw = ev.firmware ?? this.knownFw;
    this.setTime(ts);
    const tb = t * SW;
    const m = this.cached(tb + O_MSLOT, SC_MERCHANT, ev.merchantId);
    const r = this.cached(tb + O_RSLOT, SC_REGION, ev.region);
    const f = fw === undefined ? -1 : this.cached(tb + O_FSLOT, SC_FIRMWARE, fw);
    this.memoM[t] = this.names[m];
    this.memoR[t] = this.names[r];
    this.memoF[t] = f < 0 ? undefined : this.names[f];
    const fl = this.fleetSlot;
    this.touch(t, ts);
    this.touch(m, ts);
    this.touch(r, ts);
    this.touch(fl, ts);
    if (f >= 0) this.touch(f, ts);
    const rec = this.recordFor(K_HEARTBEAT);
    this.addRecord(t, rec, K_HEARTBEAT);
    this.addRecord(m, rec, K_HEARTBEAT);
    this.addRecord(r, rec, K_HEARTBEAT);
    this.addRecord(fl, rec, K_HEARTBEAT);
    if (f >= 0) this.addRecord(f, rec, K_HEARTBEAT);
  }

  /** firmware the terminal had before this event, if it was live (set by terminalSlot) */
  private knownFw: string | undefined = undefined;

  /** The terminal's slot; sets knownFw from its memo when it is live (not idle). */
  private terminalSlot(id: string): number {
    const t = this.maps[SC_TERMINAL]!.get(id);
    this.knownFw = undefined;
    if (t === undefined) return this.allocSlot(SC_TERMINAL, id);
    const b = t * SW;
    if ((this.si[b + O_STATE]! & 15) === ST_LIVE && this.sf[t * 8 + 1]! >= this.idleBefore) {
      this.knownFw = this.memoF[t];
    }
    return t;
  }

  /** Slot of (scope, name) via a terminal's cache word, validated by name and scope. */
  private cached(word: number, scope: number, name: string): number {
    const s = this.si[word]!;
    if (s >= 0 && this.names[s] === name && this.si[s * SW + O_STATE]! >> 4 === scope) return s;
    const r = this.resolve(scope, name);
    this.si[word] = r;
    return r;
  }

  private resolve(scope: number, name: string): number {
    const s = this.maps[scope]!.get(name);
    return s === undefined ? this.allocSlot(scope, name) : s;
  }

  /** An event at ts for the slot: revives a dead slot, resets an idle one (an eviction). */
  private touch(s: number, ts: number): void {
    const b = s * SW;
    const f = s * 8;
    const sf = this.sf;
    if ((this.si[b + O_STATE]! & 15) !== ST_LIVE) this.revive(s);
    else if (sf[f + 1]! < this.idleBefore) {
      this.nEvicted++;
      this.reset(s);
    }
    if (ts > sf[f]!) sf[f] = ts;
    if (ts > sf[f + 1]!) sf[f + 1] = ts;
  }

  /** Sets the tick and per-window panes of the time being applied. */
  private setTime(t: number): void {
    const tick = Math.floor(t / this.g);
    if (tick === this.curTickAbs) return;
    this.curTickAbs = tick;
    const nW = this.nW;
    for (let w = 0; w < nW; w++) this.curPane[w] = Math.floor(tick / this.q[w]!);
    if (!this.hasHead) {
      this.hasHead = true;
      for (let w = 0; w < nW; w++) this.headPane[w] = this.curPane[w]!;
    } else {
      for (let w = 0; w < nW; w++) {
        if (this.curPane[w]! > this.headPane[w]!) this.moveHead(w, this.curPane[w]!);
      }
    }
    this.curTickAbs = tick; // moveHead cleared it
    for (let w = 0; w < nW; w++) {
      const n = this.ringN[w]!;
      const back = this.headPane[w]! - this.curPane[w]!;
      if (back >= n) this.curSlot[w] = -1;
      else {
        const sl = this.headSlot[w]! - back;
        this.curSlot[w] = sl < 0 ? sl + n : sl;
      }
    }
  }

  private moveHead(w: number, pane: number): void {
    const n = this.ringN[w]!;
    const delta = pane - this.headPane[w]!;
    let s = delta >= n ? (this.headSlot[w]! + (delta % n)) % n : this.headSlot[w]! + delta;
    if (s >= n) s -= n;
    this.headSlot[w] = s;
    this.headPane[w] = pane;
    this.curTickAbs = Number.NaN; // curSlot is relative to the head
  }

  /** The packed record for `kind` at the current tick, or -1 if it can never be read. */
  private recordFor(kind: number): number {
    const tick = this.curTickAbs;
    if (tick < this.minStartTick) return -1;
    if (!this.hasBase) {
      this.hasBase = true;
      this.base = tick - this.horizonTicks - 2;
    }
    let rel = tick - this.base;
    if (rel >= MAX_REL_TICK) {
      this.rebase(tick);
      rel = tick - this.base;
    }
    if (rel < 0) return -1;
    return (rel << KIND_BITS) | kind;
  }

  private addRecord(s: number, rec: number, kind: number): void {
    if (rec < 0) return;
    const b = s * SW;
    const si = this.si;
    const d = si[b + O_DENSE]!;
    if (d >= 0) {
      this.denseAddCur(d, kind);
      return;
    }
    const len = si[b + O_LEN]!;
    if (len === si[b + O_CAP]! && !this.makeRoom(s)) {
      this.denseAddCur(si[b + O_DENSE]!, kind);
      return;
    }
    this.arena[si[b + O_LOG]! + si[b + O_LEN]!] = rec;
    si[b + O_LEN] = si[b + O_LEN]! + 1;
    const lo = this.logOrder;
    const rel = rec >> KIND_BITS;
    const hi = lo[s * 2]!;
    if (rel > hi) lo[s * 2] = rel;
    else if (hi - rel > lo[s * 2 + 1]!) lo[s * 2 + 1] = hi - rel;
  }

  private addCard(s: number, hash: number): void {
    const tick = this.curTickAbs;
    if (tick < this.minStartTick || !this.hasBase) return;
    const rel = tick - this.base;
    if (rel < 0) return;
    const b = s * SW;
    const si = this.si;
    if (si[b + O_CLEN]! + 2 > si[b + O_CCAP]!) this.growCards(s);
    const at = si[b + O_COFF]! + si[b + O_CLEN]!;
    this.arena[at] = rel;
    this.arena[at + 1] = hash;
    si[b + O_CLEN] = si[b + O_CLEN]! + 2;
  }

  /** denseAdd at the current time, with the ring slots setTime() worked out once. */
  private denseAddCur(block: number, kind: number): void {
    const nW = this.nW;
    const hiBase = block * nW;
    for (let w = 0; w < nW; w++) {
      // a pane this entity has not reached yet needs clearing first: take the general path
      if (this.curSlot[w]! >= 0 && this.curPane[w]! > this.denseHi[hiBase + w]!) {
        this.denseAdd(block, kind, this.curPane);
        return;
      }
    }
    const blockBase = block * this.blockWords;
    const k0 = KM_START[kind]!;
    const k1 = KM_START[kind + 1]!;
    const dense = this.dense;
    for (let w = 0; w < nW; w++) {
      const sl = this.curSlot[w]!;
      if (sl < 0) continue;
      const at = blockBase + this.winOff[w]! + sl * NMETRICS;
      for (let k = k0; k < k1; k++) dense[at + KMETRICS[k]!]!++;
    }
  }

  private denseAdd(block: number, kind: number, panes: Float64Array): void {
    const nW = this.nW;
    const dense = this.dense;
    const hiBase = block * nW;
    const blockBase = block * this.blockWords;
    const k0 = KM_START[kind]!;
    const k1 = KM_START[kind + 1]!;
    for (let w = 0; w < nW; w++) {
      const p = panes[w]!;
      const n = this.ringN[w]!;
      const head = this.headPane[w]!;
      if (p <= head - n) continue;
      const hi = this.denseHi[hiBase + w]!;
      const wBase = blockBase + this.winOff[w]!;
      if (p > hi) {
        // clear the panes this entity skips over: their ring slots hold panes n back
        let x = Math.max(hi + 1, p - n + 1, head - n + 1);
        for (; x <= p; x++) {
          let sl = this.headSlot[w]! - (head - x);
          if (sl < 0) sl += n;
          dense.fill(0, wBase + sl * NMETRICS, wBase + sl * NMETRICS + NMETRICS);
        }
        this.denseHi[hiBase + w] = p;
      }
      let sl = this.headSlot[w]! - (head - p);
      if (sl < 0) sl += n;
      const at = wBase + sl * NMETRICS;
      for (let k = k0; k < k1; k++) dense[at + KMETRICS[k]!]!++;
    }
  }

  // ======================================================================================
  // time
  // ======================================================================================

  advance(watermarkMs: number): void {
    if (!(watermarkMs > this.wm)) return;
    this.wm = watermarkMs;
    this.idleBefore = watermarkMs - this.idleMs;
    const tick = Math.floor(watermarkMs / this.g);
    if (tick !== this.wmTick) {
      this.wmTick = tick;
      let min = Number.POSITIVE_INFINITY;
      for (let w = 0; w < this.nW; w++) {
        const q = this.q[w]!;
        const endPane = Math.floor(tick / q);
        const start = (endPane - this.winPanes[w]!) * q;
        if (start < min) min = start;
        if (this.hasHead && endPane > this.headPane[w]!) this.moveHead(w, endPane);
      }
      this.minStartTick = min;
    }
    const limit = watermarkMs + this.lateness;
    if (this.settleQ.len > 0) this.stage(this.settleQ, limit);
    if (this.reverseQ.len > 0) this.stage(this.reverseQ, limit);
    if (this.dueHeap.peek() < watermarkMs) this.fireTimers(watermarkMs);
    if (watermarkMs >= this.nextSweep) this.sweep();
  }

  /** Moves timers due before `limit` (and stale entries) from the FIFO head to the heap. */
  private stage(q: TimerFifo, limit: number): void {
    while (q.len > 0) {
      const i = q.idx[q.head]!;
      const gen = q.gen[q.head]!;
      if (this.tGen[i] === gen) {
        const due = this.tDue[i]!;
        if (!(due < limit)) return;
        this.dueHeap.push(due, i, gen);
      }
      q.shift();
    }
  }

  /** Fires every timer due before the watermark, in due order (as ReferenceEngine does). */
  private fireTimers(wm: number): void {
    const h = this.dueHeap;
    while (h.len > 0 && h.due[0]! < wm) {
      const i = h.idx[0]!;
      const gen = h.gen[0]!;
      h.pop();
      if (this.tGen[i] !== gen) continue; // replaced or cancelled
      const meta = this.tMeta[i]!;
      if ((meta & T_KIND) === T_SETTLE) {
        if (!(meta & T_REVERSED)) {
          this.timerContribute(i, K_DUE);
          if (!(meta & T_SETTLED)) this.timerContribute(i, K_UNSETTLED);
        }
      } else if (!(meta & T_REVERSED)) {
        this.timerContribute(i, K_UNREVERSED);
      }
      this.releaseTimer(i);
      this.dropTimer(i);
    }
  }

  private timerContribute(i: number, kind: number): void {
    const due = this.tDue[i]!;
    this.setTime(due);
    const rec = this.recordFor(kind);
    const o = i * TS;
    const ts = this.tSlots;
    this.timerTouch(ts[o]!, due, rec, kind);
    this.timerTouch(ts[o + 1]!, due, rec, kind);
    this.timerTouch(ts[o + 2]!, due, rec, kind);
    this.timerTouch(this.fleetSlot, due, rec, kind);
    if (ts[o + 3]! >= 0) this.timerTouch(ts[o + 3]!, due, rec, kind);
    if (ts[o + 4]! >= 0) this.timerTouch(ts[o + 4]!, due, rec, kind);
  }

  private timerTouch(s: number, due: number, rec: number, kind: number): void {
    const f = s * 8;
    const live = (this.si[s * SW + O_STATE]! & 15) === ST_LIVE;
    // as ReferenceEngine: a timer due before the idle horizon does not revive an idle entity
    if (due < this.idleBefore && (!live || this.sf[f + 1]! < this.idleBefore)) return;
    if (!live) this.revive(s);
    else if (this.sf[f + 1]! < this.idleBefore) {
      this.nEvicted++;
      this.reset(s);
    }
    if (due > this.sf[f + 1]!) this.sf[f + 1] = due;
    this.addRecord(s, rec, kind);
  }

  /** Evicts every idle entity: its storage returns to the arena, its slot to the free list. */
  private sweep(): void {
    this.nextSweep = this.wm + this.sweepEvery;
    const si = this.si;
    const sf = this.sf;
    for (let s = 0; s < this.slotTop; s++) {
      if ((si[s * SW + O_STATE]! & 15) === ST_LIVE && sf[s * 8 + 1]! < this.idleBefore) {
        this.nEvicted++;
        this.kill(s);
      }
    }
  }

  // ======================================================================================
  // reads
  // ======================================================================================

  private live(scope: ScopeIndex, key: string): number {
    const s = this.maps[scope]?.get(key);
    if (s === undefined) return -1;
    if ((this.si[s * SW + O_STATE]! & 15) !== ST_LIVE) return -1;
    return this.sf[s * 8 + 1]! < this.idleBefore ? -1 : s;
  }

  read(scope: ScopeIndex, key: string, windowIndex: number, out: Float64Array): boolean {
    const s = this.live(scope, key);
    if (s < 0) return false;
    out.fill(0);
    const w = windowIndex;
    if (!(w >= 0 && w < this.nW)) return true;
    const d = this.si[s * SW + O_DENSE]!;
    if (d >= 0) {
      this.denseRead(d, w, out);
      return true;
    }
    const kc = this.kindCounts;
    kc.fill(0);
    const [startRel, endRel] = this.windowRel(w);
    const off = this.si[s * SW + O_LOG]!;
    const len = this.si[s * SW + O_LEN]!;
    const arena = this.arena;
    const stop = startRel - this.logOrder[s * 2 + 1]!;
    for (let k = off + len - 1; k >= off; k--) {
      const r = arena[k]!;
      const rel = r >> KIND_BITS;
      if (rel < startRel) {
        if (rel < stop) break; // every older record is before the window too (logOrder)
      } else if (rel < endRel) kc[r & KIND_MASK]!++;
    }
    for (let kind = 0; kind < KIND_COUNT; kind++) {
      const c = kc[kind]!;
      if (c === 0) continue;
      for (let k = KM_START[kind]!; k < KM_START[kind + 1]!; k++) out[KMETRICS[k]!]! += c;
    }
    return true;
  }

  private windowRel(w: number): [number, number] {
    const endTick = Math.floor(this.wmTick / this.q[w]!) * this.q[w]!;
    const startTick = endTick - this.winTicks[w]!;
    return [startTick - this.base, endTick - this.base];
  }

  private denseRead(block: number, w: number, out: Float64Array): void {
    const n = this.ringN[w]!;
    const head = this.headPane[w]!;
    const hi = this.denseHi[block * this.nW + w]!;
    const end = Math.floor(this.wmTick / this.q[w]!);
    const last = Math.min(end - 1, hi);
    const wBase = block * this.blockWords + this.winOff[w]!;
    const dense = this.dense;
    for (let x = end - this.winPanes[w]!; x <= last; x++) {
      let sl = this.headSlot[w]! - (head - x);
      if (sl < 0) sl += n;
      const at = wBase + sl * METRIC_COUNT;
      for (let m = 0; m < METRIC_COUNT; m++) out[m]! += dense[at + m]!;
    }
  }

  distinctDeclinedCards(scope: ScopeIndex, key: string, windowIndex: number): number {
    if (scope !== SCOPE.terminal && scope !== SCOPE.merchant) return 0;
    const s = this.live(scope, key);
    if (s < 0 || !(windowIndex >= 0 && windowIndex < this.nW)) return 0;
    const [startRel, endRel] = this.windowRel(windowIndex);
    const off = this.si[s * SW + O_COFF]!;
    const len = this.si[s * SW + O_CLEN]!;
    if (this.cardScratch.length < len) this.cardScratch = new Int32Array(len * 2);
    const scratch = this.cardScratch;
    let n = 0;
    for (let k = off; k < off + len; k += 2) {
      const rel = this.arena[k]!;
      if (rel >= startRel && rel < endRel) scratch[n++] = this.arena[k + 1]!;
    }
    const sorted = scratch.subarray(0, n).sort();
    let distinct = 0;
    for (let k = 0; k < n; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) distinct++;
    return distinct;
  }

  keys(scope: ScopeIndex): string[] {
    return this.touchedSince(scope, Number.NEGATIVE_INFINITY);
  }

  touchedSince(scope: ScopeIndex, sinceMs: number): string[] {
    const out: string[] = [];
    const map = this.maps[scope];
    if (!map) return out;
    for (const [k, s] of map) {
      if ((this.si[s * SW + O_STATE]! & 15) !== ST_LIVE) continue;
      const la = this.sf[s * 8 + 1]!;
      if (la >= this.idleBefore && la >= sinceMs) out.push(k);
    }
    return out.sort();
  }

  lastSeen(scope: ScopeIndex, key: string): number {
    const s = this.live(scope, key);
    return s < 0 ? Number.NEGATIVE_INFINITY : this.sf[s * 8]!;
  }

  terminalInfo(
    terminalId: string,
  ): { merchantId: string; region: string; firmware?: string } | undefined {
    const t = this.live(SCOPE.terminal, terminalId);
    if (t < 0) return undefined;
    const fw = this.memoF[t];
    return fw === undefined
      ? { merchantId: this.memoM[t]!, region: this.memoR[t]! }
      : { merchantId: this.memoM[t]!, region: this.memoR[t]!, firmware: fw };
  }

  counters(): EngineCounters {
    let idle = 0;
    for (let s = 0; s < this.slotTop; s++) {
      if ((this.si[s * SW + O_STATE]! & 15) === ST_LIVE && this.sf[s * 8 + 1]! < this.idleBefore) {
        idle++;
      }
    }
    return {
      accepted: this.nAccepted,
      duplicates: this.nDup,
      lateDropped: this.nLate,
      evicted: this.nEvicted + idle,
      pendingSettlements: this.nSettle,
      pendingTimeouts: this.nReverse,
    };
  }

  /** Bytes held in typed arrays (capacity, not just use); the JS heap part is measured apart. */
  byteLength(): number {
    return (
      this.slotBuf.byteLength +
      this.arena.byteLength +
      this.dense.byteLength +
      this.denseHi.byteLength +
      this.tH1.byteLength +
      this.tH2.byteLength +
      this.tDue.byteLength +
      this.tMeta.byteLength +
      this.tGen.byteLength +
      this.tSlots.byteLength +
      this.tTable.byteLength +
      this.settleQ.byteLength() +
      this.reverseQ.byteLength() +
      this.dueHeap.byteLength() +
      this.dedup.byteLength()
    );
  }

  /** Typed-array bytes by part (capacity): window state, pending timers, dedup window. */
  memoryBreakdown(): { windowState: number; pendingTimers: number; dedup: number } {
    const timers =
      this.tH1.byteLength +
      this.tH2.byteLength +
      this.tDue.byteLength +
      this.tMeta.byteLength +
      this.tGen.byteLength +
      this.tSlots.byteLength +
      this.tTable.byteLength +
      this.settleQ.byteLength() +
      this.reverseQ.byteLength() +
      this.dueHeap.byteLength();
    const dedup = this.dedup.byteLength();
    return { windowState: this.byteLength() - timers - dedup, pendingTimers: timers, dedup };
  }

  /** Diagnostics for benchmarks: how many entities are sparse and dense. */
  layoutStats(): { slots: number; live: number; dense: number; arenaWords: number } {
    let live = 0;
    let dense = 0;
    for (let s = 0; s < this.slotTop; s++) {
      if ((this.si[s * SW + O_STATE]! & 15) === ST_LIVE) live++;
      if (this.si[s * SW + O_DENSE]! >= 0) dense++;
    }
    return { slots: this.slotTop, live, dense, arenaWords: this.arenaTop };
  }

  // ======================================================================================
  // entity storage
  // ======================================================================================

  private allocSlot(scope: number, name: string): number {
    let s = this.freeSlot;
    if (s >= 0) this.freeSlot = this.si[s * SW + O_LOG]!;
    else {
      if ((this.slotTop + 1) * SW * 4 > this.slotBuf.byteLength) this.growSlots();
      s = this.slotTop++;
    }
    const b = s * SW;
    const si = this.si;
    si[b + O_LOG] = 0;
    si[b + O_LEN] = 0;
    si[b + O_CAP] = 0;
    si[b + O_DENSE] = -1;
    si[b + O_REFS] = 0;
    si[b + O_STATE] = ST_DEAD | (scope << 4);
    si[b + O_COFF] = 0;
    si[b + O_CLEN] = 0;
    si[b + O_CCAP] = 0;
    si[b + O_MSLOT] = -1;
    si[b + O_RSLOT] = -1;
    si[b + O_FSLOT] = -1;
    this.logOrder[s * 2] = -1;
    this.logOrder[s * 2 + 1] = 0;
    this.sf[s * 8] = Number.NEGATIVE_INFINITY;
    this.sf[s * 8 + 1] = Number.NEGATIVE_INFINITY;
    this.names[s] = name;
    this.memoM[s] = undefined;
    this.memoR[s] = undefined;
    this.memoF[s] = undefined;
    this.maps[scope]!.set(name, s);
    return s;
  }

  private growSlots(): void {
    const buf = new ArrayBuffer(this.slotBuf.byteLength * 2);
    new Uint8Array(buf).set(new Uint8Array(this.slotBuf));
    this.slotBuf = buf;
    this.si = new Int32Array(buf);
    this.sf = new Float64Array(buf);
    const lo = new Int32Array(this.logOrder.length * 2);
    lo.set(this.logOrder);
    this.logOrder = lo;
  }

  /** logOrder of a slot from the records in its log (restore). */
  private measureLogOrder(s: number): void {
    const b = s * SW;
    const off = this.si[b + O_LOG]!;
    const len = this.si[b + O_LEN]!;
    let hi = -1;
    let dis = 0;
    for (let k = off; k < off + len; k++) {
      const rel = this.arena[k]! >> KIND_BITS;
      if (rel > hi) hi = rel;
      else if (hi - rel > dis) dis = hi - rel;
    }
    this.logOrder[s * 2] = hi;
    this.logOrder[s * 2 + 1] = dis;
  }

  /** Drops the slot's data: it reads as empty from now on (lastSeen, lastActive -Infinity). */
  private reset(s: number): void {
    const b = s * SW;
    const si = this.si;
    if (si[b + O_CAP]! > 0) this.freeChunk(si[b + O_LOG]!, si[b + O_CAP]!);
    if (si[b + O_CCAP]! > 0) this.freeChunk(si[b + O_COFF]!, si[b + O_CCAP]!);
    if (si[b + O_DENSE]! >= 0) this.denseFree.push(si[b + O_DENSE]!);
    si[b + O_LOG] = 0;
    si[b + O_LEN] = 0;
    si[b + O_CAP] = 0;
    si[b + O_DENSE] = -1;
    this.logOrder[s * 2] = -1;
    this.logOrder[s * 2 + 1] = 0;
    si[b + O_COFF] = 0;
    si[b + O_CLEN] = 0;
    si[b + O_CCAP] = 0;
    this.sf[s * 8] = Number.NEGATIVE_INFINITY;
    this.sf[s * 8 + 1] = Number.NEGATIVE_INFINITY;
  }

  private revive(s: number): void {
    this.reset(s);
    const b = s * SW + O_STATE;
    this.si[b] = (this.si[b]! & ~15) | ST_LIVE;
  }

  /** Evicted: data dropped; the slot itself goes once no timer refers to it. */
  private kill(s: number): void {
    this.reset(s);
    const b = s * SW;
    this.si[b + O_STATE] = (this.si[b + O_STATE]! & ~15) | ST_DEAD;
    if (this.si[b + O_REFS] === 0) this.freeSlotAt(s);
  }

  private freeSlotAt(s: number): void {
    const b = s * SW;
    const scope = this.si[b + O_STATE]! >> 4;
    this.maps[scope]!.delete(this.names[s]!);
    this.names[s] = undefined;
    this.memoM[s] = undefined;
    this.memoR[s] = undefined;
    this.memoF[s] = undefined;
    this.si[b + O_STATE] = ST_FREE;
    this.si[b + O_LOG] = this.freeSlot;
    this.freeSlot = s;
  }

  private unref(s: number): void {
    const b = s * SW + O_REFS;
    const refs = this.si[b]! - 1;
    this.si[b] = refs;
    if (refs === 0 && (this.si[s * SW + O_STATE]! & 15) === ST_DEAD) this.freeSlotAt(s);
  }

  private allocChunk(words: number): number {
    const c = 31 - Math.clz32(words);
    const f = this.freeHead[c]!;
    if (f >= 0) {
      this.freeHead[c] = this.arena[f]!;
      return f;
    }
    if (this.arenaTop + words > this.arena.length) {
      let n = this.arena.length * 2;
      while (n < this.arenaTop + words) n *= 2;
      const a = new Int32Array(n);
      a.set(this.arena.subarray(0, this.arenaTop));
      this.arena = a;
    }
    const off = this.arenaTop;
    this.arenaTop += words;
    return off;
  }

  private freeChunk(off: number, words: number): void {
    const c = 31 - Math.clz32(words);
    this.arena[off] = this.freeHead[c]!;
    this.freeHead[c] = off;
  }

  /** The log is full: drop records no window can read, else grow it, else go dense. */
  private makeRoom(s: number): boolean {
    const b = s * SW;
    const si = this.si;
    const off = si[b + O_LOG]!;
    const cap = si[b + O_CAP]!;
    let len = si[b + O_LEN]!;
    if (cap > 0) {
      const minRel = this.minStartTick - this.base;
      const a = this.arena;
      let j = off;
      for (let k = off; k < off + len; k++) {
        const r = a[k]!;
        if (r >> KIND_BITS >= minRel) a[j++] = r;
      }
      len = j - off;
      si[b + O_LEN] = len;
      // keep the size while compaction frees a quarter; else every append would compact
      if (len <= cap - (cap >> 2)) return true;
    }
    const want = cap === 0 ? 4 : cap * 2;
    if (want > this.promoteAt && cap > 0) {
      this.promote(s);
      return false;
    }
    const n = this.allocChunk(want);
    if (cap > 0) {
      this.arena.copyWithin(n, off, off + len);
      this.freeChunk(off, cap);
    }
    si[b + O_LOG] = n;
    si[b + O_CAP] = want;
    return true;
  }

  private growCards(s: number): void {
    const b = s * SW;
    const si = this.si;
    const off = si[b + O_COFF]!;
    const cap = si[b + O_CCAP]!;
    let len = si[b + O_CLEN]!;
    if (cap > 0) {
      const minRel = this.minStartTick - this.base;
      const a = this.arena;
      let j = off;
      for (let k = off; k < off + len; k += 2) {
        if (a[k]! >= minRel) {
          a[j] = a[k]!;
          a[j + 1] = a[k + 1]!;
          j += 2;
        }
      }
      len = j - off;
      si[b + O_CLEN] = len;
      if (len + 2 <= cap - (cap >> 2)) return;
    }
    const want = cap === 0 ? 4 : cap * 2;
    const n = this.allocChunk(want);
    if (cap > 0) {
      this.arena.copyWithin(n, off, off + len);
      this.freeChunk(off, cap);
    }
    si[b + O_COFF] = n;
    si[b + O_CCAP] = want;
  }

  private promote(s: number): void {
    let block = this.denseFree.pop();
    if (block === undefined) {
      block = this.denseTop++;
      if (this.denseTop * this.blockWords > this.dense.length) {
        const n = Math.max(this.denseTop * 2, 4);
        const d = new Int32Array(n * this.blockWords);
        d.set(this.dense);
        this.dense = d;
        const h = new Float64Array(n * this.nW);
        h.set(this.denseHi);
        this.denseHi = h;
      }
    }
    this.denseHi.fill(Number.NEGATIVE_INFINITY, block * this.nW, (block + 1) * this.nW);
    const b = s * SW;
    const si = this.si;
    const off = si[b + O_LOG]!;
    const len = si[b + O_LEN]!;
    const panes = this.scratchPane;
    for (let k = off; k < off + len; k++) {
      const r = this.arena[k]!;
      const tick = (r >> KIND_BITS) + this.base;
      for (let w = 0; w < this.nW; w++) panes[w] = Math.floor(tick / this.q[w]!);
      this.denseAdd(block, r & KIND_MASK, panes);
    }
    this.freeChunk(off, si[b + O_CAP]!);
    si[b + O_LOG] = 0;
    si[b + O_LEN] = 0;
    si[b + O_CAP] = 0;
    si[b + O_DENSE] = block;
  }

  /** Record ticks are relative to `base` in 25 bits: move base when time runs past it. */
  private rebase(tick: number): void {
    const nb = tick - this.horizonTicks - 2;
    const delta = nb - this.base;
    this.base = nb;
    const si = this.si;
    const a = this.arena;
    const shift = delta * (1 << KIND_BITS);
    for (let s = 0; s < this.slotTop; s++) {
      const b = s * SW;
      if ((si[b + O_STATE]! & 15) !== ST_LIVE) continue;
      const off = si[b + O_LOG]!;
      for (let k = off; k < off + si[b + O_LEN]!; k++) {
        const r = a[k]! - shift;
        // a record pushed below 0 is older than any window can read: keep it at tick 0
        a[k] = r < 0 ? a[k]! & KIND_MASK : r;
      }
      const coff = si[b + O_COFF]!;
      for (let k = coff; k < coff + si[b + O_CLEN]!; k += 2) a[k] = Math.max(0, a[k]! - delta);
      this.measureLogOrder(s);
    }
  }

  // ======================================================================================
  // pending timers: open addressing on the 64-bit txnId hash
  // ======================================================================================

  private findTimer(lo: number, hi: number): number {
    const table = this.tTable;
    const mask = this.tMask;
    let p = lo & mask;
    for (;;) {
      const v = table[p]!;
      if (v === 0) return -1;
      if (this.tH1[v - 1] === lo && this.tH2[v - 1] === hi) return v - 1;
      p = (p + 1) & mask;
    }
  }

  private newTimer(lo: number, hi: number): number {
    let i = this.tFree;
    if (i >= 0) this.tFree = this.tMeta[i]!;
    else {
      if (this.tTop === this.tH1.length) this.growTimers();
      i = this.tTop++;
    }
    this.tH1[i] = lo;
    this.tH2[i] = hi;
    if ((this.tCount + 1) * 2 > this.tTable.length) this.growTimerTable();
    const mask = this.tMask;
    let p = lo & mask;
    while (this.tTable[p] !== 0) p = (p + 1) & mask;
    this.tTable[p] = i + 1;
    this.tCount++;
    return i;
  }

  /** Undoes a live timer's refs and counts (it fired, was replaced or cancelled). */
  private releaseTimer(i: number): void {
    if ((this.tMeta[i]! & T_KIND) === T_SETTLE) this.nSettle--;
    else this.nReverse--;
    this.tGen[i] = (this.tGen[i]! + 1) | 0;
    const o = i * TS;
    const ts = this.tSlots;
    this.unref(ts[o]!);
    this.unref(ts[o + 1]!);
    this.unref(ts[o + 2]!);
    if (ts[o + 3]! >= 0) this.unref(ts[o + 3]!);
    if (ts[o + 4]! >= 0) this.unref(ts[o + 4]!);
  }

  /** Removes timer i from the table (backward-shift deletion) and frees its index. */
  private dropTimer(i: number): void {
    const table = this.tTable;
    const mask = this.tMask;
    let h = this.tH1[i]! & mask;
    while (table[h] !== i + 1) h = (h + 1) & mask;
    let j = h;
    for (;;) {
      j = (j + 1) & mask;
      const v = table[j]!;
      if (v === 0) break;
      const home = this.tH1[v - 1]! & mask;
      if (h <= j ? home <= h || home > j : home <= h && home > j) {
        table[h] = v;
        h = j;
      }
    }
    table[h] = 0;
    this.tCount--;
    this.tMeta[i] = this.tFree;
    this.tFree = i;
  }

  private growTimers(): void {
    const n = this.tH1.length * 2;
    this.tH1 = growI32(this.tH1, n);
    this.tH2 = growI32(this.tH2, n);
    this.tMeta = growI32(this.tMeta, n);
    this.tGen = growI32(this.tGen, n);
    this.tSlots = growI32(this.tSlots, n * TS);
    const d = new Float64Array(n);
    d.set(this.tDue);
    this.tDue = d;
  }

  private growTimerTable(): void {
    const old = this.tTable;
    this.tTable = new Int32Array(old.length * 2);
    this.tMask = this.tTable.length - 1;
    for (let k = 0; k < old.length; k++) {
      const v = old[k]!;
      if (v === 0) continue;
      let p = this.tH1[v - 1]! & this.tMask;
      while (this.tTable[p] !== 0) p = (p + 1) & this.tMask;
      this.tTable[p] = v;
    }
  }

  // ======================================================================================
  // snapshot / restore
  // ======================================================================================

  /**
   * The whole state as bytes: a version byte, a JSON header (config, scalars, names) and the
   * typed arrays verbatim (used part only). restore() rebuilds the identical state, so reads
   * are equal and the restored engine continues exactly as the original would.
   */
  snapshot(): Uint8Array {
    const c = this.config;
    const header = {
      config: {
        windowsMs: [...c.windowsMs],
        panesMs: [...c.panesMs],
        allowedLatenessMs: c.allowedLatenessMs,
        settlementDeadlineMs: c.settlementDeadlineMs,
        reversalGraceMs: c.reversalGraceMs,
        dedupCapacity: c.dedupCapacity,
        idleEvictMs: c.idleEvictMs,
        smallAmount: c.smallAmount,
        codeCategories: [...c.codeCategories],
        inputErrorCodes: [...c.inputErrorCodes],
      },
      promoteAt: this.promoteAt,
      wm: num(this.wm),
      wmTick: num(this.wmTick),
      minStartTick: num(this.minStartTick),
      base: this.base,
      hasBase: this.hasBase,
      nextSweep: num(this.nextSweep),
      hasHead: this.hasHead,
      headPane: [...this.headPane],
      headSlot: [...this.headSlot],
      counts: [this.nAccepted, this.nDup, this.nLate, this.nEvicted, this.nSettle, this.nReverse],
      slotTop: this.slotTop,
      slotBytes: this.slotBuf.byteLength,
      freeSlot: this.freeSlot,
      names: this.names.slice(0, this.slotTop).map((x) => x ?? null),
      memoM: this.memoM.slice(0, this.slotTop).map((x) => x ?? null),
      memoR: this.memoR.slice(0, this.slotTop).map((x) => x ?? null),
      memoF: this.memoF.slice(0, this.slotTop).map((x) => x ?? null),
      fleetSlot: this.fleetSlot,
      arenaTop: this.arenaTop,
      arenaLen: this.arena.length,
      freeHead: [...this.freeHead],
      denseTop: this.denseTop,
      denseCap: this.dense.length / Math.max(1, this.blockWords),
      denseFree: this.denseFree,
      tTop: this.tTop,
      tCap: this.tH1.length,
      tFree: this.tFree,
      tCount: this.tCount,
      queues: [this.settleQ, this.reverseQ].map((q) => ({ head: q.head, len: q.len })),
      heapLen: this.dueHeap.len,
      dedup: {
        count: this.dedup.count,
        head: this.dedup.head,
        ring: this.dedup.ringLo.length,
      },
    };
    const parts: SnapshotParts = {
      slots: new Int32Array(this.slotBuf, 0, this.slotTop * SW),
      arena: this.arena.subarray(0, this.arenaTop),
      dense: this.dense.subarray(0, this.denseTop * this.blockWords),
      denseHi: this.denseHi.subarray(0, this.denseTop * this.nW),
      tH1: this.tH1.subarray(0, this.tTop),
      tH2: this.tH2.subarray(0, this.tTop),
      tDue: this.tDue.subarray(0, this.tTop),
      tMeta: this.tMeta.subarray(0, this.tTop),
      tGen: this.tGen.subarray(0, this.tTop),
      tSlots: this.tSlots.subarray(0, this.tTop * TS),
      tTable: this.tTable,
      sqIdx: this.settleQ.idx,
      sqGen: this.settleQ.gen,
      rqIdx: this.reverseQ.idx,
      rqGen: this.reverseQ.gen,
      hDue: this.dueHeap.due,
      hIdx: this.dueHeap.idx,
      hGen: this.dueHeap.gen,
      ddLo: this.dedup.ringLo.subarray(0, this.dedup.count),
      ddHi: this.dedup.ringHi.subarray(0, this.dedup.count),
      ddTable: this.dedup.table,
    };
    return encodeSnapshot(SNAPSHOT_VERSION, header, parts);
  }

  /**
   * An engine in exactly the state of the snapshot. `config`, when given, must describe the
   * same layout (windows, panes, lateness, dedup capacity); it may change the rest (e.g. a
   * new code table applies to events from now on).
   */
  static restore(bytes: Uint8Array, config?: Partial<EngineConfig>): Engine {
    const { version, header, parts } = decodeSnapshot(bytes);
    if (version !== SNAPSHOT_VERSION) {
      throw new EngineError(
        'TW_ENGINE_SNAPSHOT_VERSION',
        `engine snapshot version ${version} is not supported (expected ${SNAPSHOT_VERSION}); replay from the source instead`,
      );
    }
    const h = header as unknown as SnapshotHeader;
    const saved: EngineConfig = {
      ...h.config,
      codeCategories: new Map(h.config.codeCategories),
    };
    const cfg = resolveConfig({ ...saved, ...(config ?? {}) });
    for (const k of ['windowsMs', 'panesMs', 'allowedLatenessMs', 'dedupCapacity'] as const) {
      if (JSON.stringify(cfg[k]) !== JSON.stringify(saved[k])) {
        throw new EngineError(
          'TW_ENGINE_SNAPSHOT_CONFIG',
          `engine snapshot was taken with ${k}=${JSON.stringify(saved[k])}; restoring with ${JSON.stringify(cfg[k])} would misread its panes`,
        );
      }
    }
    const e = new Engine(cfg, { promoteAt: h.promoteAt });
    e.wm = den(h.wm);
    e.idleBefore = e.wm - e.idleMs;
    e.wmTick = den(h.wmTick);
    e.minStartTick = den(h.minStartTick);
    e.base = h.base;
    e.hasBase = h.hasBase;
    e.nextSweep = den(h.nextSweep);
    e.hasHead = h.hasHead;
    e.headPane.set(h.headPane);
    e.headSlot.set(h.headSlot);
    [e.nAccepted, e.nDup, e.nLate, e.nEvicted, e.nSettle, e.nReverse] = h.counts as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    e.slotBuf = new ArrayBuffer(h.slotBytes);
    e.si = new Int32Array(e.slotBuf);
    e.sf = new Float64Array(e.slotBuf);
    e.si.set(parts.slots!);
    e.slotTop = h.slotTop;
    e.freeSlot = h.freeSlot;
    e.names = h.names.map((x) => x ?? undefined);
    e.memoM = h.memoM.map((x) => x ?? undefined);
    e.memoR = h.memoR.map((x) => x ?? undefined);
    e.memoF = h.memoF.map((x) => x ?? undefined);
    for (const m of e.maps) m.clear();
    for (let s = 0; s < e.slotTop; s++) {
      const st = e.si[s * SW + O_STATE]!;
      if ((st & 15) !== ST_FREE) e.maps[st >> 4]!.set(e.names[s]!, s);
    }
    e.fleetSlot = h.fleetSlot;
    e.arena = new Int32Array(h.arenaLen);
    e.arena.set(parts.arena!);
    e.arenaTop = h.arenaTop;
    // not in the snapshot (its format stays): measured again from the restored logs
    e.logOrder = new Int32Array((h.slotBytes / (SW * 4)) * 2);
    for (let s = 0; s < e.slotTop; s++) e.measureLogOrder(s);
    e.freeHead.set(h.freeHead);
    e.dense = new Int32Array(h.denseCap * e.blockWords);
    e.dense.set(parts.dense!);
    e.denseHi = new Float64Array(h.denseCap * e.nW);
    e.denseHi.set(parts.denseHi! as Float64Array);
    e.denseTop = h.denseTop;
    e.denseFree = [...h.denseFree];
    const tc = h.tCap;
    e.tH1 = withData(new Int32Array(tc), parts.tH1!);
    e.tH2 = withData(new Int32Array(tc), parts.tH2!);
    e.tDue = withData(new Float64Array(tc), parts.tDue!);
    e.tMeta = withData(new Int32Array(tc), parts.tMeta!);
    e.tGen = withData(new Int32Array(tc), parts.tGen!);
    e.tSlots = withData(new Int32Array(tc * TS), parts.tSlots!);
    e.tTable = Int32Array.from(parts.tTable! as Int32Array);
    e.tMask = e.tTable.length - 1;
    e.tTop = h.tTop;
    e.tFree = h.tFree;
    e.tCount = h.tCount;
    const qs = [e.settleQ, e.reverseQ];
    const qp = [
      [parts.sqIdx, parts.sqGen],
      [parts.rqIdx, parts.rqGen],
    ];
    for (let k = 0; k < 2; k++) {
      const q = qs[k]!;
      const [idx, gen] = qp[k]!;
      q.idx = Int32Array.from(idx! as Int32Array);
      q.gen = Int32Array.from(gen! as Int32Array);
      q.head = h.queues[k]!.head;
      q.len = h.queues[k]!.len;
    }
    e.dueHeap.due = Float64Array.from(parts.hDue! as Float64Array);
    e.dueHeap.idx = Int32Array.from(parts.hIdx! as Int32Array);
    e.dueHeap.gen = Int32Array.from(parts.hGen! as Int32Array);
    e.dueHeap.len = h.heapLen;
    const dd = e.dedup;
    dd.ringLo = withData(new Int32Array(h.dedup.ring), parts.ddLo!);
    dd.ringHi = withData(new Int32Array(h.dedup.ring), parts.ddHi!);
    dd.table = Int32Array.from(parts.ddTable! as Int32Array);
    dd.mask = dd.table.length - 1;
    dd.count = h.dedup.count;
    dd.head = h.dedup.head;
    return e;
  }
}

interface SnapshotHeader {
  config: Omit<EngineConfig, 'codeCategories'> & { codeCategories: [string, number][] };
  promoteAt: number;
  wm: number | string;
  wmTick: number | string;
  minStartTick: number | string;
  base: number;
  hasBase: boolean;
  nextSweep: number | string;
  hasHead: boolean;
  headPane: number[];
  headSlot: number[];
  counts: number[];
  slotTop: number;
  slotBytes: number;
  freeSlot: number;
  names: (string | null)[];
  memoM: (string | null)[];
  memoR: (string | null)[];
  memoF: (string | null)[];
  fleetSlot: number;
  arenaTop: number;
  arenaLen: number;
  freeHead: number[];
  denseTop: number;
  denseCap: number;
  denseFree: number[];
  tTop: number;
  tCap: number;
  tFree: number;
  tCount: number;
  queues: { head: number; len: number }[];
  heapLen: number;
  dedup: { count: number; head: number; ring: number };
}

/** JSON has no infinities or NaN: encode them as strings. */
function num(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}
function den(x: number | string): number {
  return typeof x === 'number' ? x : Number(x);
}

function withData<T extends Int32Array | Float64Array>(target: T, data: ArrayLike<number>): T {
  target.set(data);
  return target;
}

function growI32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
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
