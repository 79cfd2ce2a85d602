/**
 * Shared layout of the engine's typed arrays: record kinds, entity slot words, timer flags and
 * the scope fan-out order. Data tables only; the modules that walk them hold the logic.
 *
 * Hot modules copy what they use (and the shared enums of types.ts) into module-local consts,
 * `const SW = L.SW`, rather than using the imports directly: an imported binding is a load
 * from the exporting module's cell at every use (a getter call once a bundler emits
 * CommonJS), where a local const can be folded into the optimised code like a literal.
 */
import { CAT, M } from './types';

// ---- record kinds ------------------------------------------------------------------------
export const K_AUTH = 0; // + cat * 4 + inputError * 2 + small
export const K_REV = 28; // + reason * 2 + failed
export const K_HEARTBEAT = 38;
export const K_UNREVERSED = 39;
export const K_DUE = 40;
export const K_UNSETTLED = 41;
export const KIND_COUNT = 42;
export const KIND_BITS = 6;
export const KIND_MASK = 63;
/** record ticks stay below 2^25 so (tick << 6 | kind) is a non-negative i32 */
export const MAX_REL_TICK = 1 << 25;
/** record ticks below 2^10: (tick << 6 | kind) fits a u16, records are 2 bytes */
export const NARROW_REL_BITS = 16 - KIND_BITS;
export const WIDE_REL_BITS = 25;
/** rebase no more often than this many ticks: the horizon plus this must fit in relBits */
export const MIN_REBASE_TICKS = 128;

/** metrics a record of kind k adds: KMETRICS[KM_START[k] .. KM_START[k + 1]) */
export const KM_START = new Int32Array(KIND_COUNT + 1);
const KM: number[] = [];
for (let k = 0; k < KIND_COUNT; k++) {
  KM_START[k] = KM.length;
  if (k < K_REV) {
    const cat = k >> 2;
    const input = (k >> 1) & 1;
    const small = k & 1;
    KM.push(M.auths, M.approved + cat);
    if (input) KM.push(M.inputErrors);
    if (small) KM.push(M.smallAuths);
    if (small && cat !== CAT.approved) KM.push(M.smallDeclines);
  } else if (k < K_HEARTBEAT) {
    const reason = (k - K_REV) >> 1;
    KM.push(M.reversals, M.revTimeout + reason);
    if ((k - K_REV) & 1) KM.push(M.reversalsFailed);
  } else if (k === K_HEARTBEAT) KM.push(M.heartbeats);
  else if (k === K_UNREVERSED) KM.push(M.unreversedTimeouts);
  else if (k === K_DUE) KM.push(M.settlementDue);
  else KM.push(M.unsettled);
}
KM_START[KIND_COUNT] = KM.length;
export const KMETRICS = Uint8Array.from(KM);

// ---- entity slots ------------------------------------------------------------------------
/** i32 words per slot (64 B); f64 words 0 and 1 are lastSeen and lastActive */
export const SW = 16;
export const O_LOG = 4;
export const O_LEN = 5;
export const O_CAP = 6;
export const O_DENSE = 7;
export const O_REFS = 8;
export const O_STATE = 9; // state | scope << 4
export const O_COFF = 10;
export const O_CLEN = 11;
export const O_CCAP = 12;
export const O_MSLOT = 13; // terminal: cached merchant slot
export const O_RSLOT = 14; // terminal: cached region slot
export const O_FSLOT = 15; // terminal: cached firmware slot
export const ST_FREE = 0;
export const ST_LIVE = 1;
/** evicted (or just allocated): no data, kept while pending timers refer to it */
export const ST_DEAD = 2;

// ---- timers ------------------------------------------------------------------------------
export const T_SETTLE = 1;
export const T_REVERSE = 2;
export const T_KIND = 3;
export const T_REVERSED = 4;
export const T_SETTLED = 8;
/** timer slot words: terminal, merchant, region, firmware, issuer (fleet is implicit) */
export const TS = 5;

// ---- scope fan-out -----------------------------------------------------------------------
/**
 * Positions in the engine's fan-out list: the slots one contribution counts in, -1 for a scope
 * the event has none of. Fleet comes fourth: the visit order decides which arena chunks each
 * slot's log gets, so it is part of what makes equal streams give byte-equal snapshots.
 */
export const F_TERMINAL = 0;
export const F_MERCHANT = 1;
export const F_REGION = 2;
export const F_FLEET = 3;
export const F_FIRMWARE = 4;
export const F_ISSUER = 5;
export const FAN = 6;
