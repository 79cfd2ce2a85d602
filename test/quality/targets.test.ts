import type { IncidentLabel, SimEvent } from '@tillwatch/simulator';
import { describe, expect, it } from 'vitest';
import { scoreByRule, type Transition } from './score';
import { DueTimes, PANE_MS } from './targets';

/** The delay targets the quality suite fails on: due times from labels and events, and lateness. */

const T0 = Date.parse('2026-11-09T11:00:00+08:00');
const SEC = 1_000;

function label(scenario: IncidentLabel['scenario'], rule: string, scope: string, key: string) {
  return {
    id: `${scenario}#1`,
    scenario,
    rule,
    scope,
    key,
    start: T0,
    end: T0 + 3_600_000,
    startIso: '',
    endIso: '',
    detectFrom: scenario === 'failed-but-charged' ? T0 + 60 * SEC : T0,
    detectUntil: T0 + 3_600_000,
    alsoMatches: [],
    description: '',
    params: {},
  } as unknown as IncidentLabel;
}

const auth = (terminalId: string, ts: number, responseCode: string) =>
  ({ type: 'auth', terminalId, ts, responseCode }) as unknown as SimEvent;

/** A failed-but-charged label at T1 and a push for loosely typed events. */
function chargeWatch() {
  const l = label('failed-but-charged', 'failed_but_charged', 'terminal', 'T1');
  const due = new DueTimes([l]);
  const ev = (x: object) => due.push(x as unknown as SimEvent);
  return { l, due, ev };
}

describe('delay targets (targets.ts)', () => {
  it('a terminal fault is due at its fifth failed auth of the kind, whatever else it sees', () => {
    const l = label('terminal-fault', 'terminal_fault_spike', 'terminal', 'T1');
    const due = new DueTimes([l]);
    due.push(auth('T1', T0 - 10 * SEC, '96')); // before the incident: not counted
    for (let i = 1; i <= 6; i++) {
      due.push(auth('T1', T0 + i * 30 * SEC, '00')); // approved: not counted
      due.push(auth('T2', T0 + i * 30 * SEC, '94')); // another terminal: not counted
      due.push(auth('T1', T0 + i * 45 * SEC, '05')); // an issuer decline: not the kind
      due.push(auth('T1', T0 + i * 60 * SEC, '94')); // a terminal-side fault: counted
    }
    expect(due.result()[l.id]).toBe(T0 + 5 * 60 * SEC + PANE_MS);
  });

  it('failed-but-charged is due 2 min after a settlement of a timed-out sale left unreversed', () => {
    const { l, due, ev } = chargeWatch();
    ev({ type: 'auth', terminalId: 'T1', ts: T0 + 20 * SEC, responseCode: '05', txnId: 'a' });
    ev({ type: 'auth', terminalId: 'T1', ts: T0 + 30 * SEC, responseCode: 'TO', txnId: 'b' });
    ev({ type: 'reversal', terminalId: 'T1', ts: T0 + 35 * SEC, status: 'succeeded', txnId: 'b' });
    ev({ type: 'auth', terminalId: 'T1', ts: T0 + 40 * SEC, responseCode: 'TO', txnId: 'c' });
    ev({ type: 'heartbeat', terminalId: 'T2', ts: T0 + 200 * SEC });
    // c's grace ran out: a suspicion, no event shows the charge yet
    expect(due.result()[l.id]).toBeUndefined();
    // a reversed sale's settlement, a declined sale's, another terminal's: none shows a charge
    for (const txnId of ['b', 'a', 'x']) {
      ev({ type: 'settlement', terminalId: 'T1', ts: T0 + 300 * SEC, status: 'settled', txnId });
    }
    ev({
      type: 'settlement',
      terminalId: 'T1',
      ts: T0 + 310 * SEC,
      status: 'rejected',
      txnId: 'c',
    });
    expect(due.result()[l.id]).toBeUndefined();
    // after the incident's end too
    ev({
      type: 'settlement',
      terminalId: 'T1',
      ts: T0 + 4000 * SEC,
      status: 'settled',
      txnId: 'c',
    });
    expect(due.result()[l.id]).toBe(T0 + 4000 * SEC + 120 * SEC + PANE_MS);
  });

  it('a failed reversal shows the charge at once', () => {
    const { l, due, ev } = chargeWatch();
    ev({ type: 'auth', terminalId: 'T1', ts: T0 + 30 * SEC, responseCode: 'TO', txnId: 'b' });
    ev({ type: 'reversal', terminalId: 'T1', ts: T0 + 45 * SEC, status: 'failed', txnId: 'b' });
    expect(due.result()[l.id]).toBe(T0 + 45 * SEC + 120 * SEC + PANE_MS);
    // a second within the 2 min changes nothing; the same sale's settlement is not a second
    ev({ type: 'settlement', terminalId: 'T1', ts: T0 + 90 * SEC, status: 'settled', txnId: 'b' });
    ev({ type: 'auth', terminalId: 'T1', ts: T0 + 60 * SEC, responseCode: 'TO', txnId: 'c' });
    ev({ type: 'reversal', terminalId: 'T1', ts: T0 + 70 * SEC, status: 'failed', txnId: 'c' });
    expect(due.result()[l.id]).toBe(T0 + 45 * SEC + 120 * SEC + PANE_MS);
  });

  it('one shown charge is no incident yet: due not before the second (plus the pane)', () => {
    const { l, due, ev } = chargeWatch();
    ev({ type: 'auth', terminalId: 'T1', ts: T0 + 30 * SEC, responseCode: 'TO', txnId: 'b' });
    ev({ type: 'reversal', terminalId: 'T1', ts: T0 + 45 * SEC, status: 'failed', txnId: 'b' });
    // another failed reversal of the same sale (a retry) shows nothing new
    ev({ type: 'reversal', terminalId: 'T1', ts: T0 + 100 * SEC, status: 'failed', txnId: 'b' });
    ev({ type: 'auth', terminalId: 'T1', ts: T0 + 300 * SEC, responseCode: 'TO', txnId: 'c' });
    ev({ type: 'reversal', terminalId: 'T1', ts: T0 + 310 * SEC, status: 'failed', txnId: 'c' });
    expect(due.result()[l.id]).toBe(T0 + 310 * SEC + PANE_MS);
  });

  it('regional errors are due at 60 s, or at the sixth outage error of a quiet region', () => {
    const busy = label('regional-outage-errors', 'regional_outage', 'region', 'CN-11');
    const quiet = { ...busy, id: 'quiet#1', key: 'CN-12' } as IncidentLabel;
    (busy as { terminals?: string[] }).terminals = ['T1', 'T2'];
    (quiet as { terminals?: string[] }).terminals = ['T3'];
    const due = new DueTimes([busy, quiet]);
    for (let i = 1; i <= 6; i++) {
      due.push(auth(i % 2 ? 'T1' : 'T2', T0 + i * 5 * SEC, 'TO'));
      due.push(auth('T3', T0 + i * 20 * SEC, '91'));
    }
    expect(due.result()[busy.id]).toBe(T0 + 60 * SEC);
    expect(due.result()[quiet.id]).toBe(T0 + 120 * SEC + 10 * SEC); // + the 5 min window's pane
  });

  it("a slow card-testing burst is due at its fifth small declined probe, plus the 5 min window's pane", () => {
    const l = label('card-testing', 'card_testing', 'merchant', 'M1');
    const due = new DueTimes([l]);
    const probe = (i: number, amount: number, code = '14') =>
      due.push({
        type: 'auth',
        terminalId: 'T1',
        merchantId: 'M1',
        ts: T0 + i * 20 * SEC,
        responseCode: code,
        amount,
      } as unknown as SimEvent);
    probe(1, 300, '00'); // approved: not a declined probe
    probe(2, 90_000); // a large decline: not a probe
    for (let i = 3; i <= 7; i++) probe(i, 100);
    expect(due.result()[l.id]).toBe(T0 + 7 * 20 * SEC + 10 * SEC);
  });

  it('a detection after its due time is late, one before it is not', () => {
    const l = label('regional-outage-errors', 'regional_outage', 'region', 'CN-11');
    const due = new DueTimes([l]).result();
    expect(due[l.id]).toBe(T0 + 60 * SEC);
    const fire = (at: number): Transition[] => [
      {
        alertId: 'a',
        rule: 'regional_outage',
        scope: 'region',
        key: 'CN-11',
        status: 'firing',
        ts: new Date(at).toISOString(),
        severity: 'critical',
      },
    ];
    const onTime = scoreByRule(fire(T0 + 50 * SEC), [l], new Map(), { due }).total;
    const late = scoreByRule(fire(T0 + 70 * SEC), [l], new Map(), { due }).total;
    expect([onTime.detected, onTime.late, onTime.allowed[l.id]]).toEqual([1, 0, 60 * SEC]);
    expect([late.detected, late.late]).toEqual([1, 1]);
  });
});
