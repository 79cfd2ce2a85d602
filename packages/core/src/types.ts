/**
 * The engine's public vocabulary. `core` imports nothing, so the event shape here is structural:
 * @tillwatch/contracts' validated TerminalEvent is assignable to EngineEvent.
 */

export interface EngineEvent {
  type: 'auth' | 'reversal' | 'settlement' | 'heartbeat';
  eventId: string;
  /** event time, epoch ms (already normalised by the decoder) */
  ts: number;
  terminalId: string;
  merchantId: string;
  region: string;
  txnId?: string;
  amount?: number;
  responseCode?: string;
  reason?: string;
  status?: string;
  cardFingerprint?: string;
  issuerId?: string;
  firmware?: string;
}

/** Scopes as dense indices; `fleet` (key "*") is the sum over every terminal, for fleet baselines. */
export const SCOPE = {
  terminal: 0,
  merchant: 1,
  region: 2,
  firmware: 3,
  issuer: 4,
  fleet: 5,
} as const;
export type ScopeName = keyof typeof SCOPE;
export type ScopeIndex = (typeof SCOPE)[ScopeName];
export const SCOPE_NAMES: readonly ScopeName[] = [
  'terminal',
  'merchant',
  'region',
  'firmware',
  'issuer',
  'fleet',
];
export const SCOPE_COUNT = 6;
export const FLEET_KEY = '*';

/** Response-code categories as dense indices (same order as @tillwatch/contracts CATEGORIES). */
export const CAT = {
  approved: 0,
  cardholder: 1,
  issuer: 2,
  terminal: 3,
  security: 4,
  timeout: 5,
  other: 6,
} as const;
export const CATEGORY_COUNT = 7;

export const REASON = {
  timeout: 0,
  customer_cancel: 1,
  terminal_error: 2,
  host_error: 3,
  other: 4,
} as const;

/**
 * Counter indices of one window of one scope key. Everything a rule reads is one of these
 * or derived from them (failures = auths - approved; faults = failures - cardholder).
 */
export const M = {
  auths: 0,
  /** per category: M.approved + CAT.x */
  approved: 1,
  cardholder: 2,
  issuer: 3,
  terminal: 4,
  security: 5,
  timeout: 6,
  other: 7,
  /** response codes 13, 14, 55, 30 */
  inputErrors: 8,
  reversals: 9,
  reversalsFailed: 10,
  /** per reason: M.revTimeout + REASON.x */
  revTimeout: 11,
  revCustomerCancel: 12,
  revTerminalError: 13,
  revHostError: 14,
  revOther: 15,
  /** timeout auths whose reversal grace ran out without a succeeded reversal (at authTs + grace) */
  unreversedTimeouts: 16,
  /** approved auths that reached their settlement deadline, not reversed (at authTs + deadline) */
  settlementDue: 17,
  /** of those due, without a `settled` settlement before the deadline */
  unsettled: 18,
  heartbeats: 19,
  /** auths with amount <= smallAmount */
  smallAuths: 20,
  /** non-approved auths with amount <= smallAmount */
  smallDeclines: 21,
} as const;
export type MetricName = keyof typeof M;
export const METRIC_COUNT = 22;
export const METRIC_NAMES = Object.keys(M) as MetricName[];

/** Whether a read's counters hold anything (a window or pane with no count in it: false). */
export function anyCount(m: Float64Array): boolean {
  for (let i = 0; i < m.length; i++) if (m[i] !== 0) return true;
  return false;
}

export interface EngineConfig {
  /** sliding windows, ms; default 1m, 5m, 15m, 1h */
  windowsMs: readonly number[];
  /** pane size per window, ms; each window is a whole number of its panes */
  panesMs: readonly number[];
  /** watermark = max event time seen - allowedLateness */
  allowedLatenessMs: number;
  /** approved auth must be settled within this (default 24 h) */
  settlementDeadlineMs: number;
  /** a timeout auth must be reversed within this (default 60 s) */
  reversalGraceMs: number;
  /** how many recent eventIds are remembered for duplicate detection */
  dedupCapacity: number;
  /** an entity with no event for this long (event time) is forgotten; must be >= longest window */
  idleEvictMs: number;
  /** amounts at or below this (minor units) count as "small" for card testing */
  smallAmount: number;
  /** response code -> category index (CAT); codes not in the map are `other` */
  codeCategories: ReadonlyMap<string, number>;
  /** codes that are operator input errors */
  inputErrorCodes: readonly string[];
}

export const enum Outcome {
  Accepted = 0,
  Duplicate = 1,
  Late = 2,
}

export interface EngineCounters {
  accepted: number;
  duplicates: number;
  lateDropped: number;
  evicted: number;
  pendingSettlements: number;
  pendingTimeouts: number;
}

/**
 * What every engine implementation offers; the fast core and the plain reference both
 * implement it and property tests hold them equal.
 *
 * Semantics (the reference implementation is the executable definition):
 * - An event whose eventId is among the last `dedupCapacity` distinct ids seen is a duplicate
 *   and is ignored. Otherwise its id is remembered; then if ts < watermark it is late (counted,
 *   not applied); else it is applied at its event time, and the watermark rises to
 *   max(watermark, ts - allowedLateness).
 * - Scope keys of an event: its terminal, merchant and region; `fleet`; firmware = the event's
 *   `firmware` (auth, heartbeat) or else the terminal's last known one (forgotten once the
 *   terminal has been idle > idleEvictMs); issuer = auth's issuerId only.
 * - Timers: an approved auth is due at ts + settlementDeadline unless a succeeded reversal with
 *   ts' < due arrives first; it is unsettled unless a `settled` settlement with ts' < due arrives.
 *   A timeout auth is unreversed at ts + reversalGrace unless a succeeded reversal with
 *   ts' < that arrives. Timers fire when the watermark passes them (due < watermark), and count
 *   at their due time in the scopes of the auth. A second auth with the same txnId replaces the
 *   first's timers.
 * - `read` returns the counters of the window ending at the latest closed boundary of that
 *   window's panes: end = floor(watermark / pane) * pane, covering [end - window, end).
 */
export interface WindowEngine {
  readonly config: EngineConfig;
  readonly watermark: number;
  ingest(ev: EngineEvent): Outcome;
  advance(watermarkMs: number): void;
  /** Fills `out` (length METRIC_COUNT) and returns true, or returns false for an unknown key. */
  read(scope: ScopeIndex, key: string, windowIndex: number, out: Float64Array): boolean;
  /**
   * Optional: the end (ms) of window `windowIndex`'s reads now, if a tracked key's read at the
   * same end always gives the same counts (NaN when not): a reader may keep a read until the
   * end moves. The core Engine has it; the rollup stage's merged windows do not promise it.
   */
  windowEnd?(windowIndex: number): number;
  /** Distinct card fingerprints among non-approved auths in the window (terminal and merchant). */
  distinctDeclinedCards(scope: ScopeIndex, key: string, windowIndex: number): number;
  /** Keys of a scope that are currently tracked (not evicted). */
  keys(scope: ScopeIndex): string[];
  /**
   * Tracked keys of a scope whose latest contribution (an event or a fired timer) is at or after
   * `sinceMs` (event time), sorted: the keys whose windows gained counts since then. Additive
   * helper for the rules engine; windows also change as panes slide out, which it does not list.
   */
  touchedSince(scope: ScopeIndex, sinceMs: number): string[];
  /**
   * Optional: keys of a scope with an unsettled record (a settlement deadline that passed
   * without its settlement) due at or after `sinceMs`, sorted; evicted keys may be among them.
   * Every key whose window read from `sinceMs` on counts `unsettled` is listed: a reader of that
   * count can ask these keys instead of all of them. The core Engine has it.
   */
  unsettledSince?(scope: ScopeIndex, sinceMs: number): string[];
  /** Event time of the key's latest applied event, or -Infinity. */
  lastSeen(scope: ScopeIndex, key: string): number;
  /** The terminal's merchant and region, as of its latest event. */
  terminalInfo(
    terminalId: string,
  ): { merchantId: string; region: string; firmware?: string } | undefined;
  counters(): EngineCounters;
}
