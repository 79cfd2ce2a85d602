import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine';
import { ReferenceEngine } from './reference';
import { applyOp, caseArb, expectSameState, steadyCaseArb } from './test-streams';
import { SCOPE_COUNT, type EngineEvent, type ScopeIndex } from './types';

/**
 * The fast engine against the executable definition. Streams are out of order, late,
 * duplicated (same id, and reused ids with other content), with reversals, settlements,
 * heartbeats, firmware and merchant moves, idle gaps that evict, explicit watermark advances,
 * and small configs: tiny dedup windows, 1 ms deadlines, promotion to dense panes after 1-8
 * records, 2-byte records with a rebase (and repack) every few hundred ticks or 4-byte ones. Card counts are exact here (32-bit hashes of six fingerprints do not collide).
 */
const RUNS = 1000;

describe('Engine equals ReferenceEngine', () => {
  it('on every read, key, counter and outcome of random streams', () => {
    fc.assert(
      fc.property(caseArb(60), ({ config, promoteAt, relBits, ops }) => {
        const ref = new ReferenceEngine(config);
        const fast = new Engine(config, { promoteAt, relBits });
        const history: EngineEvent[] = [];
        ops.forEach((op, i) => {
          const [a, b] = applyOp(op, [ref, fast], history);
          expect(b).toBe(a);
          expect(fast.counters()).toEqual(ref.counters());
          if (i % 9 === 8) expectSameState(ref, fast);
        });
        expectSameState(ref, fast);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('Engine equals ReferenceEngine through rebases', () => {
  it('on long steady streams whose logs are shifted and repacked while their windows read them', () => {
    fc.assert(
      fc.property(steadyCaseArb(200, 400), ({ config, promoteAt, relBits, ops }) => {
        const ref = new ReferenceEngine(config);
        const fast = new Engine(config, { promoteAt, relBits });
        const history: EngineEvent[] = [];
        ops.forEach((op, i) => {
          const [a, b] = applyOp(op, [ref, fast], history);
          expect(b).toBe(a);
          if (i % 20 === 19) expectSameState(ref, fast);
        });
        expectSameState(ref, fast);
      }),
      { numRuns: 150 },
    );
  });
});

describe('touchedSince asked as pane closes ask', () => {
  it('equals the reference asked in time order, now and then earlier, at random ops', () => {
    fc.assert(
      fc.property(
        caseArb(80),
        fc.array(fc.integer({ min: -20, max: 40 }), { minLength: 1, maxLength: 80 }),
        ({ config, promoteAt, relBits, ops }, lags) => {
          const ref = new ReferenceEngine(config);
          const fast = new Engine(config, { promoteAt, relBits });
          const history: EngineEvent[] = [];
          let since = Number.NEGATIVE_INFINITY;
          ops.forEach((op, i) => {
            applyOp(op, [ref, fast], history);
            // a pane close's ask: the watermark less a lag, never before the last ask; a negative
            // draw asks further back (not after every op: between asks come idle gaps,
            // evictions and slots reused by other scopes)
            const lag = lags[i % lags.length]!;
            if (lag % 3 !== 0) return;
            const at = Number.isFinite(ref.watermark) ? ref.watermark - Math.abs(lag) : -1e15;
            const ask = lag < 0 ? at - 30 : Math.max(since, at);
            if (lag >= 0) since = ask;
            for (let s = 0; s < SCOPE_COUNT; s++) {
              const scope = s as ScopeIndex;
              expect(fast.touchedSince(scope, ask)).toEqual(ref.touchedSince(scope, ask));
            }
          });
          expectSameState(ref, fast);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('snapshot', () => {
  it('snapshot -> restore -> continue equals the uninterrupted engine', () => {
    fc.assert(
      fc.property(caseArb(50), fc.nat(), ({ config, promoteAt, relBits, ops }, cut) => {
        const k = cut % (ops.length + 1);
        const whole = new Engine(config, { promoteAt, relBits });
        const first = new Engine(config, { promoteAt, relBits });
        const h1: EngineEvent[] = [];
        const h2: EngineEvent[] = [];
        ops.slice(0, k).forEach((op) => {
          applyOp(op, [whole], h1);
          applyOp(op, [first], h2);
        });
        const restored = Engine.restore(first.snapshot());
        expectSameState(first, restored);
        ops.slice(k).forEach((op) => {
          const [a, b] = [applyOp(op, [whole], h1)[0], applyOp(op, [restored], h2)[0]];
          expect(b).toBe(a);
        });
        expectSameState(whole, restored);
        // identical internal state: the two snapshots are byte-for-byte equal
        expect(Buffer.from(restored.snapshot()).equals(Buffer.from(whole.snapshot()))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
