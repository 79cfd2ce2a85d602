import { categorize, type TerminalEvent } from '@tillwatch/contracts';
import type { TsvWriter } from './tsv';

/**
 * One TabSeparated row of events_raw (@tillwatch/clickhouse column order). Ids are
 * contract-validated ([A-Za-z0-9_.:-]); free text (eventId, txnId, currency, firmware, issuer,
 * the raw JSON bytes as received) is escaped.
 */
export function writeEvent(
  w: TsvWriter,
  ev: TerminalEvent,
  partition: number,
  offset: string,
  rawBytes: Buffer,
  insertedAt: number,
): void {
  const auth = ev.type === 'auth';
  const code = auth ? ev.responseCode : '';
  w.text(ev.eventId)
    .tab()
    .str(ev.type)
    .tab()
    .num(Math.floor(ev.ts / 1000))
    .tab()
    .num(ev.ts);
  w.tab().str(ev.terminalId).tab().str(ev.merchantId).tab().str(ev.region).tab();
  w.text(ev.type === 'heartbeat' ? '' : ev.txnId)
    .tab()
    .str(code)
    .tab();
  w.str(auth ? categorize(code) : '').tab();
  if (auth || ev.type === 'settlement') w.num(ev.amount);
  else w.nul();
  w.tab()
    .text(auth ? ev.currency : '')
    .tab();
  w.text((auth || ev.type === 'heartbeat') && ev.firmware ? ev.firmware : '').tab();
  w.text(auth && ev.issuerId ? ev.issuerId : '').tab();
  w.bytes(rawBytes).tab().num(partition).tab().str(offset).tab().num(insertedAt).end();
}
