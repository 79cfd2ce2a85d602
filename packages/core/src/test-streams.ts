/**
 * Test-only: fast-check arbitraries for small engine configs and random event streams, and a
 * full-state comparison of two engines. Shared by the property and snapshot tests.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import {
  M,
  METRIC_COUNT,
  SCOPE,
  SCOPE_NAMES,
  type EngineConfig,
  type EngineEvent,
  type ScopeIndex,
  type WindowEngine,
} from './types';

export interface Case {
  config: Partial<EngineConfig>;
  promoteAt: number;
  /** record tick bits (EngineTuning.relBits): 8 rebases often, 12 is the 4-byte layout */
  relBits: number;
  ops: Op[];
}
export type Op =
  { op: 'ev'; ev: EngineEvent } | { op: 'dup'; back: number } | { op: 'adv'; dt: number };

const T0 = 1_767_225_600_000;
const CODES = [
  '00',
  '00',
  '00',
  '00',
  '08',
  '51',
  '55',
  '14',
  '05',
  '91',
  '13',
  '30',
  'TO',
  'TO',
  '04',
  'ZZ',
  'X',
];
const REASONS = ['timeout', 'customer_cancel', 'terminal_error', 'host_error', 'other'];

export const configArb = fc
  .record({
    unit: fc.constantFrom(1, 2, 5),
    wins: fc.array(
      fc.record({ mult: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 6 }) }),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
    lateness: fc.constantFrom(0, 1, 3, 7, 20),
    deadline: fc.constantFrom(1, 5, 30, 100),
    grace: fc.constantFrom(1, 5, 15, 60),
    dedup: fc.constantFrom(1, 2, 3, 5, 1000),
    idleExtra: fc.constantFrom(0, 5, 40),
    small: fc.constantFrom(0, 100),
    promoteAt: fc.constantFrom(1, 3, 8, 100_000),
    relBits: fc.constantFrom(8, 10, 12),
  })
  .map(({ unit, wins, lateness, deadline, grace, dedup, idleExtra, small, promoteAt, relBits }) => {
    const panesMs = wins.map((w) => unit * w.mult);
    const windowsMs = wins.map((w, i) => panesMs[i]! * w.k);
    const config: Partial<EngineConfig> = {
      windowsMs,
      panesMs,
      allowedLatenessMs: lateness,
      settlementDeadlineMs: deadline,
      reversalGraceMs: grace,
      dedupCapacity: dedup,
      idleEvictMs: Math.max(...windowsMs) + idleExtra,
      smallAmount: small,
    };
    return { config, promoteAt, relBits };
  });

const evArb = fc.record({
  type: fc.constantFrom('auth', 'auth', 'auth', 'auth', 'reversal', 'settlement', 'heartbeat'),
  term: fc.integer({ min: 0, max: 4 }),
  moveMerchant: fc.integer({ min: 0, max: 9 }),
  region: fc.integer({ min: 0, max: 2 }),
  fw: fc.option(fc.integer({ min: 0, max: 2 }), { freq: 2 }),
  issuer: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 2 }),
  code: fc.constantFrom(...CODES),
  txn: fc.integer({ min: 0, max: 7 }),
  amount: fc.constantFrom(0, 50, 100, 101, 5000),
  card: fc.option(fc.integer({ min: 0, max: 5 }), { freq: 4, nil: null }),
  reason: fc.constantFrom(...REASONS),
  revStatus: fc.constantFrom('succeeded', 'succeeded', 'failed'),
  setStatus: fc.constantFrom('settled', 'settled', 'rejected'),
  reuseId: fc.integer({ min: 0, max: 19 }),
  dt: fc.oneof(
    { weight: 10, arbitrary: fc.integer({ min: 0, max: 4 }) },
    { weight: 4, arbitrary: fc.integer({ min: -12, max: -1 }) },
    { weight: 1, arbitrary: fc.integer({ min: -30, max: -13 }) },
    { weight: 1, arbitrary: fc.integer({ min: 20, max: 400 }) },
  ),
});

type RawEv = typeof evArb extends fc.Arbitrary<infer T> ? T : never;

const rawOpArb = fc.oneof(
  { weight: 14, arbitrary: evArb.map((e) => ({ op: 'ev' as const, e })) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 0, max: 10 }).map((back) => ({ op: 'dup' as const, back })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 50, max: 500 }))
      .map((dt) => ({ op: 'adv' as const, dt })),
  },
);

/** Turns raw draws into a stream with a moving clock: out of order, late, with idle gaps. */
function build(raw: ReturnType<typeof rawOpArb.generate>['value'][]): Op[] {
  let now = T0;
  let n = 0;
  return raw.map((r): Op => {
    if (r.op !== 'ev') return r;
    const e: RawEv = r.e;
    const ts = Math.max(0, now + e.dt);
    if (ts > now) now = ts;
    n++;
    const eventId = e.reuseId === 0 ? `reused-${e.txn}` : `e${n}`;
    const base = {
      eventId,
      ts,
      terminalId: `T${e.term}`,
      merchantId: `M${e.moveMerchant === 0 ? (e.term + 1) % 3 : e.term % 3}`,
      region: `R${e.moveMerchant === 1 ? e.region : e.term % 2}`,
    };
    let ev: EngineEvent;
    switch (e.type) {
      case 'auth':
        ev = {
          type: 'auth',
          ...base,
          txnId: `x${e.txn}`,
          amount: e.amount,
          responseCode: e.code,
          ...(e.fw !== null ? { firmware: `fw${e.fw}` } : {}),
          ...(e.issuer !== null ? { issuerId: `I${e.issuer}` } : {}),
          ...(e.card !== null ? { cardFingerprint: `c${e.card}` } : {}),
        };
        break;
      case 'reversal':
        ev = {
          type: 'reversal',
          ...base,
          txnId: `x${e.txn}`,
          reason: e.reason,
          status: e.revStatus,
        };
        break;
      case 'settlement':
        ev = {
          type: 'settlement',
          ...base,
          txnId: `x${e.txn}`,
          amount: e.amount,
          status: e.setStatus,
        };
        break;
      default:
        ev = { type: 'heartbeat', ...base, ...(e.fw !== null ? { firmware: `fw${e.fw}` } : {}) };
    }
    return { op: 'ev', ev };
  });
}

export function caseArb(maxOps: number): fc.Arbitrary<Case> {
  return fc
    .tuple(configArb, fc.array(rawOpArb, { minLength: Math.min(maxOps, 10), maxLength: maxOps }))
    .map(([{ config, promoteAt, relBits }, raw]) => ({
      config,
      promoteAt,
      relBits,
      ops: build(raw),
    }));
}

/**
 * Long streams of events only, 0-8 ms apart (no idle gaps, no watermark jumps): time runs
 * through many record-tick ranges with every entity's log still in its windows, so 8-bit
 * record ticks rebase (and repack) the logs several times a case.
 */
export function steadyCaseArb(minOps: number, maxOps: number): fc.Arbitrary<Case> {
  const steady = fc
    .tuple(evArb, fc.integer({ min: 0, max: 8 }))
    .map(([e, dt]) => ({ op: 'ev' as const, e: { ...e, dt } }));
  return fc
    .tuple(configArb, fc.array(steady, { minLength: minOps, maxLength: maxOps }))
    .map(([{ config, promoteAt }, raw]) => ({ config, promoteAt, relBits: 8, ops: build(raw) }));
}

/** Applies one op to both engines and returns each outcome (for equality checks). */
export function applyOp(op: Op, engines: WindowEngine[], history: EngineEvent[]): unknown[] {
  switch (op.op) {
    case 'ev':
      history.push(op.ev);
      return engines.map((e) => e.ingest(op.ev));
    case 'dup': {
      const ev = history[history.length - 1 - op.back];
      if (!ev) return [];
      return engines.map((e) => e.ingest({ ...ev }));
    }
    case 'adv': {
      const to = engines[0]!.watermark + op.dt;
      for (const e of engines) e.advance(Number.isFinite(to) ? to : T0 + op.dt);
      return [];
    }
  }
}

const KEY_POOL: Record<string, string[]> = {
  terminal: ['T0', 'T1', 'T2', 'T3', 'T4', 'T9'],
  merchant: ['M0', 'M1', 'M2', 'M9'],
  region: ['R0', 'R1', 'R2'],
  firmware: ['fw0', 'fw1', 'fw2'],
  issuer: ['I0', 'I1', 'I2', 'I3'],
  fleet: ['*'],
};

/** Every observable of `b` equals `a`'s (a is the oracle). */
export function expectSameState(a: WindowEngine, b: WindowEngine): void {
  expect(b.watermark).toBe(a.watermark);
  expect(b.counters()).toEqual(a.counters());
  const oa = new Float64Array(METRIC_COUNT);
  const ob = new Float64Array(METRIC_COUNT);
  const nW = a.config.windowsMs.length;
  SCOPE_NAMES.forEach((name, scope) => {
    const s = scope as ScopeIndex;
    expect(b.keys(s)).toEqual(a.keys(s));
    expect(b.touchedSince(s, a.watermark - 3)).toEqual(a.touchedSince(s, a.watermark - 3));
    for (const key of KEY_POOL[name]!) {
      expect(b.lastSeen(s, key)).toBe(a.lastSeen(s, key));
      for (let w = 0; w < nW; w++) {
        const ra = a.read(s, key, w, oa);
        const rb = b.read(s, key, w, ob);
        expect(rb).toBe(ra);
        if (ra) expect([key, w, Array.from(ob)]).toEqual([key, w, Array.from(oa)]);
        if (s === SCOPE.terminal || s === SCOPE.merchant) {
          expect(b.distinctDeclinedCards(s, key, w)).toBe(a.distinctDeclinedCards(s, key, w));
        }
      }
    }
  });
  for (const t of KEY_POOL.terminal!) expect(b.terminalInfo(t)).toEqual(a.terminalInfo(t));
  expectUnsettledListed(a);
  expectUnsettledListed(b);
  if (a.unsettledSince && b.unsettledSince) {
    for (let s = 0; s < SCOPE_NAMES.length; s++) {
      const since = readsStart(a);
      expect(b.unsettledSince(s as ScopeIndex, since)).toEqual(
        a.unsettledSince(s as ScopeIndex, since),
      );
    }
  }
}

/** where the earliest window read starts now (end = floor(watermark / pane) * pane) */
function readsStart(e: WindowEngine): number {
  const { windowsMs, panesMs } = e.config;
  let start = Number.POSITIVE_INFINITY;
  windowsMs.forEach((w, i) => {
    const p = panesMs[i]!;
    start = Math.min(start, Math.floor(e.watermark / p) * p - w);
  });
  return start;
}

/** unsettledSince lists, asked from where the reads start, every key a read counts unsettled in */
function expectUnsettledListed(e: WindowEngine): void {
  if (!e.unsettledSince || !Number.isFinite(e.watermark)) return;
  const out = new Float64Array(METRIC_COUNT);
  const since = readsStart(e);
  SCOPE_NAMES.forEach((name, scope) => {
    const s = scope as ScopeIndex;
    const listed = new Set(e.unsettledSince!(s, since));
    for (const key of KEY_POOL[name]!) {
      for (let w = 0; w < e.config.windowsMs.length; w++) {
        if (e.read(s, key, w, out) && out[M.unsettled]! > 0) {
          expect([name, key, w, listed.has(key)]).toEqual([name, key, w, true]);
        }
      }
    }
  });
}
