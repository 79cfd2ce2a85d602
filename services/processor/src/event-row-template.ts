import { categorize, type TerminalEvent } from '@tillwatch/contracts';
import { tsvEscape } from './tsv';

/**
 * The events_raw row as the processor built it before TsvWriter (template strings): the
 * reference tsv.test.ts holds writeEvent's bytes to, and event-rows.bench.ts times it against.
 * Not used by the processor.
 */
export function eventRowTemplate(
  ev: TerminalEvent,
  partition: number,
  offset: string,
  raw: Buffer,
  at: number,
): string {
  const txn = ev.type === 'heartbeat' ? '' : ev.txnId;
  const code = ev.type === 'auth' ? ev.responseCode : '';
  const category = ev.type === 'auth' ? categorize(code) : '';
  const amount = ev.type === 'auth' || ev.type === 'settlement' ? String(ev.amount) : '\\N';
  const currency = ev.type === 'auth' ? ev.currency : '';
  const firmware =
    (ev.type === 'auth' || ev.type === 'heartbeat') && ev.firmware ? ev.firmware : '';
  const issuer = ev.type === 'auth' && ev.issuerId ? ev.issuerId : '';
  const sec = Math.floor(ev.ts / 1000);
  return `${tsvEscape(ev.eventId)}\t${ev.type}\t${sec}\t${ev.ts}\t${ev.terminalId}\t${ev.merchantId}\t${ev.region}\t${tsvEscape(txn)}\t${code}\t${category}\t${amount}\t${tsvEscape(currency)}\t${tsvEscape(firmware)}\t${tsvEscape(issuer)}\t${tsvEscape(raw.toString('utf8'))}\t${partition}\t${offset}\t${at}\n`;
}
