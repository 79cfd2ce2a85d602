import type { RateRow } from '@tillwatch/contracts';
import { describe, expect, it } from 'vitest';
import { RATE_COLUMNS, rateToRow, rowToRate } from './rows';
import { WINDOW_STATS_COLUMNS } from './window-stats';

const RATE: RateRow = {
  scope: 'terminal',
  key: 'T-1',
  window: '5m',
  ts: '2026-03-01T10:05:00.000Z',
  merchantId: 'M-1',
  region: 'EU-W',
  auths: 100,
  approved: 80,
  failures: 20,
  faults: 12,
  byCategory: {
    approved: 80,
    cardholder: 8,
    issuer: 5,
    terminal: 3,
    security: 2,
    timeout: 1,
    other: 1,
  },
  inputErrors: 4,
  reversals: 6,
  unreversedTimeouts: 1,
  settlementDue: 50,
  unsettled: 2,
  heartbeats: 9,
  failureRate: 0.2,
  faultRate: 0.12,
  reversalRate: 0.06,
  noSettlementRate: 0.04,
  volumeRatio: 1.5,
};

describe('window_stats rows', () => {
  it('rateToRow puts each RateRow field in its column', () => {
    expect(rateToRow(RATE, 7)).toStrictEqual({
      scope: 'terminal',
      key: 'T-1',
      window: '5m',
      ts: '2026-03-01 10:05:00',
      ts_ms: Date.parse(RATE.ts),
      merchant_id: 'M-1',
      region: 'EU-W',
      auths: 100,
      approved: 80,
      failures: 20,
      faults: 12,
      cat_approved: 80,
      cat_cardholder: 8,
      cat_issuer: 5,
      cat_terminal: 3,
      cat_security: 2,
      cat_timeout: 1,
      cat_other: 1,
      input_errors: 4,
      reversals: 6,
      unreversed_timeouts: 1,
      settlement_due: 50,
      unsettled: 2,
      heartbeats: 9,
      failure_rate: 0.2,
      fault_rate: 0.12,
      reversal_rate: 0.06,
      no_settlement_rate: 0.04,
      volume_ratio: 1.5,
      version: 7,
    });
  });

  it('rowToRate reads back what rateToRow wrote, fields in the same order', () => {
    const back = rowToRate(rateToRow(RATE, 7));
    expect(back).toStrictEqual(RATE);
    // one field order for the gateway's JSON: counters in column order, the optional ones last
    expect(Object.keys(back)).toEqual([
      'scope',
      'key',
      'window',
      'ts',
      'auths',
      'approved',
      'failures',
      'faults',
      'byCategory',
      'inputErrors',
      'reversals',
      'unreversedTimeouts',
      'settlementDue',
      'unsettled',
      'heartbeats',
      'failureRate',
      'faultRate',
      'reversalRate',
      'noSettlementRate',
      'merchantId',
      'region',
      'volumeRatio',
    ]);
    expect(Object.keys(back.byCategory)).toEqual(Object.keys(RATE.byCategory));
  });

  it('missing categories and volume ratio are 0 and NULL, and stay absent on the way back', () => {
    const { volumeRatio: _v, ...rest } = RATE;
    const row = rateToRow({ ...rest, byCategory: { approved: 80 } as RateRow['byCategory'] }, 1);
    expect(row.cat_issuer).toBe(0);
    expect(row.volume_ratio).toBeNull();
    expect(rowToRate(row).volumeRatio).toBeUndefined();
  });

  it('rows and RATE_COLUMNS carry the table columns in table order', () => {
    const columns = WINDOW_STATS_COLUMNS.map(([c]) => c);
    expect(RATE_COLUMNS).toEqual(columns);
    expect(Object.keys(rateToRow(RATE))).toEqual(columns);
  });
});
