import type { TerminalEvent } from '@tillwatch/contracts';

/** The drill-down's optional fields of an event (auths have most, heartbeats none). */
export function fields(e: TerminalEvent): {
  txnId?: string;
  amount?: number;
  currency?: string;
  responseCode?: string;
  status?: string;
  cardFingerprint?: string;
  issuerId?: string;
} {
  return e as ReturnType<typeof fields>;
}

/** the response code of an auth, the status of a reversal or settlement */
export function codeOf(e: TerminalEvent): string {
  const x = fields(e);
  return x.responseCode ?? x.status ?? '';
}

/** a card fingerprint shortened for a table cell (the whole one is in the cell's title) */
export function shortCard(fp: string | undefined): string {
  if (!fp) return '–';
  return fp.length > 10 ? `${fp.slice(0, 4)}…${fp.slice(-4)}` : fp;
}

const COLUMNS = [
  'ts',
  'type',
  'terminalId',
  'merchantId',
  'region',
  'txnId',
  'amount',
  'currency',
  'code',
  'cardFingerprint',
  'issuerId',
] as const;

function cell(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  // RFC 4180 quoting; a leading = + - @ is neutralised so a spreadsheet does not run it
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The events as CSV (header first; amounts in minor units, as the contract has them). */
export function drillCsv(events: readonly TerminalEvent[]): string {
  const lines = [COLUMNS.join(',')];
  for (const e of events) {
    const x = fields(e);
    const ts = typeof e.ts === 'number' ? new Date(e.ts).toISOString() : e.ts;
    const row: Record<(typeof COLUMNS)[number], unknown> = {
      ts,
      type: e.type,
      terminalId: e.terminalId,
      merchantId: e.merchantId,
      region: e.region,
      txnId: x.txnId,
      amount: x.amount,
      currency: x.currency,
      code: codeOf(e),
      cardFingerprint: x.cardFingerprint,
      issuerId: x.issuerId,
    };
    lines.push(COLUMNS.map((c) => cell(row[c])).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
