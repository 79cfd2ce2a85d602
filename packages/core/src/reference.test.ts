import { describe, expect, it } from 'vitest';
import { ReferenceEngine } from './reference';
import { M, METRIC_COUNT, Outcome, SCOPE, type EngineEvent } from './types';

const T0 = Date.UTC(2026, 0, 1);
let n = 0;
function auth(ts: number, code: string, extra: Partial<EngineEvent> = {}): EngineEvent {
  n++;
  return {
    type: 'auth',
    eventId: `e${n}`,
    ts,
    terminalId: 'T1',
    merchantId: 'M1',
    region: 'R1',
    txnId: `x${n}`,
    amount: 1000,
    responseCode: code,
    ...extra,
  };
}

describe('ReferenceEngine semantics', () => {
  it('counts auths per category in each scope and window at the closed boundary', () => {
    const e = new ReferenceEngine({ allowedLatenessMs: 0 });
    e.ingest(auth(T0 + 1000, '00', { firmware: 'fw1', issuerId: 'I1' }));
    e.ingest(auth(T0 + 2000, '91'));
    e.ingest(auth(T0 + 3000, '55'));
    e.ingest(auth(T0 + 61_000, '00')); // moves the watermark past the first minute
    const out = new Float64Array(METRIC_COUNT);
    expect(e.read(SCOPE.terminal, 'T1', 0, out)).toBe(true);
    expect(out[M.auths]).toBe(3);
    expect(out[M.approved]).toBe(1);
    expect(out[M.issuer]).toBe(1);
    expect(out[M.cardholder]).toBe(1);
    expect(out[M.inputErrors]).toBe(1);
    // firmware remembered from the first auth
    expect(e.read(SCOPE.firmware, 'fw1', 0, out)).toBe(true);
    expect(out[M.auths]).toBe(3);
    expect(e.read(SCOPE.issuer, 'I1', 0, out)).toBe(true);
    expect(out[M.auths]).toBe(1);
    expect(e.read(SCOPE.merchant, 'nope', 0, out)).toBe(false);
  });

  it('ignores duplicates and counts late events', () => {
    const e = new ReferenceEngine({ allowedLatenessMs: 5_000 });
    const a = auth(T0 + 20_000, '00');
    expect(e.ingest(a)).toBe(Outcome.Accepted);
    expect(e.ingest({ ...a })).toBe(Outcome.Duplicate);
    expect(e.ingest(auth(T0 + 16_000, '00'))).toBe(Outcome.Accepted); // inside lateness
    expect(e.ingest(auth(T0 + 14_000, '00'))).toBe(Outcome.Late);
    expect(e.counters()).toMatchObject({ accepted: 2, duplicates: 1, lateDropped: 1 });
  });

  it('fires failed-but-charged and settlement timers unless reversed/settled in time', () => {
    const e = new ReferenceEngine({ allowedLatenessMs: 0, settlementDeadlineMs: 3_600_000 });
    const to1 = auth(T0, 'TO', { txnId: 'to1' });
    const to2 = auth(T0, 'TO', { txnId: 'to2' });
    const ok1 = auth(T0, '00', { txnId: 'ok1' });
    const ok2 = auth(T0, '00', { txnId: 'ok2' });
    const ok3 = auth(T0, '00', { txnId: 'ok3' });
    for (const ev of [to1, to2, ok1, ok2, ok3]) e.ingest(ev);
    const base = { terminalId: 'T1', merchantId: 'M1', region: 'R1' };
    e.ingest({
      type: 'reversal',
      eventId: 'r1',
      ts: T0 + 30_000,
      ...base,
      txnId: 'to1',
      reason: 'timeout',
      status: 'succeeded',
    });
    e.ingest({
      type: 'settlement',
      eventId: 's1',
      ts: T0 + 40_000,
      ...base,
      txnId: 'ok1',
      amount: 1000,
      status: 'settled',
    });
    e.ingest({
      type: 'settlement',
      eventId: 's2',
      ts: T0 + 40_000,
      ...base,
      txnId: 'ok2',
      amount: 1000,
      status: 'rejected',
    });
    e.ingest({
      type: 'reversal',
      eventId: 'r3',
      ts: T0 + 50_000,
      ...base,
      txnId: 'ok3',
      reason: 'customer_cancel',
      status: 'succeeded',
    });
    const out = new Float64Array(METRIC_COUNT);
    e.advance(T0 + 125_000); // 5m window now ends at T0+120s
    e.read(SCOPE.terminal, 'T1', 1, out);
    expect(out[M.settlementDue]).toBe(0);
    expect(out[M.unreversedTimeouts]).toBe(1); // to2
    expect(out[M.reversals]).toBe(2);
    expect(out[M.revTimeout]).toBe(1);
    expect(out[M.revCustomerCancel]).toBe(1);
    e.advance(T0 + 3_600_000 + 10_001); // past the 1h deadline; 5m window ends at T0+1h+10s
    const late = new Float64Array(METRIC_COUNT);
    e.read(SCOPE.terminal, 'T1', 1, late);
    expect(late[M.settlementDue]).toBe(2); // ok1, ok2 (ok3 reversed)
    expect(late[M.unsettled]).toBe(1); // ok2 rejected
    e.read(SCOPE.merchant, 'M1', 1, late);
    expect(late[M.unsettled]).toBe(1);
  });
});
