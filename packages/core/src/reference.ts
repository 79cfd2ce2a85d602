import { resolveConfig } from './config';
import {
  CAT,
  FLEET_KEY,
  M,
  METRIC_COUNT,
  Outcome,
  REASON,
  SCOPE,
  SCOPE_COUNT,
  type EngineConfig,
  type EngineCounters,
  type EngineEvent,
  type ScopeIndex,
  type WindowEngine,
} from './types';

/**
 * The plain reference engine: maps of arrays, every window summed from the raw contributions
 * on each read. Obviously correct and slow; it is the executable definition of the semantics in
 * types.ts, the oracle of the property tests, and the first engine of the all-in-one.
 */

interface Contribution {
  t: number;
  m: number;
  /** card fingerprint of a declined auth, for distinct-card counts */
  card?: string;
}

interface RefEntity {
  items: Contribution[];
  /** event time of the latest event (not timer) applied to this key */
  lastSeen: number;
  /** latest time of any contribution, events and timers: drives eviction */
  lastActive: number;
}

interface Keys {
  scopes: [ScopeIndex, string][];
}

interface SettleTimer {
  kind: 'settle';
  due: number;
  keys: Keys;
  reversed: boolean;
  settled: boolean;
}
interface ReverseTimer {
  kind: 'reverse';
  due: number;
  keys: Keys;
  reversed: boolean;
}
interface TerminalMemo {
  merchantId: string;
  region: string;
  firmware?: string;
}

export class ReferenceEngine implements WindowEngine {
  readonly config: EngineConfig;
  watermark = Number.NEGATIVE_INFINITY;
  private readonly entities: Map<string, RefEntity>[] = [];
  private readonly terminals = new Map<string, TerminalMemo>();
  private readonly pending = new Map<string, { settle?: SettleTimer; reverse?: ReverseTimer }>();
  private readonly seenIds = new Set<string>();
  private readonly seenOrder: string[] = [];
  private seenHead = 0;
  private readonly inputErrors: Set<string>;
  private readonly prunePadMs: number;
  private stats: EngineCounters = {
    accepted: 0,
    duplicates: 0,
    lateDropped: 0,
    evicted: 0,
    pendingSettlements: 0,
    pendingTimeouts: 0,
  };

  constructor(config: Partial<EngineConfig> = {}) {
    this.config = resolveConfig(config);
    for (let s = 0; s < SCOPE_COUNT; s++) this.entities.push(new Map());
    this.inputErrors = new Set(this.config.inputErrorCodes);
    this.prunePadMs = Math.max(...this.config.windowsMs) + Math.max(...this.config.panesMs);
  }

  ingest(ev: EngineEvent): Outcome {
    if (this.seenIds.has(ev.eventId)) {
      this.stats.duplicates++;
      return Outcome.Duplicate;
    }
    this.remember(ev.eventId);
    if (ev.ts < this.watermark) {
      this.stats.lateDropped++;
      return Outcome.Late;
    }
    this.stats.accepted++;
    this.apply(ev);
    this.advance(ev.ts - this.config.allowedLatenessMs);
    return Outcome.Accepted;
  }

  advance(watermarkMs: number): void {
    if (!(watermarkMs > this.watermark)) return;
    this.watermark = watermarkMs;
    // Timers fire in due-time order (a stable sort keeps ties in table order). Firing in Map
    // insertion order made the eviction count depend on the order auths were first seen when
    // one advance fires timers older than idleEvictMs into the same idle entity.
    const expired: (SettleTimer | ReverseTimer)[] = [];
    for (const [txnId, p] of this.pending) {
      if (p.settle && p.settle.due < watermarkMs) {
        expired.push(p.settle);
        p.settle = undefined;
      }
      if (p.reverse && p.reverse.due < watermarkMs) {
        expired.push(p.reverse);
        p.reverse = undefined;
      }
      if (!p.settle && !p.reverse) this.pending.delete(txnId);
    }
    expired.sort((a, b) => a.due - b.due);
    for (const t of expired) {
      if (t.kind === 'settle') {
        if (!t.reversed) this.contribute(t.keys, t.due, M.settlementDue);
        if (!t.reversed && !t.settled) this.contribute(t.keys, t.due, M.unsettled);
      } else if (!t.reversed) {
        this.contribute(t.keys, t.due, M.unreversedTimeouts);
      }
    }
    this.prune();
  }

  read(scope: ScopeIndex, key: string, windowIndex: number, out: Float64Array): boolean {
    const e = this.live(scope, key);
    if (!e) return false;
    out.fill(0);
    const [start, end] = this.bounds(windowIndex);
    for (const c of e.items) if (c.t >= start && c.t < end) out[c.m]! += 1;
    return true;
  }

  distinctDeclinedCards(scope: ScopeIndex, key: string, windowIndex: number): number {
    const e = this.live(scope, key);
    if (!e) return 0;
    const [start, end] = this.bounds(windowIndex);
    const cards = new Set<string>();
    for (const c of e.items)
      if (c.card !== undefined && c.t >= start && c.t < end) cards.add(c.card);
    return cards.size;
  }

  touchedSince(scope: ScopeIndex, sinceMs: number): string[] {
    const out: string[] = [];
    for (const [k, e] of this.entities[scope]!) {
      if (!this.isIdle(e) && e.lastActive >= sinceMs) out.push(k);
    }
    return out.sort();
  }

  keys(scope: ScopeIndex): string[] {
    const out: string[] = [];
    for (const k of this.entities[scope]!.keys()) if (this.live(scope, k)) out.push(k);
    return out.sort();
  }

  lastSeen(scope: ScopeIndex, key: string): number {
    return this.live(scope, key)?.lastSeen ?? Number.NEGATIVE_INFINITY;
  }

  terminalInfo(terminalId: string): TerminalMemo | undefined {
    if (!this.live(SCOPE.terminal, terminalId)) return undefined;
    const t = this.terminals.get(terminalId);
    return t ? { ...t } : undefined;
  }

  counters(): EngineCounters {
    let settle = 0;
    let reverse = 0;
    for (const p of this.pending.values()) {
      if (p.settle) settle++;
      if (p.reverse) reverse++;
    }
    let evicted = 0;
    for (let s = 0; s < SCOPE_COUNT; s++) {
      for (const k of this.entities[s]!.keys()) if (!this.live(s as ScopeIndex, k)) evicted++;
    }
    return {
      ...this.stats,
      evicted: this.stats.evicted + evicted,
      pendingSettlements: settle,
      pendingTimeouts: reverse,
    };
  }

  // ---------------------------------------------------------------------------------------

  private bounds(windowIndex: number): [number, number] {
    const pane = this.config.panesMs[windowIndex]!;
    const win = this.config.windowsMs[windowIndex]!;
    const end = Math.floor(this.watermark / pane) * pane;
    return [end - win, end];
  }

  private isIdle(e: RefEntity): boolean {
    return e.lastActive < this.watermark - this.config.idleEvictMs;
  }

  private live(scope: ScopeIndex, key: string): RefEntity | undefined {
    const e = this.entities[scope]!.get(key);
    return e && !this.isIdle(e) ? e : undefined;
  }

  private remember(id: string): void {
    this.seenIds.add(id);
    this.seenOrder.push(id);
    if (this.seenIds.size > this.config.dedupCapacity) {
      this.seenIds.delete(this.seenOrder[this.seenHead]!);
      this.seenHead++;
      if (this.seenHead > 4096 && this.seenHead * 2 > this.seenOrder.length) {
        this.seenOrder.splice(0, this.seenHead);
        this.seenHead = 0;
      }
    }
  }

  /** The terminal's memo, forgotten if the terminal has been idle past idleEvictMs. */
  private terminal(ev: EngineEvent): TerminalMemo {
    const known = this.live(SCOPE.terminal, ev.terminalId)
      ? this.terminals.get(ev.terminalId)
      : undefined;
    const memo: TerminalMemo = {
      merchantId: ev.merchantId,
      region: ev.region,
      firmware: known?.firmware,
    };
    this.terminals.set(ev.terminalId, memo);
    return memo;
  }

  private scopeKeys(
    ev: EngineEvent,
    firmware: string | undefined,
    issuer: string | undefined,
  ): Keys {
    const scopes: [ScopeIndex, string][] = [
      [SCOPE.terminal, ev.terminalId],
      [SCOPE.merchant, ev.merchantId],
      [SCOPE.region, ev.region],
      [SCOPE.fleet, FLEET_KEY],
    ];
    if (firmware !== undefined) scopes.push([SCOPE.firmware, firmware]);
    if (issuer !== undefined) scopes.push([SCOPE.issuer, issuer]);
    return { scopes };
  }

  private apply(ev: EngineEvent): void {
    switch (ev.type) {
      case 'auth': {
        const memo = this.terminal(ev);
        const firmware = ev.firmware ?? memo.firmware;
        memo.firmware = firmware;
        const keys = this.scopeKeys(ev, firmware, ev.issuerId);
        const cat = this.config.codeCategories.get(ev.responseCode ?? '') ?? CAT.other;
        const small = (ev.amount ?? 0) <= this.config.smallAmount;
        this.touch(keys, ev.ts);
        this.contribute(keys, ev.ts, M.auths);
        const declinedCard = cat !== CAT.approved ? ev.cardFingerprint : undefined;
        this.contribute(keys, ev.ts, M.approved + cat, declinedCard);
        if (this.inputErrors.has(ev.responseCode ?? ''))
          this.contribute(keys, ev.ts, M.inputErrors);
        if (small) this.contribute(keys, ev.ts, M.smallAuths);
        if (small && cat !== CAT.approved) this.contribute(keys, ev.ts, M.smallDeclines);
        const txn = ev.txnId ?? '';
        const p: { settle?: SettleTimer; reverse?: ReverseTimer } = {};
        if (cat === CAT.approved) {
          p.settle = {
            kind: 'settle',
            due: ev.ts + this.config.settlementDeadlineMs,
            keys,
            reversed: false,
            settled: false,
          };
        } else if (cat === CAT.timeout) {
          p.reverse = {
            kind: 'reverse',
            due: ev.ts + this.config.reversalGraceMs,
            keys,
            reversed: false,
          };
        }
        if (p.settle || p.reverse) this.pending.set(txn, p);
        else this.pending.delete(txn);
        return;
      }
      case 'reversal': {
        const memo = this.terminal(ev);
        const keys = this.scopeKeys(ev, memo.firmware, undefined);
        this.touch(keys, ev.ts);
        this.contribute(keys, ev.ts, M.reversals);
        if (ev.status === 'failed') this.contribute(keys, ev.ts, M.reversalsFailed);
        const r = ev.reason ?? 'other';
        // Object.hasOwn: a reason such as "constructor" must not resolve to Object.prototype.
        const reason = Object.hasOwn(REASON, r) ? REASON[r as keyof typeof REASON] : REASON.other;
        this.contribute(keys, ev.ts, M.revTimeout + reason);
        if (ev.status === 'succeeded') {
          const p = this.pending.get(ev.txnId ?? '');
          if (p?.settle && ev.ts < p.settle.due) p.settle.reversed = true;
          if (p?.reverse && ev.ts < p.reverse.due) p.reverse.reversed = true;
        }
        return;
      }
      case 'settlement': {
        if (ev.status === 'settled') {
          const p = this.pending.get(ev.txnId ?? '');
          if (p?.settle && ev.ts < p.settle.due) p.settle.settled = true;
        }
        return;
      }
      case 'heartbeat': {
        const memo = this.terminal(ev);
        const firmware = ev.firmware ?? memo.firmware;
        memo.firmware = firmware;
        const keys = this.scopeKeys(ev, firmware, undefined);
        this.touch(keys, ev.ts);
        this.contribute(keys, ev.ts, M.heartbeats);
        return;
      }
    }
  }

  private entity(scope: ScopeIndex, key: string): RefEntity {
    const map = this.entities[scope]!;
    let e = map.get(key);
    if (e && this.isIdle(e)) {
      // Evicted: it starts over, as the fast engine reuses the slot.
      map.delete(key);
      this.stats.evicted++;
      e = undefined;
    }
    if (!e) {
      e = { items: [], lastSeen: Number.NEGATIVE_INFINITY, lastActive: Number.NEGATIVE_INFINITY };
      map.set(key, e);
    }
    return e;
  }

  private touch(keys: Keys, ts: number): void {
    for (const [s, k] of keys.scopes) {
      const e = this.entity(s, k);
      if (ts > e.lastSeen) e.lastSeen = ts;
      // The event's own contributions follow at ts; without this a brand-new entity (lastActive
      // -Infinity) looked idle to the next contribute(), which counted a bogus eviction and
      // re-created it, losing lastSeen.
      if (ts > e.lastActive) e.lastActive = ts;
    }
  }

  private contribute(keys: Keys, t: number, m: number, card?: string): void {
    const idleBefore = this.watermark - this.config.idleEvictMs;
    for (const [s, k] of keys.scopes) {
      // A timer due before the idle horizon would re-create an idle entity that is idle again
      // at once: unreadable, and it counted one more eviction per contribution. Skip it.
      if (t < idleBefore && !this.live(s, k)) continue;
      const e = this.entity(s, k);
      e.items.push(card === undefined ? { t, m } : { t, m, card });
      if (t > e.lastActive) e.lastActive = t;
    }
  }

  private pruneCountdown = 0;
  /** Contributions older than (watermark - longest window - largest pane) can never be read. */
  private prune(): void {
    if (++this.pruneCountdown < 1024) return;
    this.pruneCountdown = 0;
    const horizon = this.watermark - this.prunePadMs;
    for (const map of this.entities) {
      for (const e of map.values()) {
        if (e.items.length > 0 && e.items[0]!.t < horizon)
          e.items = e.items.filter((c) => c.t >= horizon);
      }
    }
  }
}

export { METRIC_COUNT };
