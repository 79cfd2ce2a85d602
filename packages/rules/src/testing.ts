import type { TerminalEvent } from '@tillwatch/contracts';

/**
 * Hand-built streams for the rules' unit tests: a small fleet with steady traffic and
 * heartbeats, deterministic (a tiny LCG, no Math.random), into which a test injects faults.
 */
export const T0 = Date.UTC(2026, 2, 2, 2, 0, 0); // 10:00 in UTC+8, a Monday

export interface TestTerminal {
  id: string;
  merchantId: string;
  region: string;
  firmware: string;
  /** auths per minute */
  rate: number;
}

export function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function smallFleet(
  opts: { regions?: number; merchants?: number; perMerchant?: number; rate?: number } = {},
): TestTerminal[] {
  const regions = opts.regions ?? 3;
  const merchants = opts.merchants ?? 12;
  const per = opts.perMerchant ?? 3;
  const out: TestTerminal[] = [];
  for (let m = 0; m < merchants; m++) {
    for (let k = 0; k < per; k++) {
      out.push({
        id: `T${m}_${k}`,
        merchantId: `M${m}`,
        region: `R${m % regions}`,
        firmware: m % 4 === 0 ? '1.0' : '2.0',
        rate: opts.rate ?? 1,
      });
    }
  }
  return out;
}

export type Tweak = (ev: TerminalEvent, t: TestTerminal, rnd: () => number) => TerminalEvent | null;

/**
 * Steady traffic from `from` to `to`: per terminal, auths at `rate` per minute (2 % cardholder
 * declines, tiny fault rate), a settlement 10 s after each approved auth, a heartbeat every
 * 5 minutes. `tweak` may change or drop (null) each event.
 */
export function stream(
  terminals: readonly TestTerminal[],
  from: number,
  to: number,
  tweak?: Tweak,
  seed = 7,
  opts: { settle?: boolean } = {},
): TerminalEvent[] {
  const rnd = lcg(seed);
  const evs: TerminalEvent[] = [];
  let n = 0;
  const issuers = ['I1', 'I2', 'I3', 'I4', 'I5'];
  for (const t of terminals) {
    const step = 60_000 / t.rate;
    const phase = Math.floor(rnd() * step);
    for (let ts = from + phase; ts < to; ts += step) {
      n++;
      const r = rnd();
      const code = r < 0.02 ? '51' : r < 0.021 ? '91' : '00';
      const base = {
        eventId: `e${seed}_${n}`,
        ts: Math.round(ts),
        terminalId: t.id,
        merchantId: t.merchantId,
        region: t.region,
      };
      const auth: TerminalEvent = {
        type: 'auth',
        ...base,
        txnId: `x${seed}_${n}`,
        amount: 1000 + Math.floor(rnd() * 9000),
        currency: 'CNY',
        responseCode: code,
        cardFingerprint: `c${Math.floor(rnd() * 1e9)}`,
        issuerId: issuers[Math.floor(rnd() * issuers.length)]!,
        firmware: t.firmware,
      };
      const ev = tweak ? tweak(auth, t, rnd) : auth;
      if (ev) evs.push(ev);
      if (opts.settle && ev?.type === 'auth' && ev.responseCode === '00') {
        n++;
        const st: TerminalEvent = {
          type: 'settlement',
          ...base,
          eventId: `s${seed}_${n}`,
          ts: Math.round(ts) + 60_000,
          txnId: ev.txnId,
          amount: ev.amount,
          status: 'settled',
        };
        const s2 = tweak ? tweak(st, t, rnd) : st;
        if (s2) evs.push(s2);
      }
    }
    const hbPhase = Math.floor(rnd() * 300_000);
    for (let ts = from + hbPhase; ts < to; ts += 300_000) {
      n++;
      const hb: TerminalEvent = {
        type: 'heartbeat',
        eventId: `h${seed}_${n}`,
        ts,
        terminalId: t.id,
        merchantId: t.merchantId,
        region: t.region,
        firmware: t.firmware,
      };
      const ev = tweak ? tweak(hb, t, rnd) : hb;
      if (ev) evs.push(ev);
    }
  }
  return evs.sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : 1));
}
