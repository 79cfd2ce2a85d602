import {
  CATEGORIES,
  type Alert,
  type Category,
  type RateRow,
  type TerminalEvent,
} from '@tillwatch/contracts';

/**
 * Synthetic rows, alerts and events for tests, the browser suite and the bench: shapes that
 * pass the contract's schemas, with the numbers a caller asks for.
 */
export function syntheticRow(
  p: Partial<RateRow> & {
    scope: RateRow['scope'];
    key: string;
    auths?: number;
    faultRate?: number;
  },
): RateRow {
  const auths = p.auths ?? 100;
  const faultRate = p.faultRate ?? 0.02;
  const faults = Math.round(auths * faultRate);
  const cardholder = Math.round(auths * 0.03);
  // every category, as rateRowSchema requires (the socket contract test parses these rows)
  const byCategory: Record<Category, number> = {
    ...(Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>),
    approved: auths - faults - cardholder,
    cardholder,
    timeout: faults,
  };
  return {
    window: '1m',
    ts: new Date().toISOString(),
    approved: auths - faults - cardholder,
    failures: faults + cardholder,
    faults,
    byCategory,
    inputErrors: 0,
    reversals: 0,
    unreversedTimeouts: 0,
    settlementDue: 0,
    unsettled: 0,
    heartbeats: 0,
    failureRate: auths ? (faults + cardholder) / auths : 0,
    reversalRate: 0,
    noSettlementRate: 0,
    ...p,
    auths,
    faultRate,
  };
}

export function syntheticAlert(p: Partial<Alert> & { alertId: string }): Alert {
  const now = new Date().toISOString();
  return {
    rule: 'terminal_fault_spike',
    severity: 'critical',
    status: 'firing',
    scope: 'terminal',
    key: 'T-0001',
    merchantId: 'M-001',
    region: 'CN-31',
    window: '5m',
    metric: 'faultRate',
    value: 0.42,
    threshold: 0.1,
    baseline: 0.02,
    evidence: { byCategory: { terminal: 40, approved: 55 }, topCodes: [{ code: '58', count: 30 }] },
    probableCauses: ['hardware fault: card reader or keypad'],
    actions: ['restart the terminal', 'call technical support'],
    firstSeen: now,
    lastSeen: now,
    ts: now,
    ...p,
  };
}

let seq = 0;
export function syntheticAuth(p: {
  terminalId: string;
  merchantId: string;
  region: string;
  responseCode?: string;
  ts?: number;
  txnId?: string;
}): TerminalEvent {
  seq += 1;
  return {
    type: 'auth',
    eventId: `ev-${seq}`,
    ts: p.ts ?? Date.now(),
    terminalId: p.terminalId,
    merchantId: p.merchantId,
    region: p.region,
    txnId: p.txnId ?? `tx-${seq}`,
    amount: 1000 + (seq % 5000),
    currency: 'CNY',
    responseCode: p.responseCode ?? '00',
  };
}
