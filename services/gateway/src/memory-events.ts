import { categorize, type TerminalEvent } from '@tillwatch/contracts';
import { CircularBuffer } from 'mnemonist';
import { codeSummary } from './ledger';
import type { DrillDown, RawEventsQuery } from './store';

export interface EventRingOptions {
  /** raw events kept in total */
  maxEvents: number;
  /** raw events kept per terminal, so a quiet terminal's history survives a busy fleet */
  eventsPerTerminal: number;
  /** raw events older than this (event time, against the newest seen) are dropped */
  eventRetentionMs: number;
}

interface TerminalSlot {
  merchantId: string;
  region: string;
  events: CircularBuffer<TerminalEvent>;
}

/**
 * MemoryStore's raw events for drill-down: one global ring plus a ring per terminal, indexed
 * by merchant and region, all bounded by count and by event-time retention.
 */
export class EventRing {
  private readonly terminals = new Map<string, TerminalSlot>();
  private readonly byMerchant = new Map<string, Set<string>>();
  private readonly byRegion = new Map<string, Set<string>>();
  private readonly events: CircularBuffer<TerminalEvent>;
  private maxEventTs = 0;

  constructor(private readonly o: EventRingOptions) {
    this.events = new CircularBuffer<TerminalEvent>(Array, o.maxEvents);
  }

  get size(): number {
    return this.events.size;
  }

  push(events: readonly TerminalEvent[]): void {
    for (const ev of events) {
      if (this.events.size === this.o.maxEvents) this.evictOldest();
      this.events.push(ev);
      if (ev.ts > this.maxEventTs) this.maxEventTs = ev.ts;
      let t = this.terminals.get(ev.terminalId);
      if (!t) {
        t = {
          merchantId: ev.merchantId,
          region: ev.region,
          events: new CircularBuffer<TerminalEvent>(Array, this.o.eventsPerTerminal),
        };
        this.terminals.set(ev.terminalId, t);
        index(this.byMerchant, ev.merchantId, ev.terminalId);
        index(this.byRegion, ev.region, ev.terminalId);
      }
      t.events.push(ev);
    }
    const horizon = this.maxEventTs - this.o.eventRetentionMs;
    for (
      let e = this.events.peekFirst();
      e !== undefined && e.ts < horizon;
      e = this.events.peekFirst()
    ) {
      this.evictOldest();
    }
  }

  query(q: RawEventsQuery): DrillDown {
    let source: Iterable<TerminalEvent>;
    if (q.terminalId !== undefined) {
      source = this.terminals.get(q.terminalId)?.events ?? [];
    } else if (q.merchantId !== undefined || q.region !== undefined) {
      const ids =
        q.merchantId !== undefined
          ? this.byMerchant.get(q.merchantId)
          : this.byRegion.get(q.region!);
      const terminals = this.terminals;
      source = (function* () {
        for (const id of ids ?? []) yield* terminals.get(id)?.events ?? [];
      })();
    } else {
      source = this.events;
    }
    const txns = q.txnIds ? new Set(q.txnIds) : undefined;
    const since = q.since ?? -Infinity;
    const until = q.until ?? Infinity;
    const matched: TerminalEvent[] = [];
    const codes = new Map<string, number>();
    for (const ev of source) {
      if (ev.ts < since || ev.ts > until) continue;
      if (q.terminalId !== undefined && ev.terminalId !== q.terminalId) continue;
      if (q.merchantId !== undefined && ev.merchantId !== q.merchantId) continue;
      if (q.region !== undefined && ev.region !== q.region) continue;
      const e = ev as TerminalEvent & { firmware?: string; issuerId?: string; txnId?: string };
      if (q.firmware !== undefined && e.firmware !== q.firmware) continue;
      if (q.issuerId !== undefined && e.issuerId !== q.issuerId) continue;
      if (txns && (e.txnId === undefined || !txns.has(e.txnId))) continue;
      if (!passesFilters(ev, q)) continue;
      matched.push(ev);
      if (ev.type === 'auth') codes.set(ev.responseCode, (codes.get(ev.responseCode) ?? 0) + 1);
    }
    matched.sort((a, b) => b.ts - a.ts);
    const first = matched.at(-1);
    const last = matched[0];
    return {
      events: matched.slice(0, q.limit),
      responseCodes: codeSummary(codes),
      matched: matched.length,
      ...(first ? { from: new Date(first.ts).toISOString() } : {}),
      ...(last ? { to: new Date(last.ts).toISOString() } : {}),
    };
  }

  private evictOldest(): void {
    const old = this.events.shift();
    if (!old) return;
    const t = this.terminals.get(old.terminalId);
    if (!t) return;
    // the global ring and each terminal's ring are both FIFO, so the global oldest is the
    // terminal's oldest unless the terminal ring already overwrote it
    if (t.events.peekFirst() === old) t.events.shift();
    if (t.events.size === 0) {
      this.terminals.delete(old.terminalId);
      unindex(this.byMerchant, t.merchantId, old.terminalId);
      unindex(this.byRegion, t.region, old.terminalId);
    }
  }
}

/** The transaction filters of RawEventsQuery (code, category, type, card, amount), as the
 *  ClickHouse reads apply them (packages/clickhouse queries-events.ts drillWhere). */
function passesFilters(ev: TerminalEvent, q: RawEventsQuery): boolean {
  const e = ev as TerminalEvent & {
    responseCode?: string;
    cardFingerprint?: string;
    amount?: number;
  };
  if (q.type !== undefined && ev.type !== q.type) return false;
  if (q.responseCode !== undefined && e.responseCode !== q.responseCode) return false;
  if (
    q.category !== undefined &&
    (e.responseCode === undefined || categorize(e.responseCode) !== q.category)
  ) {
    return false;
  }
  if (q.cardFingerprint !== undefined && e.cardFingerprint !== q.cardFingerprint) return false;
  if (q.minAmount !== undefined && !(e.amount !== undefined && e.amount >= q.minAmount))
    return false;
  if (q.maxAmount !== undefined && !(e.amount !== undefined && e.amount <= q.maxAmount))
    return false;
  return true;
}

function index(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}
function unindex(m: Map<string, Set<string>>, k: string, v: string): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}
