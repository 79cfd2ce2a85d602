import { describe, expect, it } from 'vitest';
import { Engine, EngineError, createEngine } from './engine';
import { ReferenceEngine } from './reference';
import { decodeSnapshot, encodeSnapshot, type SnapshotParts } from './snapshot-codec';
import type { UnsettledLog } from './unsettled-log';
import { M, METRIC_COUNT, Outcome, SCOPE, type EngineEvent } from './types';

const T0 = Date.UTC(2026, 0, 1);
const where = { terminalId: 'T1', merchantId: 'M1', region: 'R1' };
let n = 0;
function auth(ts: number, code: string, extra: Partial<EngineEvent> = {}): EngineEvent {
  n++;
  return {
    type: 'auth',
    eventId: `e${n}`,
    ts,
    ...where,
    txnId: `x${n}`,
    amount: 1000,
    responseCode: code,
    ...extra,
  };
}

describe('Engine', () => {
  it('counts auths per category and scope at the closed pane boundary', () => {
    const e = createEngine({ allowedLatenessMs: 0 });
    e.ingest(auth(T0 + 1000, '00', { firmware: 'fw1', issuerId: 'I1' }));
    e.ingest(auth(T0 + 2000, '91'));
    e.ingest(auth(T0 + 3000, '55'));
    const out = new Float64Array(METRIC_COUNT);
    e.read(SCOPE.terminal, 'T1', 0, out);
    expect(out[M.auths]).toBe(0); // the 1m window ends at the last closed 5 s pane: T0
    e.ingest(auth(T0 + 61_000, '00'));
    expect(e.read(SCOPE.terminal, 'T1', 0, out)).toBe(true);
    expect([out[M.auths], out[M.approved], out[M.issuer], out[M.cardholder]]).toEqual([3, 1, 1, 1]);
    expect(out[M.inputErrors]).toBe(1);
    expect(e.read(SCOPE.firmware, 'fw1', 0, out)).toBe(true);
    expect(out[M.auths]).toBe(3); // firmware remembered from the first auth
    expect(e.read(SCOPE.fleet, '*', 0, out)).toBe(true);
    expect(out[M.auths]).toBe(3);
    expect(e.read(SCOPE.merchant, 'nope', 0, out)).toBe(false);
    expect(e.terminalInfo('T1')).toEqual({ merchantId: 'M1', region: 'R1', firmware: 'fw1' });
    expect(e.lastSeen(SCOPE.terminal, 'T1')).toBe(T0 + 61_000);
  });

  it("says where each window's reads end; what is before it stays as read while it stays", () => {
    const e = new Engine({ settlementDeadlineMs: 60_000 });
    expect(e.windowEnd(0)).toBeNaN(); // before the first event
    e.ingest(auth(T0 + 1_000, '00'));
    e.ingest(auth(T0 + 2_000, 'TO'));
    e.advance(T0 + 121_000);
    // 1m/5m/15m/1h windows end on their panes (5 s, 10 s, 30 s, 2 min) at or before the watermark
    expect([0, 1, 2, 3].map((w) => e.windowEnd(w) - T0)).toEqual([
      120_000, 120_000, 120_000, 120_000,
    ]);
    const before = new Float64Array(METRIC_COUNT);
    e.read(SCOPE.terminal, 'T1', 3, before);
    // events at the watermark and on, and the timers they start, land after the 1 h window's end
    e.ingest(auth(T0 + 121_000, '00'));
    e.ingest(auth(T0 + 150_000, 'TO'));
    e.advance(T0 + 230_000); // the first approval's settlement deadline passes
    expect(e.windowEnd(3) - T0).toBe(120_000);
    expect(e.windowEnd(0) - T0).toBe(230_000);
    const after = new Float64Array(METRIC_COUNT);
    e.read(SCOPE.terminal, 'T1', 3, after);
    expect([...after]).toEqual([...before]);
    expect(after[M.auths]).toBe(2);
    e.advance(T0 + 240_000);
    e.read(SCOPE.terminal, 'T1', 3, after);
    expect(after[M.auths]).toBe(4); // the end moved: the newer events are in
    // an eviction of idle keys sooner than a window and its pane: no such promise
    const soon = new Engine({ idleEvictMs: 3_600_000 });
    soon.ingest(auth(T0 + 1_000, '00'));
    soon.advance(T0 + 121_000);
    expect(soon.windowEnd(3)).toBeNaN();
  });

  it('remembers exactly dedupCapacity ids, and counts late events', () => {
    const e = new Engine({ dedupCapacity: 2, allowedLatenessMs: 5_000 });
    const a = auth(T0 + 20_000, '00');
    expect(e.ingest(a)).toBe(Outcome.Accepted);
    expect(e.ingest({ ...a })).toBe(Outcome.Duplicate);
    expect(e.ingest(auth(T0 + 16_000, '00'))).toBe(Outcome.Accepted); // inside lateness
    expect(e.ingest(auth(T0 + 14_000, '00'))).toBe(Outcome.Late);
    // a's id fell out of the 2-id window: it is new again, and late now
    expect(e.ingest({ ...a, ts: T0 + 30_000 })).toBe(Outcome.Accepted);
    expect(e.counters()).toMatchObject({ accepted: 3, duplicates: 1, lateDropped: 1 });
  });

  it('counts failed-but-charged and unsettled timers, not reversed or settled ones', () => {
    const e = new Engine({ allowedLatenessMs: 0, settlementDeadlineMs: 3_600_000 });
    for (const [txnId, code] of [
      ['to1', 'TO'],
      ['to2', 'TO'],
      ['ok1', '00'],
      ['ok2', '00'],
      ['ok3', '00'],
    ]) {
      e.ingest(auth(T0, code!, { txnId }));
    }
    const ev = (type: EngineEvent['type'], ts: number, x: Partial<EngineEvent>): EngineEvent => ({
      type,
      eventId: `k${++n}`,
      ts,
      ...where,
      ...x,
    });
    e.ingest(ev('reversal', T0 + 30_000, { txnId: 'to1', reason: 'timeout', status: 'succeeded' }));
    e.ingest(ev('settlement', T0 + 40_000, { txnId: 'ok1', amount: 1000, status: 'settled' }));
    e.ingest(ev('settlement', T0 + 40_000, { txnId: 'ok2', amount: 1000, status: 'rejected' }));
    e.ingest(
      ev('reversal', T0 + 50_000, { txnId: 'ok3', reason: 'customer_cancel', status: 'succeeded' }),
    );
    expect(e.counters()).toMatchObject({ pendingSettlements: 3, pendingTimeouts: 2 });
    const out = new Float64Array(METRIC_COUNT);
    e.advance(T0 + 125_000);
    e.read(SCOPE.terminal, 'T1', 1, out);
    expect([out[M.unreversedTimeouts], out[M.reversals], out[M.revTimeout]]).toEqual([1, 2, 1]);
    expect(e.counters()).toMatchObject({ pendingSettlements: 3, pendingTimeouts: 0 });
    e.advance(T0 + 3_600_000 + 10_001);
    e.read(SCOPE.merchant, 'M1', 1, out);
    expect([out[M.settlementDue], out[M.unsettled]]).toEqual([2, 1]); // ok3 reversed, ok2 rejected
    expect(e.counters().pendingSettlements).toBe(0);
  });

  it('evicts idle entities, reuses their slots, and stays equal to the reference', () => {
    const cfg = { idleEvictMs: 3_600_000, allowedLatenessMs: 0, settlementDeadlineMs: 60_000 };
    const fast = new Engine(cfg);
    const ref = new ReferenceEngine(cfg);
    for (let k = 0; k < 50; k++) {
      const ev = auth(T0 + k * 1000, '00', { terminalId: `T${k}`, txnId: `t${k}` });
      fast.ingest(ev);
      ref.ingest(ev);
    }
    const slots = fast.layoutStats().slots;
    for (let k = 0; k < 50; k++) {
      // three hours later: every old terminal is idle, each new one takes a freed slot
      const ev = auth(T0 + 3 * 3_600_000 + k * 1000, '00', { terminalId: `U${k}`, txnId: `u${k}` });
      fast.ingest(ev);
      ref.ingest(ev);
    }
    // the first new terminal is placed before that event's advance sweeps the idle ones
    expect(fast.layoutStats().slots).toBeLessThanOrEqual(slots + 1);
    expect(fast.keys(SCOPE.terminal)).toEqual(ref.keys(SCOPE.terminal));
    expect(fast.counters()).toEqual(ref.counters());
    expect(fast.counters().evicted).toBe(50); // one per terminal, not per late timer
  });

  it('counts distinct declined cards per window', () => {
    const e = new Engine({ allowedLatenessMs: 0 });
    for (let k = 0; k < 40; k++)
      e.ingest(auth(T0 + k * 100, '51', { cardFingerprint: `c${k % 25}` }));
    e.ingest(auth(T0 + 60_000, '00', { cardFingerprint: 'approved-not-counted' }));
    expect(e.distinctDeclinedCards(SCOPE.terminal, 'T1', 0)).toBe(25);
    expect(e.distinctDeclinedCards(SCOPE.merchant, 'M1', 0)).toBe(25);
  });

  it('promotes a busy entity to dense panes without changing its reads', () => {
    const fast = new Engine({ allowedLatenessMs: 1000 }, { promoteAt: 8 });
    const ref = new ReferenceEngine({ allowedLatenessMs: 1000 });
    for (let k = 0; k < 500; k++) {
      const ev = auth(T0 + k * 700, k % 7 === 0 ? '91' : '00');
      fast.ingest(ev);
      ref.ingest(ev);
    }
    expect(fast.layoutStats().dense).toBeGreaterThanOrEqual(4); // T1, M1, R1, fleet
    const a = new Float64Array(METRIC_COUNT);
    const b = new Float64Array(METRIC_COUNT);
    for (let w = 0; w < 4; w++) {
      ref.read(SCOPE.terminal, 'T1', w, a);
      fast.read(SCOPE.terminal, 'T1', w, b);
      expect(Array.from(b)).toEqual(Array.from(a));
    }
  });

  it('lists the keys with a missed settlement, also from a snapshot taken before the list', () => {
    const e = new Engine({ allowedLatenessMs: 0, settlementDeadlineMs: 3_600_000 });
    e.ingest(auth(T0, '00', { txnId: 'a' }));
    e.ingest(auth(T0, '00', { txnId: 'b', terminalId: 'T2', merchantId: 'M2' }));
    e.ingest({
      type: 'settlement',
      eventId: 's',
      ts: T0 + 1_000,
      ...where,
      txnId: 'a',
      amount: 1000,
      status: 'settled',
    });
    e.ingest(auth(T0 + 5_000, '00', { txnId: 'c', terminalId: 'T3', merchantId: 'M3' }));
    const since = T0 - 1;
    expect(e.unsettledSince(SCOPE.terminal, since)).toEqual([]);
    e.advance(T0 + 3_600_000 + 1_000); // b's deadline passed unmet, a's met, c's not yet due
    expect(e.unsettledSince(SCOPE.terminal, since)).toEqual(['T2']);
    expect(e.unsettledSince(SCOPE.merchant, since)).toEqual(['M2']);
    expect(e.unsettledSince(SCOPE.region, since)).toEqual(['R1']);
    expect(e.unsettledSince(SCOPE.fleet, since)).toEqual(['*']);
    expect(e.unsettledSince(SCOPE.terminal, T0 + 3_600_001)).toEqual([]);
    expect(Engine.restore(e.snapshot()).unsettledSince(SCOPE.terminal, since)).toEqual(['T2']);
    // a snapshot without the list (taken before it existed): every tracked key, until asks
    // start after the snapshot's watermark
    const { version, header, parts } = decodeSnapshot(e.snapshot());
    delete header.unsettled;
    const old = Engine.restore(encodeSnapshot(version, header, parts as SnapshotParts));
    expect(old.unsettledSince(SCOPE.terminal, since)).toEqual(['T1', 'T2', 'T3']);
    old.advance(T0 + 3_600_000 + 6_000);
    expect(old.unsettledSince(SCOPE.terminal, T0 + 3_600_000 + 1_000)).toEqual(['T3']);
  });

  it('keeps its missed settlements for the horizon only, also when nobody asks', () => {
    const e = new Engine({ settlementDeadlineMs: 60_000 });
    // one sale a second for two hours, none settled: 7,200 deadlines pass unmet
    for (let i = 0; i < 7_200; i++) e.ingest(auth(T0 + i * 1_000, '00'));
    const log = (e as unknown as { timers: { unsettled: UnsettledLog } }).timers.unsettled;
    const live = log.due.length - log.head;
    // the horizon: lateness 10 s + the 1 h window + its 2 min pane (and a tick or two)
    expect(live).toBeGreaterThan(3_600);
    expect(live).toBeLessThan(3_800);
    expect(e.unsettledSince(SCOPE.terminal, T0)).toEqual(['T1']);
  });

  it('rejects a snapshot of another version or layout', () => {
    const e = new Engine();
    e.ingest(auth(T0, '00'));
    const bytes = e.snapshot();
    expect(bytes[0]).toBe(2);
    const bad = bytes.slice();
    bad[0] = 99;
    expect(() => Engine.restore(bad)).toThrow(EngineError);
    expect(() => Engine.restore(bytes, { windowsMs: [60_000], panesMs: [5_000] })).toThrow(
      /windowsMs/,
    );
    expect(Engine.restore(bytes, { smallAmount: 1 }).counters().accepted).toBe(1);
  });
});
