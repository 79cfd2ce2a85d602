import { DEFAULT_CODE_TABLE } from '@tillwatch/contracts';
import { cardFingerprint, cardIssuer, type CardPool } from './cards';
import type { Fleet } from './fleet';
import type { TimerHeap } from './heap';
import type { IncidentTimeline } from './incident-timeline';
import {
  CARDHOLDER,
  CARDHOLDER_MANUAL,
  ENTRY,
  ISSUER,
  OTHER,
  P_CARDHOLDER,
  P_ISSUER,
  P_OTHER,
  P_SECURITY,
  SECURITY,
  TERMINAL,
  APPROVED,
  isApproved,
} from './outcomes';
import { REC_REVERSAL, REC_SETTLEMENT, type RecordStore } from './records';
import type { Rng } from './rng';
import { faultLatency } from './scenarios';
import type { SimulationCounts } from './simulation-options';
import type { TerminalTable } from './terminal-table';
import {
  Rev,
  Settle,
  type AuthDraft,
  type HeartbeatDraft,
  type Incident,
  type IncidentSource,
  type SimEvent,
} from './types';

const REVERSAL_REASONS = [
  'timeout',
  'customer_cancel',
  'terminal_error',
  'host_error',
  'other',
] as const;

/** "+08:00" for 8 h; ISO-8601 offsets are whole minutes. */
function isoOffset(ms: number): string {
  const min = Math.round(ms / 60_000);
  const a = Math.abs(min);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  return `${min < 0 ? '-' : '+'}${hh}:${mm}`;
}

export interface EventFactoryOptions {
  seed: number;
  fleet: Fleet;
  /** the run's generator, shared with scheduling: the draw order is the stream */
  rng: Rng;
  tab: TerminalTable;
  cards: CardPool;
  incidents: IncidentTimeline;
  heap: TimerHeap;
  records: RecordStore;
  /** heap ref of record 0 */
  recordBase: number;
  counts: SimulationCounts;
  settleBatchMs: number;
  disorderFraction: number;
  disorderMaxMs: number;
  isoFraction: number;
}

/**
 * Builds the events: an auth from the baseline outcome mix and the incidents acting on it (and
 * schedules its reversal or settlement as a record), a heartbeat, the follow-up of a record.
 */
export class EventFactory {
  private readonly seed: number;
  private readonly fleet: Fleet;
  private readonly rng: Rng;
  private readonly tab: TerminalTable;
  private readonly cards: CardPool;
  private readonly incidents: IncidentTimeline;
  private readonly touched: Uint16Array;
  private readonly global: Incident[];
  private readonly heap: TimerHeap;
  private readonly records: RecordStore;
  private readonly recordBase: number;
  private readonly counts: SimulationCounts;
  private readonly tz: number;
  private readonly settleBatchMs: number;
  private readonly disorderFraction: number;
  private readonly disorderMaxMs: number;
  private readonly isoFraction: number;
  private readonly isoOffset: string;
  private readonly idPrefix: string;
  private readonly txnPrefix: string;
  private eventSeq = 0;
  private txnSeq = 0;

  private readonly d: AuthDraft = {
    terminal: 0,
    ts: 0,
    code: '00',
    latency: 0,
    entryMode: 'chip',
    amount: 0,
    currency: 'CNY',
    card: 0,
    issuer: 0,
    firmware: 0,
    rev: Rev.None,
    settle: Settle.None,
  };
  private readonly hb: HeartbeatDraft = { terminal: 0, ts: 0, firmware: 0, signal: 0 };

  constructor(o: EventFactoryOptions) {
    this.seed = o.seed;
    this.fleet = o.fleet;
    this.rng = o.rng;
    this.tab = o.tab;
    this.cards = o.cards;
    this.incidents = o.incidents;
    this.touched = o.incidents.touched;
    this.global = o.incidents.global;
    this.heap = o.heap;
    this.records = o.records;
    this.recordBase = o.recordBase;
    this.counts = o.counts;
    this.tz = o.fleet.utcOffsetMs;
    this.settleBatchMs = o.settleBatchMs;
    this.disorderFraction = o.disorderFraction;
    this.disorderMaxMs = o.disorderMaxMs;
    this.isoFraction = o.isoFraction;
    this.isoOffset = isoOffset(this.tz);
    const tag = this.seed.toString(36);
    this.idPrefix = `e${tag}-`;
    this.txnPrefix = `x${tag}-`;
  }

  private timeField(ts: number): number | string {
    if (this.isoFraction > 0 && this.rng.next() < this.isoFraction) {
      return new Date(ts + this.tz).toISOString().replace('Z', this.isoOffset);
    }
    return ts;
  }

  private delivered(ts: number): number {
    // A few events reach the collector late: their ts is earlier than the events around them.
    if (this.disorderFraction > 0 && this.rng.next() < this.disorderFraction) {
      return ts - 1 - this.rng.int(this.disorderMaxMs);
    }
    return ts;
  }

  /** An auth at terminal t; `source` fills it instead when an incident source drives it. */
  auth(t: number, ts: number, source: IncidentSource | null): SimEvent {
    const rng = this.rng;
    const d = this.d;
    const m = this.fleet.merchants[this.tab.tMerchant[t]!]!;
    d.terminal = t;
    d.ts = ts;
    d.firmware = this.incidents.firmwareOf(t, ts);
    d.rev = Rev.None;
    d.settle = Settle.None;
    d.currency = 'CNY';
    d.latency = Math.round(rng.lognormal(380 * this.tab.netLatency[t]!, 0.45));
    if (source) {
      d.code = '00';
      source.nextAt = source.step(d, rng);
      d.issuer = cardIssuer(this.fleet, d.card);
    } else {
      d.card = this.cards.pick(t, this.tab.tMerchant[t]!, rng);
      d.issuer = cardIssuer(this.fleet, d.card);
      const manual = rng.next() < m.manual;
      d.entryMode = manual ? 'manual' : ENTRY.pick(rng);
      let amount = rng.lognormal(m.medianAmount, 0.8);
      const r = rng.next();
      amount =
        r < 0.6
          ? Math.round(amount / 100) * 100
          : r < 0.8
            ? Math.round(amount / 10) * 10
            : Math.round(amount);
      const foreign = this.tab.merchantForeign[m.index];
      if (foreign !== null && foreign !== undefined && rng.next() < 0.04) {
        d.currency = foreign;
        amount = Math.round(amount / (foreign === 'USD' ? 7.2 : 0.92));
      }
      d.amount = Math.max(1, amount);

      // Outcome: one uniform walks the cumulative fault/decline probabilities.
      const iF = this.tab.issuerFactor[d.issuer]!;
      let u = rng.next();
      const pTo = this.tab.pTimeout[t]!;
      const pIss = P_ISSUER * iF;
      const pTerm = this.tab.pTerminal[t]!;
      const pCard = P_CARDHOLDER * iF * (manual ? 2.5 : 1);
      if (u < pTo) d.code = 'TO';
      else if ((u -= pTo) < pIss) d.code = ISSUER.pick(rng);
      else if ((u -= pIss) < pTerm) d.code = TERMINAL.pick(rng);
      else if ((u -= pTerm) < P_SECURITY) d.code = SECURITY.pick(rng);
      else if ((u -= P_SECURITY) < P_OTHER) d.code = OTHER.pick(rng);
      else if ((u -= P_OTHER) < pCard) d.code = (manual ? CARDHOLDER_MANUAL : CARDHOLDER).pick(rng);
      else d.code = APPROVED.pick(rng);
      if (d.code === 'TO' || DEFAULT_CODE_TABLE.get(d.code) === 'issuer') {
        d.latency = faultLatency(d.code, rng);
      }
      if (this.touched[t]! > 0 || this.global.length > 0) this.incidents.hook(d, 'code', rng);
    }

    // Default follow-ups from the outcome.
    if (isApproved(d.code)) {
      const v = rng.next();
      if (v < 0.003) d.rev = Rev.CustomerCancel;
      else if (v < 0.0035) d.rev = Rev.TerminalError;
      else if (v < 0.0037) d.rev = Rev.HostError;
      else d.settle = rng.next() < 0.0003 ? Settle.Rejected : Settle.Settled;
    } else if (d.code === 'TO') {
      const v = rng.next();
      d.rev =
        v < 0.94
          ? Rev.TimeoutOk
          : v < 0.96
            ? Rev.TimeoutLate
            : v < 0.98
              ? Rev.TimeoutFailedThenOk
              : v < 0.985
                ? Rev.TimeoutFailed
                : Rev.None;
    }
    if (this.touched[t]! > 0 || this.global.length > 0) this.incidents.hook(d, 'plan', rng);

    const txnSeq = this.txnSeq++;
    const txnId = this.txnPrefix + txnSeq.toString(36);
    const tid = this.tab.tId[t]!;
    const mid = this.tab.mId[t]!;
    const region = this.tab.rId[t]!;
    const ev: SimEvent = {
      type: 'auth',
      eventId: this.idPrefix + (this.eventSeq++).toString(36),
      ts: this.timeField(this.delivered(ts)),
      terminalId: tid,
      merchantId: mid,
      region,
      txnId,
      amount: d.amount,
      currency: d.currency,
      responseCode: d.code,
      latencyMs: d.latency,
      entryMode: d.entryMode,
      cardFingerprint: cardFingerprint(this.seed, d.card),
      issuerId: this.fleet.issuers[d.issuer]!,
      firmware: this.tab.firmwareNames[d.firmware]!,
    };
    this.counts.auth++;
    if (d.rev !== Rev.None) this.planReversal(d, ts, txnSeq);
    if (d.settle !== Settle.None) {
      const B = this.settleBatchMs;
      const cut = Math.ceil((ts + 1) / B) * B;
      const at = Math.floor(cut + B * (0.1 + 0.8 * rng.next()));
      const recs = this.records;
      const r = recs.alloc();
      recs.kind[r] = REC_SETTLEMENT;
      recs.terminal[r] = t;
      recs.txn[r] = txnSeq;
      recs.amount[r] = d.amount;
      recs.aux[r] = d.settle;
      recs.cut[r] = cut;
      this.heap.push(at, this.recordBase + r);
    }
    return ev;
  }

  private planReversal(d: AuthDraft, ts: number, txnSeq: number): void {
    const rng = this.rng;
    const rev = (at: number, reason: number, failed: boolean) => {
      const recs = this.records;
      const r = recs.alloc();
      recs.kind[r] = REC_REVERSAL;
      recs.terminal[r] = d.terminal;
      recs.txn[r] = txnSeq;
      recs.aux[r] = reason * 2 + (failed ? 1 : 0);
      this.heap.push(Math.floor(at), this.recordBase + r);
    };
    switch (d.rev) {
      case Rev.None:
        return;
      case Rev.TimeoutOk:
        return rev(ts + rng.range(2_000, 25_000), 0, false);
      case Rev.TimeoutLate:
        return rev(ts + rng.range(70_000, 300_000), 0, false);
      case Rev.TimeoutFailedThenOk:
        rev(ts + rng.range(3_000, 20_000), 0, true);
        return rev(ts + rng.range(90_000, 400_000), 0, false);
      case Rev.TimeoutFailed:
        return rev(ts + rng.range(3_000, 20_000), 0, true);
      case Rev.CustomerCancel:
        return rev(ts + rng.range(5_000, 120_000), 1, false);
      case Rev.TerminalError:
        return rev(ts + rng.range(1_000, 10_000), 2, false);
      case Rev.HostError:
        return rev(ts + rng.range(1_000, 30_000), 3, false);
      case Rev.Other:
        return rev(ts + rng.range(10_000, 300_000), 4, false);
    }
  }

  /** Build the reversal or settlement event of record r, due now. */
  followUp(r: number, ts: number): SimEvent {
    const recs = this.records;
    const t = recs.terminal[r]!;
    const txnId = this.txnPrefix + recs.txn[r]!.toString(36);
    const eventId = this.idPrefix + (this.eventSeq++).toString(36);
    let ev: SimEvent;
    if (recs.kind[r] === REC_SETTLEMENT) {
      const mid = this.tab.mId[t]!;
      ev = {
        type: 'settlement',
        eventId,
        ts,
        terminalId: this.tab.tId[t]!,
        merchantId: mid,
        region: this.tab.rId[t]!,
        txnId,
        amount: recs.amount[r]!,
        status: recs.aux[r] === Settle.Settled ? 'settled' : 'rejected',
        batchId: `B-${mid}-${Math.round(recs.cut[r]! / 60_000)}`,
      };
      this.counts.settlement++;
    } else {
      const aux = recs.aux[r]!;
      ev = {
        type: 'reversal',
        eventId,
        ts,
        terminalId: this.tab.tId[t]!,
        merchantId: this.tab.mId[t]!,
        region: this.tab.rId[t]!,
        txnId,
        reason: REVERSAL_REASONS[aux >> 1]!,
        status: aux & 1 ? 'failed' : 'succeeded',
      };
      this.counts.reversal++;
    }
    recs.release(r);
    return ev;
  }

  heartbeat(t: number, ts: number): SimEvent {
    const term = this.fleet.terminals[t]!;
    const h = this.hb;
    h.terminal = t;
    h.ts = ts;
    h.firmware = this.incidents.firmwareOf(t, ts);
    const base = this.tab.signalBase[t]!;
    h.signal = base > 0 ? Math.round(base + this.rng.range(-5, 5)) : -1;
    if (this.touched[t]! > 0) {
      for (const inc of this.incidents.active)
        if (inc.heartbeat && inc.mask?.[t]) inc.heartbeat(h, this.rng);
    }
    this.counts.heartbeat++;
    const ev: SimEvent = {
      type: 'heartbeat',
      eventId: this.idPrefix + (this.eventSeq++).toString(36),
      ts: this.timeField(this.delivered(ts)),
      terminalId: this.tab.tId[t]!,
      merchantId: this.tab.mId[t]!,
      region: this.tab.rId[t]!,
      firmware: this.tab.firmwareNames[h.firmware]!,
      network: term.network,
    };
    if (term.network !== 'ethernet') ev.signal = Math.min(100, Math.max(0, h.signal));
    return ev;
  }
}
