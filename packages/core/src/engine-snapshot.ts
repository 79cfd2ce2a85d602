/**
 * Engine snapshot format: a version byte, a JSON header (config, scalars, names) and the typed
 * arrays verbatim (used part only), in the container of snapshot-codec.ts. The header's keys
 * and the parts' order are the format: a restored engine reads and continues exactly as the
 * original would, and the same state always gives the same bytes.
 */
import { resolveConfig } from './config';
import type { DedupWindow } from './dedup';
import type { DensePanes } from './dense-panes';
import type { Entities } from './entities';
import { EngineError } from './engine-error';
import { O_STATE, ST_FREE, SW, TS } from './engine-layout';
import type { PaneClock } from './pane-clock';
import type { RecordStore } from './record-store';
import { decodeSnapshot, encodeSnapshot, type SnapshotParts } from './snapshot-codec';
import type { TimerTable } from './timer-table';
import type { EngineConfig } from './types';

/** 2: 2-byte records (relBits) and an arena without free lists */
export const SNAPSHOT_VERSION = 2;

/** The engine's state holders, as Engine wires them. */
export interface EngineParts {
  readonly clock: PaneClock;
  readonly store: RecordStore;
  readonly dense: DensePanes;
  readonly ents: Entities;
  readonly timers: TimerTable;
  readonly dedup: DedupWindow;
}

/** The scalars Engine keeps itself. */
export interface EngineScalars {
  wm: number;
  nextSweep: number;
  accepted: number;
  duplicates: number;
  late: number;
}

export interface OpenedSnapshot {
  /** the saved config with the caller's overrides */
  cfg: EngineConfig;
  header: SnapshotHeader;
  parts: Partial<SnapshotParts>;
}

interface SnapshotHeader {
  config: Omit<EngineConfig, 'codeCategories'> & { codeCategories: [string, number][] };
  promoteAt: number;
  relBits: number;
  wm: number | string;
  wmTick: number | string;
  minStartTick: number | string;
  base: number;
  hasBase: boolean;
  nextSweep: number | string;
  hasHead: boolean;
  headPane: number[];
  headSlot: number[];
  counts: number[];
  slotTop: number;
  slotBytes: number;
  freeSlot: number;
  names: (string | null)[];
  memoM: (string | null)[];
  memoR: (string | null)[];
  memoF: (string | null)[];
  fleetSlot: number;
  arenaTop: number;
  arenaLen: number;
  denseTop: number;
  denseCap: number;
  denseFree: number[];
  tTop: number;
  tCap: number;
  tFree: number;
  tCount: number;
  queues: { head: number; len: number }[];
  heapLen: number;
  dedup: { count: number; head: number; ring: number };
  /** the timers' unsettled log (unsettled-log.ts); absent in snapshots taken before it */
  unsettled?: { due: number[]; names: (string | null)[] };
}

export function writeSnapshot(
  c: EngineConfig,
  promoteAt: number,
  relBits: number,
  sc: EngineScalars,
  p: EngineParts,
): Uint8Array {
  const { clock, store, dense, ents, timers: t, dedup } = p;
  const top = store.slotTop;
  const header: SnapshotHeader = {
    config: {
      windowsMs: [...c.windowsMs],
      panesMs: [...c.panesMs],
      allowedLatenessMs: c.allowedLatenessMs,
      settlementDeadlineMs: c.settlementDeadlineMs,
      reversalGraceMs: c.reversalGraceMs,
      dedupCapacity: c.dedupCapacity,
      idleEvictMs: c.idleEvictMs,
      smallAmount: c.smallAmount,
      codeCategories: [...c.codeCategories],
      inputErrorCodes: [...c.inputErrorCodes],
    },
    promoteAt,
    relBits,
    wm: num(sc.wm),
    wmTick: num(clock.wmTick),
    minStartTick: num(clock.minStartTick),
    base: clock.base,
    hasBase: clock.hasBase,
    nextSweep: num(sc.nextSweep),
    hasHead: clock.hasHead,
    headPane: [...clock.headPane],
    headSlot: [...clock.headSlot],
    counts: [sc.accepted, sc.duplicates, sc.late, ents.nEvicted, t.nSettle, t.nReverse],
    slotTop: top,
    slotBytes: store.slotBuf.byteLength,
    freeSlot: ents.freeSlot,
    names: ents.names.slice(0, top).map((x) => x ?? null),
    memoM: ents.memoM.slice(0, top).map((x) => x ?? null),
    memoR: ents.memoR.slice(0, top).map((x) => x ?? null),
    memoF: ents.memoF.slice(0, top).map((x) => x ?? null),
    fleetSlot: ents.fleetSlot,
    arenaTop: store.arenaTop,
    arenaLen: store.arena.length,
    denseTop: dense.denseTop,
    denseCap: dense.dense.length / Math.max(1, clock.blockWords),
    denseFree: dense.denseFree,
    tTop: t.tTop,
    tCap: t.tH1.length,
    tFree: t.tFree,
    tCount: t.tCount,
    queues: [t.settleQ, t.reverseQ].map((q) => ({ head: q.head, len: q.len })),
    heapLen: t.dueHeap.len,
    dedup: { count: dedup.count, head: dedup.head, ring: dedup.ringLo.length },
    unsettled: t.unsettled.save(),
  };
  const parts: SnapshotParts = {
    slots: new Int32Array(store.slotBuf, 0, top * SW),
    arena: store.arena.subarray(0, store.arenaTop),
    dense: dense.dense.subarray(0, dense.denseTop * clock.blockWords),
    denseHi: dense.denseHi.subarray(0, dense.denseTop * clock.nW),
    tH1: t.tH1.subarray(0, t.tTop),
    tH2: t.tH2.subarray(0, t.tTop),
    tDue: t.tDue.subarray(0, t.tTop),
    tMeta: t.tMeta.subarray(0, t.tTop),
    tGen: t.tGen.subarray(0, t.tTop),
    tSlots: t.tSlots.subarray(0, t.tTop * TS),
    tTable: t.tTable,
    sqIdx: t.settleQ.idx,
    sqGen: t.settleQ.gen,
    rqIdx: t.reverseQ.idx,
    rqGen: t.reverseQ.gen,
    hDue: t.dueHeap.due,
    hIdx: t.dueHeap.idx,
    hGen: t.dueHeap.gen,
    ddLo: dedup.ringLo.subarray(0, dedup.count),
    ddHi: dedup.ringHi.subarray(0, dedup.count),
    ddTable: dedup.table,
  };
  return encodeSnapshot(SNAPSHOT_VERSION, header, parts);
}

/**
 * Decodes and checks a snapshot. `config`, when given, must describe the same layout
 * (windows, panes, lateness, dedup capacity); it may change the rest.
 */
export function openSnapshot(bytes: Uint8Array, config?: Partial<EngineConfig>): OpenedSnapshot {
  const { version, header, parts } = decodeSnapshot(bytes);
  if (version !== SNAPSHOT_VERSION) {
    throw new EngineError(
      'TW_ENGINE_SNAPSHOT_VERSION',
      `engine snapshot version ${version} is not supported (expected ${SNAPSHOT_VERSION}); replay from the source instead`,
    );
  }
  const h = header as unknown as SnapshotHeader;
  const saved: EngineConfig = {
    ...h.config,
    codeCategories: new Map(h.config.codeCategories),
  };
  const cfg = resolveConfig({ ...saved, ...(config ?? {}) });
  for (const k of ['windowsMs', 'panesMs', 'allowedLatenessMs', 'dedupCapacity'] as const) {
    if (JSON.stringify(cfg[k]) !== JSON.stringify(saved[k])) {
      throw new EngineError(
        'TW_ENGINE_SNAPSHOT_CONFIG',
        `engine snapshot was taken with ${k}=${JSON.stringify(saved[k])}; restoring with ${JSON.stringify(cfg[k])} would misread its panes`,
      );
    }
  }
  return { cfg, header: h, parts };
}

/** Puts the snapshot's state into freshly built parts (of an Engine built with snap.cfg). */
export function loadSnapshot(snap: OpenedSnapshot, p: EngineParts): EngineScalars {
  const { header: h, parts } = snap;
  const { clock, store, dense, ents, timers: t, dedup: dd } = p;
  const wm = den(h.wm);
  ents.idleBefore = wm - snap.cfg.idleEvictMs;
  clock.wmTick = den(h.wmTick);
  clock.minStartTick = den(h.minStartTick);
  clock.base = h.base;
  clock.hasBase = h.hasBase;
  clock.hasHead = h.hasHead;
  clock.headPane.set(h.headPane);
  clock.headSlot.set(h.headSlot);
  const [accepted, duplicates, late, evicted, settle, reverse] = h.counts as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  ents.nEvicted = evicted;
  t.nSettle = settle;
  t.nReverse = reverse;

  store.slotBuf = new ArrayBuffer(h.slotBytes);
  store.si = new Int32Array(store.slotBuf);
  store.sf = new Float64Array(store.slotBuf);
  store.si.set(parts.slots!);
  store.slotTop = h.slotTop;
  ents.freeSlot = h.freeSlot;
  ents.names = h.names.map((x) => x ?? undefined);
  ents.memoM = h.memoM.map((x) => x ?? undefined);
  ents.memoR = h.memoR.map((x) => x ?? undefined);
  ents.memoF = h.memoF.map((x) => x ?? undefined);
  for (const m of ents.maps) m.clear();
  for (let s = 0; s < store.slotTop; s++) {
    const st = store.si[s * SW + O_STATE]!;
    if ((st & 15) !== ST_FREE) ents.maps[st >> 4]!.set(ents.names[s]!, s);
  }
  ents.fleetSlot = h.fleetSlot;
  store.arena =
    parts.arena instanceof Uint16Array ? new Uint16Array(h.arenaLen) : new Int32Array(h.arenaLen);
  store.arena.set(parts.arena!);
  store.arenaTop = h.arenaTop;
  // not in the snapshot (its format stays): measured again from the restored logs
  store.logOrder = new Int32Array((h.slotBytes / (SW * 4)) * 2);
  for (let s = 0; s < store.slotTop; s++) store.measureLogOrder(s);

  dense.dense = new Int32Array(h.denseCap * clock.blockWords);
  dense.dense.set(parts.dense!);
  dense.denseHi = new Float64Array(h.denseCap * clock.nW);
  dense.denseHi.set(parts.denseHi! as Float64Array);
  dense.denseTop = h.denseTop;
  dense.denseFree = [...h.denseFree];

  const tc = h.tCap;
  t.tH1 = withData(new Int32Array(tc), parts.tH1!);
  t.tH2 = withData(new Int32Array(tc), parts.tH2!);
  t.tDue = withData(new Float64Array(tc), parts.tDue!);
  t.tMeta = withData(new Int32Array(tc), parts.tMeta!);
  t.tGen = withData(new Int32Array(tc), parts.tGen!);
  t.tSlots = withData(new Int32Array(tc * TS), parts.tSlots!);
  t.tTable = Int32Array.from(parts.tTable! as Int32Array);
  t.tMask = t.tTable.length - 1;
  t.tTop = h.tTop;
  t.tFree = h.tFree;
  t.tCount = h.tCount;
  const qs = [t.settleQ, t.reverseQ];
  const qp = [
    [parts.sqIdx, parts.sqGen],
    [parts.rqIdx, parts.rqGen],
  ];
  for (let k = 0; k < 2; k++) {
    const q = qs[k]!;
    const [idx, gen] = qp[k]!;
    q.idx = Int32Array.from(idx! as Int32Array);
    q.gen = Int32Array.from(gen! as Int32Array);
    q.head = h.queues[k]!.head;
    q.len = h.queues[k]!.len;
  }
  t.dueHeap.due = Float64Array.from(parts.hDue! as Float64Array);
  t.dueHeap.idx = Int32Array.from(parts.hIdx! as Int32Array);
  t.dueHeap.gen = Int32Array.from(parts.hGen! as Int32Array);
  t.dueHeap.len = h.heapLen;
  // (a snapshot from before the log: unsettledSince lists every key until the horizon passes)
  t.unsettled.load(h.unsettled, wm);

  dd.ringLo = withData(new Int32Array(h.dedup.ring), parts.ddLo!);
  dd.ringHi = withData(new Int32Array(h.dedup.ring), parts.ddHi!);
  dd.table = Int32Array.from(parts.ddTable! as Int32Array);
  dd.mask = dd.table.length - 1;
  dd.count = h.dedup.count;
  dd.head = h.dedup.head;

  return { wm, nextSweep: den(h.nextSweep), accepted, duplicates, late };
}

/** JSON has no infinities or NaN: encode them as strings. */
function num(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}
function den(x: number | string): number {
  return typeof x === 'number' ? x : Number(x);
}

function withData<T extends Int32Array | Float64Array>(target: T, data: ArrayLike<number>): T {
  target.set(data);
  return target;
}
