import type { Entities } from './entities';
import * as L from './engine-layout';
import type { RecordStore } from './record-store';
import { SCOPE } from './types';

// Module-local copies of the layout constants and shared enums (why: engine-layout.ts).
const FAN = L.FAN;
const F_FIRMWARE = L.F_FIRMWARE;
const F_FLEET = L.F_FLEET;
const F_ISSUER = L.F_ISSUER;
const F_MERCHANT = L.F_MERCHANT;
const F_REGION = L.F_REGION;
const F_TERMINAL = L.F_TERMINAL;
const O_FSLOT = L.O_FSLOT;
const O_MSLOT = L.O_MSLOT;
const O_RSLOT = L.O_RSLOT;
const SW = L.SW;
const TS = L.TS;
const SC_MERCHANT = SCOPE.merchant;
const SC_REGION = SCOPE.region;
const SC_FIRMWARE = SCOPE.firmware;

/**
 * The slots one contribution counts in (terminal, merchant, region, fleet, firmware, issuer,
 * at the F_* positions; -1 for a scope the event has none of), and the two ways a
 * contribution reaches them: an event's, and a due timer's. One preallocated list shared by
 * Engine and TimerTable (a timer fires only after the event's fan-out is done), so no event
 * allocates one.
 */
export class ScopeFan {
  readonly slots = new Int32Array(FAN);
  private readonly ents: Entities;
  private readonly store: RecordStore;

  constructor(ents: Entities, store: RecordStore) {
    this.ents = ents;
    this.store = store;
  }

  /**
   * Terminal t's merchant, region, fleet and firmware (fw undefined: none) slots, found
   * through t's cache words, and no issuer; updates t's memo of them.
   */
  forTerminal(t: number, merchantId: string, region: string, fw: string | undefined): void {
    const ents = this.ents;
    const tb = t * SW;
    const m = ents.cached(tb + O_MSLOT, SC_MERCHANT, merchantId);
    const r = ents.cached(tb + O_RSLOT, SC_REGION, region);
    const f = fw === undefined ? -1 : ents.cached(tb + O_FSLOT, SC_FIRMWARE, fw);
    ents.remember(t, m, r, f);
    const fan = this.slots;
    fan[F_TERMINAL] = t;
    fan[F_MERCHANT] = m;
    fan[F_REGION] = r;
    fan[F_FLEET] = ents.fleetSlot;
    fan[F_FIRMWARE] = f;
    fan[F_ISSUER] = -1;
  }

  /** An event's record of `kind` at ts (the clock's current time) in every slot. */
  contribute(ts: number, kind: number): void {
    const fan = this.slots;
    const ents = this.ents;
    // every touch before the record: a touch may evict, and recordFor may rebase live logs
    for (let k = 0; k < FAN; k++) {
      const s = fan[k]!;
      if (s >= 0) ents.touch(s, ts);
    }
    const store = this.store;
    const rec = store.recordFor(kind);
    if (rec < 0) return;
    for (let k = 0; k < FAN; k++) {
      const s = fan[k]!;
      if (s >= 0) store.addRecord(s, rec, kind);
    }
  }

  /** A due timer's record (from recordFor at `due`) in every slot it may still count in. */
  contributeDue(due: number, rec: number, kind: number): void {
    const fan = this.slots;
    const ents = this.ents;
    for (let k = 0; k < FAN; k++) {
      const s = fan[k]!;
      if (s >= 0) ents.timerTouch(s, due, rec, kind);
    }
  }

  /** Writes the slots to a timer's TS words at o: all but the fleet, which is pinned. */
  toTimer(words: Int32Array, o: number): void {
    const fan = this.slots;
    for (let k = 0; k < TS; k++) words[o + k] = fan[k < F_FLEET ? k : k + 1]!;
  }

  /** The slots of a timer's TS words at o, and the fleet. */
  fromTimer(words: Int32Array, o: number): void {
    const fan = this.slots;
    for (let k = 0; k < TS; k++) fan[k < F_FLEET ? k : k + 1] = words[o + k]!;
    fan[F_FLEET] = this.ents.fleetSlot;
  }
}
