/**
 * Bench-only: a seeded, realistic event stream for N terminals. Each event is a fresh object
 * with freshly built strings, as a decoder hands them over (no interned or shared strings).
 *
 * Mix: 80% auth (91% approved, 3% cardholder declines, 1% issuer, 1% timeout, 1% input
 * error, rest other), 4% reversals of recent auths, 10% settlements of recent approved auths,
 * 6% heartbeats. Terminals are drawn uniformly; 4 terminals per merchant, 64 regions,
 * 12 firmware versions, 500 issuers. Event time advances so each terminal sends
 * `perTerminalPerHour` events an hour, with up to 2 s of disorder (lateness is 10 s).
 */
import type { EngineEvent } from './types';

export interface Workload {
  next(): EngineEvent;
  readonly now: number;
}

export const T0 = Date.UTC(2026, 0, 5, 8);

export function workload(terminals: number, perTerminalPerHour: number, seed = 42): Workload {
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    // xorshift32
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const msPerEvent = 3_600_000 / (terminals * perTerminalPerHour);
  const recent: string[] = new Array(4096).fill('');
  let seq = 0;
  let now = T0;
  const codeOf = (): string => {
    const x = rnd();
    if (x < 0.91) return '00';
    if (x < 0.94) return '51';
    if (x < 0.95) return '91';
    if (x < 0.96) return 'TO';
    if (x < 0.97) return '55';
    if (x < 0.98) return '05';
    return '12';
  };
  return {
    get now() {
      return now;
    },
    next(): EngineEvent {
      seq++;
      now = T0 + seq * msPerEvent;
      const t = Math.floor(rnd() * terminals);
      const ts = Math.floor(now - rnd() * 2000);
      const terminalId = `T${t}`;
      const base = {
        eventId: `${terminalId}-${seq}`,
        ts,
        terminalId,
        merchantId: `M${t >> 2}`,
        region: `CN-${t & 63}`,
      };
      const x = rnd();
      if (x < 0.8) {
        const txnId = `tx-${seq}`;
        const responseCode = codeOf();
        if (responseCode === '00') recent[seq & 4095] = txnId;
        return {
          type: 'auth',
          ...base,
          txnId,
          amount: Math.floor(rnd() * 20_000),
          responseCode,
          cardFingerprint: `fp${Math.floor(rnd() * 1e9)}`,
          issuerId: `ISS${Math.floor(rnd() * 500)}`,
          firmware: `4.${t % 12}.0`,
        };
      }
      const txnId = recent[Math.floor(rnd() * 4096)] || `tx-none-${seq}`;
      if (x < 0.84) {
        return { type: 'reversal', ...base, txnId, reason: 'timeout', status: 'succeeded' };
      }
      if (x < 0.94) return { type: 'settlement', ...base, txnId, amount: 100, status: 'settled' };
      return { type: 'heartbeat', ...base, firmware: `4.${t % 12}.0` };
    },
  };
}

export function table(title: string, rows: Record<string, string | number>[]): void {
  console.log(`\n${title}`);
  console.table(rows);
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}
