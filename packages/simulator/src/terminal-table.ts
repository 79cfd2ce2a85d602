import { HOUR_MS, type Fleet } from './fleet';
import { NETWORK_TIMEOUT, P_TERMINAL, P_TIMEOUT } from './outcomes';
import { Rng } from './rng';

/** Per-terminal data in flat arrays: the hot loop reads these, not objects. */
export interface TerminalTable {
  readonly ratePerMs: Float64Array;
  readonly pTimeout: Float64Array;
  readonly pTerminal: Float64Array;
  readonly signalBase: Float64Array;
  readonly tId: string[];
  readonly mId: string[];
  readonly rId: string[];
  readonly tMerchant: Int32Array;
  readonly netLatency: Float64Array;
  /** per issuer */
  readonly issuerFactor: Float64Array;
  /** per merchant: the foreign currency some of its sales are in, or null */
  readonly merchantForeign: (string | null)[];
  /** the fleet's versions, then any an incident adds */
  readonly firmwareNames: string[];
}

/** The table of a fleet whose traffic is scaled by `volume`. */
export function buildTerminalTable(f: Fleet, seed: number, volume: number): TerminalTable {
  const nT = f.terminals.length;
  const ratePerMs = new Float64Array(nT);
  const pTimeout = new Float64Array(nT);
  const pTerminal = new Float64Array(nT);
  const signalBase = new Float64Array(nT);
  const netLatency = new Float64Array(nT);
  const tMerchant = new Int32Array(nT);
  const tId: string[] = [];
  const mId: string[] = [];
  const rId: string[] = [];
  const attrs = Rng.derive(seed, 0xa77);
  for (const t of f.terminals) {
    const region = f.regions[t.region]!;
    ratePerMs[t.index] = (t.peakRate * volume) / HOUR_MS;
    pTimeout[t.index] =
      P_TIMEOUT * NETWORK_TIMEOUT[t.network] * region.network * Math.sqrt(t.quality);
    pTerminal[t.index] = P_TERMINAL * t.quality * f.firmwareFault[t.firmware]!;
    signalBase[t.index] =
      t.network === 'wifi'
        ? attrs.range(55, 95)
        : t.network === 'cellular'
          ? attrs.range(35, 90)
          : 0;
    netLatency[t.index] = region.network;
    tMerchant[t.index] = t.merchant;
    tId.push(t.id);
    mId.push(f.merchants[t.merchant]!.id);
    rId.push(region.id);
  }
  const issuerFactor = new Float64Array(f.issuers.length);
  for (let i = 0; i < f.issuers.length; i++) issuerFactor[i] = attrs.lognormal(1, 0.2);
  const merchantForeign = f.merchants.map((m) => {
    const r = f.regions[m.region]!.id;
    if (m.category !== 'hotel' && m.category !== 'electronics') return null;
    if (r === 'CN-44-SZ') return 'HKD';
    return r === 'CN-31' || r === 'CN-11' ? 'USD' : null;
  });
  return {
    ratePerMs,
    pTimeout,
    pTerminal,
    signalBase,
    tId,
    mId,
    rId,
    tMerchant,
    netLatency,
    issuerFactor,
    merchantForeign,
    firmwareNames: [...f.firmware],
  };
}
