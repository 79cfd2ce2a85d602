import { METRIC_COUNT, type ScopeName } from '@tillwatch/core';
import { HourlyProfile, type BaselineStore } from './baseline';
import { SLOTS } from './calendar';
import type { EpisodeBook, EpisodeMemory } from './episodes';
import type { RegionVolume } from './rules';
import { FailureRing, type NotedSilence, type TerminalState, type Tracker } from './tracker';

/**
 * Rules memory: what the rules have learnt over days and cannot rebuild from the last hour of
 * events: every terminal's calendar profile and last activity, the regions' volume profiles,
 * the per-key baselines and (rollup side) the silences the sources reported. It is taken at
 * an hour boundary of event time `at` (every stage takes one at every hour boundary, in every
 * driver, so the drivers stay alike) and restored before a replay that starts before `at`:
 * the replay then learns nothing from events before `at` (they are in the memory) and
 * everything after, as an uninterrupted run would have, and the rules judge nothing before
 * `at` (the windows are still filling): the open episodes are in the memory. What the replayed
 * hour rebuilds — windows, failure rings, timeouts awaiting reversal — is not in it.
 */

export const MEMORY_VERSION = 1;

export interface TerminalMemory {
  id: string;
  merchantId: string;
  region: string;
  firmware?: string;
  network?: string;
  lastBeat?: number;
  firstSeen: number;
  lastSeen: number;
  activeSince: number;
  recentRate: number;
  recentSales?: number;
  lastSale?: number;
  goneAt?: number;
  closedAt?: number;
  /** Float32Array(SLOTS) and Uint8Array(SLOTS), base64 */
  profile: string;
  profileDays: string;
}

export interface ProfileMemory {
  level: string;
  days: string;
  recent: number;
  recentWeight: number;
  bucket: number;
  bucketSum: number;
  bucketSlots: number;
}

export interface RulesMemory {
  v: typeof MEMORY_VERSION;
  /** event time the memory is whole up to (an hour boundary) */
  at: number;
  terminals: TerminalMemory[];
  regions: {
    region: string;
    auths: ProfileMemory;
    heartbeats: ProfileMemory;
    /** DayFloor: epoch hour and fewest events a slot, per hour of the day; slots pending */
    floor?: { hours: number[]; mins: number[]; pending: [number, number][] };
    activeAt?: number;
    quietSince?: number;
  }[];
  /** scope -> [key, decayed sums (base64 Float64Array), weight, at] */
  baselines: Partial<Record<ScopeName, [string, string, number, number][]>>;
  silences: NotedSilence[];
  /** open episodes (and recent resolves): an alert open across a restart keeps its id */
  episodes: EpisodeMemory;
}

const b64 = (a: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function fromB64<T extends Float32Array | Float64Array | Uint8Array>(
  s: string,
  make: new (n: number) => T,
  n: number,
): T {
  const out = new make(n);
  const bytes = Buffer.from(s, 'base64');
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.byteLength));
  return out;
}

function profileMemory(p: HourlyProfile): ProfileMemory {
  return {
    level: b64(p.level),
    days: b64(p.days),
    recent: p.recent,
    recentWeight: p.recentWeight,
    bucket: p.bucket,
    bucketSum: p.bucketSum,
    bucketSlots: p.bucketSlots,
  };
}

function restoreProfile(p: HourlyProfile, m: ProfileMemory): void {
  p.level.set(fromB64(m.level, Float64Array, SLOTS));
  p.days.set(fromB64(m.days, Uint8Array, SLOTS));
  p.recent = m.recent;
  p.recentWeight = m.recentWeight;
  p.bucket = m.bucket;
  p.bucketSum = m.bucketSum;
  p.bucketSlots = m.bucketSlots;
}

export interface MemoryParts {
  tracker: Tracker;
  episodes: EpisodeBook;
  regionVolume: Map<string, RegionVolume>;
  baselines: Record<ScopeName, BaselineStore>;
  /** a new region's volume profiles (the monitor's slot length and calendar) */
  newVolume(region: string): RegionVolume;
}

export function exportMemory(parts: MemoryParts, at: number): RulesMemory {
  const { tracker } = parts;
  const terminals: TerminalMemory[] = [];
  for (const t of [...tracker.terminals.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const m: TerminalMemory = {
      id: t.id,
      merchantId: t.merchantId,
      region: t.region,
      firstSeen: t.firstSeen,
      lastSeen: t.lastSeen,
      activeSince: t.activeSince,
      recentRate: t.recentRate,
      profile: b64(t.profile),
      profileDays: b64(t.profileDays),
    };
    if (t.firmware !== undefined) m.firmware = t.firmware;
    if (t.network !== undefined) m.network = t.network;
    if (t.lastBeat !== undefined) m.lastBeat = t.lastBeat;
    if (t.goneAt !== undefined) m.goneAt = t.goneAt;
    if (t.closedAt !== undefined) m.closedAt = t.closedAt;
    m.recentSales = t.recentSales;
    if (Number.isFinite(t.lastSale)) m.lastSale = t.lastSale;
    terminals.push(m);
  }
  const regions = [...parts.regionVolume]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([region, v]) => ({
      region,
      auths: profileMemory(v.auths),
      heartbeats: profileMemory(v.heartbeats),
      floor: {
        hours: [...v.floor.hours],
        mins: [...v.floor.mins],
        pending: v.floor.pending.map(([e, c]) => [e, c] as [number, number]),
      },
      ...(v.activeAt !== undefined ? { activeAt: v.activeAt } : {}),
      ...(v.quietSince !== undefined ? { quietSince: v.quietSince } : {}),
    }));
  const baselines: RulesMemory['baselines'] = {};
  for (const [scope, store] of Object.entries(parts.baselines) as [ScopeName, BaselineStore][]) {
    const list = store.list();
    if (list.length) baselines[scope] = list.map(([k, e]) => [k, b64(e.sums), e.weight, e.at]);
  }
  const silences = [...tracker.silences.values()].sort((a, b) =>
    a.terminalId < b.terminalId ? -1 : 1,
  );
  const episodes = parts.episodes.save();
  return { v: MEMORY_VERSION, at, terminals, regions, baselines, silences, episodes };
}

export function importMemory(parts: MemoryParts, mem: RulesMemory): void {
  if (mem.v !== MEMORY_VERSION)
    throw new Error(`rules memory version ${mem.v} is not ${MEMORY_VERSION}`);
  const { tracker } = parts;
  const HOUR = 3_600_000;
  for (const m of mem.terminals) {
    const t: TerminalState = {
      id: m.id,
      merchantId: m.merchantId,
      region: m.region,
      firstSeen: m.firstSeen,
      lastSeen: m.lastSeen,
      activeSince: m.activeSince,
      recentRate: m.recentRate,
      recentSales: m.recentSales ?? 0,
      lastSale: m.lastSale ?? Number.NEGATIVE_INFINITY,
      profile: fromB64(m.profile, Float32Array, SLOTS),
      profileDays: fromB64(m.profileDays, Uint8Array, SLOTS),
      // the hour that starts at `at` is the first one still to learn
      bucket: Math.floor(mem.at / HOUR),
      bucketCount: 0,
      failures: new FailureRing(tracker.failureRing),
      silent: false,
    };
    if (m.firmware !== undefined) t.firmware = m.firmware;
    if (m.network !== undefined) t.network = m.network;
    if (m.lastBeat !== undefined) t.lastBeat = m.lastBeat;
    if (m.goneAt !== undefined) t.goneAt = m.goneAt;
    if (m.closedAt !== undefined) t.closedAt = m.closedAt;
    tracker.adopt(t);
  }
  for (const r of mem.regions) {
    const v = parts.newVolume(r.region);
    restoreProfile(v.auths, r.auths);
    restoreProfile(v.heartbeats, r.heartbeats);
    if (r.floor) {
      v.floor.hours.set(r.floor.hours);
      v.floor.mins.set(r.floor.mins);
      v.floor.pending = r.floor.pending.map(([e, c]) => [e, c]);
    }
    if (r.activeAt !== undefined) v.activeAt = r.activeAt;
    if (r.quietSince !== undefined) v.quietSince = r.quietSince;
    parts.regionVolume.set(r.region, v);
  }
  for (const [scope, list] of Object.entries(mem.baselines) as [
    ScopeName,
    [string, string, number, number][],
  ][]) {
    for (const [key, sums, weight, at] of list) {
      parts.baselines[scope].restore(key, {
        sums: fromB64(sums, Float64Array, METRIC_COUNT),
        weight,
        at,
      });
    }
  }
  for (const q of mem.silences) tracker.silences.set(q.terminalId, { ...q });
  parts.episodes.load(mem.episodes);
  tracker.learnFrom = mem.at;
}
