import * as L from './engine-layout';
import type { RecordStore } from './record-store';
import { SCOPE, SCOPE_COUNT, type ScopeIndex } from './types';

// Module-local copies of the layout constants and shared enums (why: engine-layout.ts).
const O_CAP = L.O_CAP;
const O_CCAP = L.O_CCAP;
const O_CLEN = L.O_CLEN;
const O_COFF = L.O_COFF;
const O_DENSE = L.O_DENSE;
const O_FSLOT = L.O_FSLOT;
const O_LEN = L.O_LEN;
const O_LOG = L.O_LOG;
const O_MSLOT = L.O_MSLOT;
const O_REFS = L.O_REFS;
const O_RSLOT = L.O_RSLOT;
const O_STATE = L.O_STATE;
const ST_DEAD = L.ST_DEAD;
const ST_FREE = L.ST_FREE;
const ST_LIVE = L.ST_LIVE;
const SW = L.SW;
const SC_TERMINAL = SCOPE.terminal;

/**
 * Who each slot belongs to and how long it lives: (scope, name) -> slot maps, a terminal's
 * memo of its merchant, region and firmware, references from pending timers, and eviction.
 * An entity idle (no contribution) since `idleBefore` reads as absent; touching it resets it
 * (an eviction), sweep() resets every idle one, and a reset slot is reused once no timer
 * refers to it.
 */
export class Entities {
  readonly store: RecordStore;
  freeSlot = -1;
  names: (string | undefined)[] = [];
  memoM: (string | undefined)[] = [];
  memoR: (string | undefined)[] = [];
  memoF: (string | undefined)[] = [];
  readonly maps: Map<string, number>[] = [];
  fleetSlot = -1;
  /** lastActive below this is idle: watermark - idleEvictMs */
  idleBefore = Number.NEGATIVE_INFINITY;
  nEvicted = 0;
  /** firmware the terminal had before this event, if it was live (set by terminal()) */
  knownFw: string | undefined = undefined;

  constructor(store: RecordStore) {
    this.store = store;
    for (let s = 0; s < SCOPE_COUNT; s++) this.maps.push(new Map());
  }

  alloc(scope: number, name: string): number {
    const st = this.store;
    let s = this.freeSlot;
    if (s >= 0) this.freeSlot = st.si[s * SW + O_LOG]!;
    else s = st.newSlot();
    const b = s * SW;
    const si = st.si;
    si[b + O_LOG] = 0;
    si[b + O_LEN] = 0;
    si[b + O_CAP] = 0;
    si[b + O_DENSE] = -1;
    si[b + O_REFS] = 0;
    si[b + O_STATE] = ST_DEAD | (scope << 4);
    si[b + O_COFF] = 0;
    si[b + O_CLEN] = 0;
    si[b + O_CCAP] = 0;
    si[b + O_MSLOT] = -1;
    si[b + O_RSLOT] = -1;
    si[b + O_FSLOT] = -1;
    st.logOrder[s * 2] = -1;
    st.logOrder[s * 2 + 1] = 0;
    st.sf[s * 8] = Number.NEGATIVE_INFINITY;
    st.sf[s * 8 + 1] = Number.NEGATIVE_INFINITY;
    this.names[s] = name;
    this.memoM[s] = undefined;
    this.memoR[s] = undefined;
    this.memoF[s] = undefined;
    this.maps[scope]!.set(name, s);
    return s;
  }

  /** The terminal's slot; sets knownFw from its memo when it is live (not idle). */
  terminal(id: string): number {
    const t = this.maps[SC_TERMINAL]!.get(id);
    this.knownFw = undefined;
    if (t === undefined) return this.alloc(SC_TERMINAL, id);
    const st = this.store;
    if ((st.si[t * SW + O_STATE]! & 15) === ST_LIVE && st.sf[t * 8 + 1]! >= this.idleBefore) {
      this.knownFw = this.memoF[t];
    }
    return t;
  }

  /** Slot of (scope, name) via a terminal's cache word, validated by name and scope. */
  cached(word: number, scope: number, name: string): number {
    const si = this.store.si;
    const s = si[word]!;
    if (s >= 0 && this.names[s] === name && si[s * SW + O_STATE]! >> 4 === scope) return s;
    const r = this.resolve(scope, name);
    this.store.si[word] = r; // resolve may have grown the slots
    return r;
  }

  resolve(scope: number, name: string): number {
    const s = this.maps[scope]!.get(name);
    return s === undefined ? this.alloc(scope, name) : s;
  }

  /** Terminal t's merchant, region and firmware (f -1: none), as terminalInfo reports them. */
  remember(t: number, m: number, r: number, f: number): void {
    const names = this.names;
    this.memoM[t] = names[m];
    this.memoR[t] = names[r];
    this.memoF[t] = f < 0 ? undefined : names[f];
  }

  /** An event at ts for the slot: revives a dead slot, resets an idle one (an eviction). */
  touch(s: number, ts: number): void {
    const st = this.store;
    const f = s * 8;
    const sf = st.sf;
    if ((st.si[s * SW + O_STATE]! & 15) !== ST_LIVE) this.revive(s);
    else if (sf[f + 1]! < this.idleBefore) {
      this.nEvicted++;
      st.clear(s);
    }
    if (ts > sf[f]!) sf[f] = ts;
    if (ts > sf[f + 1]!) sf[f + 1] = ts;
  }

  /** A timer's record at `due` for the slot: like touch(), but lastSeen stays the event's. */
  timerTouch(s: number, due: number, rec: number, kind: number): void {
    const st = this.store;
    const f = s * 8;
    const sf = st.sf;
    const live = (st.si[s * SW + O_STATE]! & 15) === ST_LIVE;
    // as ReferenceEngine: a timer due before the idle horizon does not revive an idle entity
    if (due < this.idleBefore && (!live || sf[f + 1]! < this.idleBefore)) return;
    if (!live) this.revive(s);
    else if (sf[f + 1]! < this.idleBefore) {
      this.nEvicted++;
      st.clear(s);
    }
    if (due > sf[f + 1]!) sf[f + 1] = due;
    st.addRecord(s, rec, kind);
  }

  /** Evicts every idle entity: its storage returns to the arena, its slot to the free list. */
  sweep(): void {
    const st = this.store;
    const si = st.si;
    const sf = st.sf;
    for (let s = 0; s < st.slotTop; s++) {
      if ((si[s * SW + O_STATE]! & 15) === ST_LIVE && sf[s * 8 + 1]! < this.idleBefore) {
        this.nEvicted++;
        this.kill(s);
      }
    }
  }

  /** A pending timer counts in the slot: it stays allocated until unref(). */
  ref(s: number): void {
    this.store.si[s * SW + O_REFS]!++;
  }

  unref(s: number): void {
    const si = this.store.si;
    const b = s * SW + O_REFS;
    const refs = si[b]! - 1;
    si[b] = refs;
    if (refs === 0 && (si[s * SW + O_STATE]! & 15) === ST_DEAD) this.freeSlotAt(s);
  }

  /** The live slot of (scope, key), or -1 if absent, evicted or idle. */
  live(scope: ScopeIndex, key: string): number {
    const s = this.maps[scope]?.get(key);
    if (s === undefined) return -1;
    const st = this.store;
    if ((st.si[s * SW + O_STATE]! & 15) !== ST_LIVE) return -1;
    return st.sf[s * 8 + 1]! < this.idleBefore ? -1 : s;
  }

  touchedSince(scope: ScopeIndex, sinceMs: number): string[] {
    const out: string[] = [];
    const map = this.maps[scope];
    if (!map) return out;
    const st = this.store;
    const idleBefore = this.idleBefore;
    // forEach, not `for (const [k, s] of map)`: on this V8 that allocates an entry array per key
    // (64 B; measured with alloc-meter), and this walks every key of a scope at every pane close
    map.forEach((s, k) => {
      if ((st.si[s * SW + O_STATE]! & 15) !== ST_LIVE) return;
      const la = st.sf[s * 8 + 1]!;
      if (la >= idleBefore && la >= sinceMs) out.push(k);
    });
    return out.sort();
  }

  /** Live entities gone idle that no sweep has reset yet (counters() counts them evicted). */
  idleCount(): number {
    const st = this.store;
    let idle = 0;
    for (let s = 0; s < st.slotTop; s++) {
      if ((st.si[s * SW + O_STATE]! & 15) === ST_LIVE && st.sf[s * 8 + 1]! < this.idleBefore) {
        idle++;
      }
    }
    return idle;
  }

  layoutStats(): { slots: number; live: number; dense: number; arenaWords: number } {
    const st = this.store;
    let live = 0;
    let dense = 0;
    for (let s = 0; s < st.slotTop; s++) {
      if ((st.si[s * SW + O_STATE]! & 15) === ST_LIVE) live++;
      if (st.si[s * SW + O_DENSE]! >= 0) dense++;
    }
    return { slots: st.slotTop, live, dense, arenaWords: st.arenaTop };
  }

  private revive(s: number): void {
    this.store.clear(s);
    const si = this.store.si;
    const b = s * SW + O_STATE;
    si[b] = (si[b]! & ~15) | ST_LIVE;
  }

  /** Evicted: data dropped; the slot itself goes once no timer refers to it. */
  private kill(s: number): void {
    this.store.clear(s);
    const si = this.store.si;
    const b = s * SW;
    si[b + O_STATE] = (si[b + O_STATE]! & ~15) | ST_DEAD;
    if (si[b + O_REFS] === 0) this.freeSlotAt(s);
  }

  private freeSlotAt(s: number): void {
    const si = this.store.si;
    const b = s * SW;
    const scope = si[b + O_STATE]! >> 4;
    this.maps[scope]!.delete(this.names[s]!);
    this.names[s] = undefined;
    this.memoM[s] = undefined;
    this.memoR[s] = undefined;
    this.memoF[s] = undefined;
    si[b + O_STATE] = ST_FREE;
    si[b + O_LOG] = this.freeSlot;
    this.freeSlot = s;
  }
}
