import { TS } from './engine-layout';
import { FLEET_KEY, SCOPE, type ScopeIndex } from './types';

/** a timer's TS words in order: the scope each one is (the fleet is not in them) */
const WORD_SCOPES: readonly number[] = [
  SCOPE.terminal,
  SCOPE.merchant,
  SCOPE.region,
  SCOPE.firmware,
  SCOPE.issuer,
];

/**
 * The unsettled records the timers added, newest last: each one's due time and the names of
 * the slots it counted in (a timer's TS words). A window's `unsettled` count rises only here
 * (a settlement deadline that passed without its settlement), so a key whose windows can
 * hold one is a key of this log: no_settlement asks it for its candidates instead of reading
 * every terminal and merchant (packages/rules monitor.ts). Entries older than the horizon
 * (lateness + longest window + largest pane: no window read reaches them) are dropped; due
 * times come in order (an accepted event is at or after the watermark, and its deadline
 * after it), so they leave from the head.
 */
export class UnsettledLog {
  /** how long an entry is kept after a later one's due time: the engine's horizon (ms) */
  private readonly horizonMs: number;
  due: number[] = [];
  /** TS names per entry (null: the timer had no slot of that scope) */
  names: (string | null)[] = [];
  head = 0;
  /** asks from before this time cannot be answered from the log (a snapshot without it) */
  completeFrom = Number.NEGATIVE_INFINITY;

  constructor(horizonMs: number) {
    this.horizonMs = horizonMs;
  }

  /**
   * An unsettled record due at `due` in the slots of a timer's TS words at `o`. Drops the
   * entries a horizon older than it: the watermark is past `due`, so no window reads them (the
   * log stays bounded whether or not anyone asks it).
   */
  note(due: number, slots: Int32Array, o: number, names: readonly (string | undefined)[]): void {
    this.due.push(due);
    for (let k = 0; k < TS; k++) {
      const s = slots[o + k]!;
      this.names.push(s >= 0 ? (names[s] ?? null) : null);
    }
    this.prune(due - this.horizonMs);
  }

  /** Drops the entries due before `keepFrom`; compacts once most of the arrays are dropped. */
  private prune(keepFrom: number): void {
    const due = this.due;
    let h = this.head;
    while (h < due.length && due[h]! < keepFrom) h++;
    this.head = h;
    if (h > 1024 && h * 2 > due.length) {
      this.due = due.slice(h);
      this.names = this.names.slice(h * TS);
      this.head = 0;
    }
  }

  /** The distinct keys of `scope` in entries due at or after `sinceMs`, sorted. */
  keysSince(scope: ScopeIndex, sinceMs: number): string[] {
    const due = this.due;
    if (scope === SCOPE.fleet) {
      for (let i = this.head; i < due.length; i++) if (due[i]! >= sinceMs) return [FLEET_KEY];
      return [];
    }
    const k = WORD_SCOPES.indexOf(scope);
    if (k < 0) return [];
    const seen = new Set<string>();
    for (let i = this.head; i < due.length; i++) {
      if (due[i]! < sinceMs) continue;
      const name = this.names[i * TS + k];
      if (name != null) seen.add(name);
    }
    return [...seen].sort();
  }

  /** The live entries, for the snapshot */
  save(): { due: number[]; names: (string | null)[] } {
    return { due: this.due.slice(this.head), names: this.names.slice(this.head * TS) };
  }

  /** `horizonEnd`: where the entries of a snapshot without the log would have left it */
  load(s: { due: number[]; names: (string | null)[] } | undefined, horizonEnd: number): void {
    this.due = s ? [...s.due] : [];
    this.names = s ? [...s.names] : [];
    this.head = 0;
    this.completeFrom = s ? Number.NEGATIVE_INFINITY : horizonEnd;
  }
}
