import type { TerminalEvent } from '@tillwatch/contracts';
import { describe, expect, it } from 'vitest';
import { codeOf, drillCsv, shortCard } from './drill';

const auth = {
  type: 'auth',
  eventId: 'e1',
  ts: Date.UTC(2026, 10, 11, 4, 0, 0),
  terminalId: 'T1',
  merchantId: 'M1',
  region: 'CN-31',
  txnId: 'x"1',
  amount: 500,
  currency: 'CNY',
  responseCode: '14',
  cardFingerprint: '=HYPERLINK("evil")',
  issuerId: 'ISS-1',
} as unknown as TerminalEvent;
const reversal = {
  type: 'reversal',
  eventId: 'e2',
  ts: '2026-11-11T04:00:05Z',
  terminalId: 'T1',
  merchantId: 'M1',
  region: 'CN-31',
  txnId: 'x2',
  reason: 'timeout',
  status: 'failed',
} as unknown as TerminalEvent;

describe('drill-down export', () => {
  it('one CSV line an event, quoted, with card and issuer; no formula reaches a spreadsheet', () => {
    expect(drillCsv([auth, reversal]).split('\r\n')).toEqual([
      'ts,type,terminalId,merchantId,region,txnId,amount,currency,code,cardFingerprint,issuerId',
      `2026-11-11T04:00:00.000Z,auth,T1,M1,CN-31,"x""1",500,CNY,14,"'=HYPERLINK(""evil"")",ISS-1`,
      '2026-11-11T04:00:05Z,reversal,T1,M1,CN-31,x2,,,failed,,',
      '',
    ]);
  });
  it('codes and cards for the table', () => {
    expect(codeOf(auth)).toBe('14');
    expect(codeOf(reversal)).toBe('failed');
    expect(shortCard('c0ffee1234567890')).toBe('c0ff…7890');
    expect(shortCard(undefined)).toBe('–');
  });
});
