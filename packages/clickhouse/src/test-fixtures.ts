// Shared by the integration tests: a private database per test file and realistic rows.
import { randomUUID } from 'node:crypto';
import type { Alert, RateRow, TerminalEvent } from '@tillwatch/contracts';
import { createClickHouse, ensureDatabase, type ClickHouse } from './client';
import { migrate } from './migrate';
import { ident, sql } from './sql';
import type { EventInput } from './rows';

export async function freshDatabase(
  url: string,
): Promise<{ ch: ClickHouse; drop: () => Promise<void> }> {
  const database = `tw_it_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await ensureDatabase({ url }, database);
  const ch = createClickHouse({ url, database });
  await migrate(ch);
  return {
    ch,
    drop: async () => {
      await ch.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
      await ch.close();
    },
  };
}

export function authEvent(i: number, ts: number, over: Partial<TerminalEvent> = {}): EventInput {
  const event = {
    type: 'auth',
    eventId: `e-${i}`,
    ts,
    terminalId: `T-${i % 3}`,
    merchantId: `M-${i % 2}`,
    region: 'CN-31',
    txnId: `x-${i}`,
    amount: 100 + i,
    currency: 'CNY',
    responseCode: i % 4 === 0 ? '91' : '00',
    firmware: 'v1',
    ...over,
  } as TerminalEvent;
  return { event, raw: JSON.stringify(event), partition: 0, offset: i };
}

export function rate(key: string, ts: number, auths: number, failures: number): RateRow {
  return {
    scope: 'terminal',
    key,
    window: '5m',
    ts: new Date(ts).toISOString(),
    merchantId: 'M-0',
    region: 'CN-31',
    auths,
    approved: auths - failures,
    failures,
    faults: failures,
    byCategory: {
      approved: auths - failures,
      cardholder: 0,
      issuer: failures,
      terminal: 0,
      security: 0,
      timeout: 0,
      other: 0,
    },
    inputErrors: 0,
    reversals: 0,
    unreversedTimeouts: 0,
    settlementDue: 0,
    unsettled: 0,
    heartbeats: 0,
    failureRate: auths ? failures / auths : 0,
    faultRate: auths ? failures / auths : 0,
    reversalRate: 0,
    noSettlementRate: 0,
  };
}

export function alert(
  alertId: string,
  status: 'firing' | 'resolved',
  ts: number,
  over: Partial<Alert> = {},
): Alert {
  const iso = new Date(ts).toISOString();
  return {
    alertId,
    rule: 'terminal_fault_spike',
    severity: 'critical',
    status,
    scope: 'terminal',
    key: 'T-1',
    merchantId: 'M-1',
    region: 'CN-31',
    window: '5m',
    metric: 'faultRate',
    value: 0.4,
    threshold: 0.1,
    baseline: 0.01,
    evidence: { topCodes: { '91': 12 } },
    probableCauses: ['issuer down'],
    actions: ['call support'],
    firstSeen: iso,
    lastSeen: iso,
    ts: iso,
    ...over,
  };
}
