import { describe, expect, it } from 'vitest';
import { regionLevel } from './format';
import { guidance } from './i18n';
import {
  BoardState,
  SeqTracker,
  alertMatches,
  faultLowerBound,
  needsAction,
  rowMatches,
} from './state';
import type { AlertItem, RateRow } from './types';

const row = (key: string, faultRate: number, ts: string, auths = 50): RateRow => ({
  scope: 'terminal',
  key,
  window: '1m',
  ts,
  auths,
  approved: auths,
  failures: Math.round(faultRate * auths),
  faults: Math.round(faultRate * auths),
  byCategory: {} as RateRow['byCategory'],
  inputErrors: 0,
  reversals: 0,
  unreversedTimeouts: 0,
  settlementDue: 0,
  unsettled: 0,
  heartbeats: 0,
  failureRate: faultRate,
  faultRate,
  reversalRate: 0,
  noSettlementRate: 0,
});

describe('SeqTracker', () => {
  it('drops what the snapshot already had, applies the next, flags a gap', () => {
    const s = new SeqTracker();
    s.reset({ analysts: 10 });
    expect(s.check('analysts', 9)).toEqual({ accept: false, gap: false });
    expect(s.check('analysts', 10)).toEqual({ accept: false, gap: false });
    expect(s.check('analysts', 11)).toEqual({ accept: true, gap: false });
    expect(s.check('analysts', 14)).toEqual({ accept: true, gap: true });
    expect(s.check('region:CN-31', 5)).toEqual({ accept: true, gap: false });
  });
});

describe('BoardState', () => {
  it('puts what needs someone first; closed alerts neither lead nor count as firing', () => {
    const b = new BoardState();
    const item = (id: string, status: string, state: string, severity = 'critical') =>
      ({
        alert: { alertId: id, status, severity, lastSeen: '2026-01-01T00:00:00Z' },
        workflow: { state },
      }) as unknown as AlertItem;
    b.applyAlert(item('closed', 'firing', 'resolved'));
    b.applyAlert(item('gone', 'resolved', 'open'));
    b.applyAlert(item('acked', 'firing', 'acknowledged'));
    b.applyAlert(item('new-warning', 'firing', 'open', 'warning'));
    b.applyAlert(item('new', 'firing', 'open'));
    const order = b.sortedAlerts();
    expect(order.map((i) => i.alert.alertId)).toEqual([
      'new',
      'new-warning',
      'acked',
      'gone',
      'closed',
    ]);
    expect(order.filter(needsAction).map((i) => i.alert.alertId)).toEqual([
      'new',
      'new-warning',
      'acked',
    ]);
  });

  it('filters the feed on severity, rule, workflow and a search; the rows on the search', () => {
    const item = (key: string, severity: string, rule: string, status: string, state: string) =>
      ({
        alert: { alertId: key, key, severity, rule, status, region: 'CN-31', merchantId: 'M1' },
        workflow: { state },
      }) as unknown as AlertItem;
    const a = item('T-A2', 'critical', 'terminal_network_errors', 'firing', 'open');
    const b = item('CN-44', 'warning', 'regional_outage', 'firing', 'resolved');
    const pick = (f: Parameters<typeof alertMatches>[1]) =>
      [a, b].filter((i) => alertMatches(i, f)).map((i) => i.alert.key);
    expect(pick({})).toEqual(['T-A2', 'CN-44']);
    expect(pick({ sev: 'critical' })).toEqual(['T-A2']);
    expect(pick({ rule: 'regional_outage' })).toEqual(['CN-44']);
    expect(pick({ state: 'needs' })).toEqual(['T-A2']);
    expect(pick({ state: 'resolved' })).toEqual(['CN-44']);
    expect(pick({ q: 'cn-44' })).toEqual(['CN-44']);
    expect(pick({ q: 'm1' })).toEqual(['T-A2', 'CN-44']);
    expect(pick({ region: 'CN-31' })).toEqual(['T-A2', 'CN-44']);
    expect(pick({ region: 'CN-3' })).toEqual([]); // exact, not a search
    expect(pick({ merchant: 'M1', sev: 'warning' })).toEqual(['CN-44']);
    const now = '2026-01-01T00:01:00Z';
    expect(rowMatches({ ...row('T-A2', 0.1, now), region: 'CN-31' }, 'cn-3')).toBe(true);
    expect(rowMatches(row('T-A2', 0.1, now), 'T-B')).toBe(false);
  });

  it('ranks the worst by fault rate, ignores stale rows', () => {
    const b = new BoardState();
    const now = '2026-01-01T00:01:00Z';
    b.applyRows([
      row('T-1', 0.1, now),
      row('T-2', 0.5, now),
      row('T-3', 0.9, now, 2),
      row('T-4', 0.8, '2026-01-01T00:00:00Z'),
    ]);
    // T-3's 2 of 2 failing is at least 14 %, above T-1's 5 of 50 (at least 2.5 %)
    expect(b.worst('terminal', '1m', 10).map((r) => r.key)).toEqual(['T-2', 'T-3', 'T-1']);
  });

  it('ranks by the bound the rules use: sample size counts, a few auths do not top the list', () => {
    const b = new BoardState();
    const now = '2026-01-01T00:01:00Z';
    const r = (key: string, faults: number, auths: number) => row(key, faults / auths, now, auths);
    b.applyRows([
      r('FEW-2of5', 2, 5),
      r('MANY-40of200', 40, 200),
      r('ALL-5of5', 5, 5),
      r('NONE', 0, 90),
    ]);
    // raw rates would say ALL (100 %), FEW (40 %), MANY (20 %)
    expect(b.worst('terminal', '1m', 10).map((x) => x.key)).toEqual([
      'ALL-5of5',
      'MANY-40of200',
      'FEW-2of5',
    ]);
    expect(faultLowerBound(r('x', 40, 200))).toBeCloseTo(0.1197, 3);
  });
});

describe('guidance language', () => {
  const alert = {
    probableCauses: ['network'],
    actions: ['reconnect'],
    i18n: { zh: { probableCauses: ['网络'], actions: ['重连'] } },
  };
  it('uses the i18n block of the reader’s language, else the plain fields', () => {
    expect(guidance(alert, 'zh')).toEqual({ probableCauses: ['网络'], actions: ['重连'] });
    expect(guidance(alert, 'en')).toEqual({ probableCauses: ['network'], actions: ['reconnect'] });
    expect(guidance({ probableCauses: ['x'] }, 'zh')).toEqual({
      probableCauses: ['x'],
      actions: [],
    });
    expect(guidance({ i18n: 'junk', actions: [1] }, 'zh')).toEqual({
      probableCauses: [],
      actions: [],
    });
  });
});

describe('region colour', () => {
  it('the worse of fault rate and traffic collapse wins', () => {
    expect(regionLevel(0.01, 1)).toBe(0);
    expect(regionLevel(0.3, 1)).toBe(3);
    expect(regionLevel(0.01, 0.2)).toBe(3);
    expect(regionLevel(0.07, undefined)).toBe(1);
  });
});

describe('BoardState verdicts', () => {
  it('counts live resolve lines that carry a verdict, so the quality panel reloads', () => {
    const s = new BoardState();
    const at = '2026-03-02T10:00:00.000Z';
    const line = (action: 'resolve' | 'note', verdict?: 'false_alarm') => ({
      id: `${action}-${verdict ?? ''}`,
      alertId: 'al-1',
      at,
      action,
      actor: 'ana',
      role: 'analyst' as const,
      ...(verdict ? { verdict } : {}),
    });
    s.applyAudit('al-1', line('note'), { state: 'open' });
    s.applyAudit('al-1', line('resolve'), { state: 'resolved' });
    expect(s.verdicts).toBe(0);
    s.applyAudit('al-1', line('resolve', 'false_alarm'), {
      state: 'resolved',
      verdict: 'false_alarm',
    });
    expect(s.verdicts).toBe(1);
  });
});
