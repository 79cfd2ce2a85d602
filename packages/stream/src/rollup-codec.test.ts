import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type {
  Alert,
  FailureTuple,
  LocalAlertRecord,
  PartialRecord,
  PresenceTuple,
  SilenceTuple,
  TickRecord,
} from '@tillwatch/contracts';
import {
  ROLLUP_FRAME_MAGIC,
  RollupFrameError,
  RollupFrameWriter,
  decodeRollupRecord,
  encodeRollups,
  isRollupFrame,
} from './rollup-codec';

type Rec = PartialRecord | TickRecord | LocalAlertRecord;

const T0 = Date.UTC(2026, 2, 2, 1, 0, 0);
/** ASCII ids (the common case), short and long non-ASCII (both writer paths), empty */
const text = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: max }),
    fc.string({ unit: 'grapheme', maxLength: max }),
    fc.string({ unit: 'binary', maxLength: max }),
    fc.constantFrom('', 'é', '北京-東城', '🏪 shop', 'a'.repeat(max)),
  );
const id = fc.oneof(
  text(64).filter((s) => s.length > 0),
  fc.constantFrom('CN-11', 'T1', 'M1'),
);
const big = (min: number, max: number) =>
  fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number);
/** event time near T0, anywhere in ±2^50, 0, the frame's extremes */
const ms = fc.oneof(
  big(T0 - 3_600_000, T0 + 3_600_000),
  big(-(2 ** 50), 2 ** 50),
  fc.constantFrom(0, T0, 2 ** 50, -(2 ** 50)),
);
const count = fc.oneof(
  fc.constant(0),
  fc.nat(200),
  big(0, Number.MAX_SAFE_INTEGER),
  fc.constantFrom(127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER),
);
const counts = fc.array(count, { maxLength: 64 });

const failure: fc.Arbitrary<FailureTuple> = fc.tuple(
  id,
  ms,
  id,
  id,
  id,
  text(32),
  text(2),
  text(64),
  count,
  text(32),
);
const presence: fc.Arbitrary<PresenceTuple> = fc.oneof(
  fc.tuple(id, id, id, text(32), ms),
  fc.tuple(id, id, id, text(32), ms, text(16)),
  // an undefined network: JSON writes null
  fc.tuple(id, id, id, text(32), ms, fc.constant(undefined)),
) as fc.Arbitrary<PresenceTuple>;
const silence: fc.Arbitrary<SilenceTuple> = fc.tuple(
  id,
  id,
  id,
  text(16),
  ms,
  fc.constantFrom(0 as const, 1 as const, 2 as const),
);

const partial: fc.Arbitrary<PartialRecord> = fc.record(
  {
    k: fc.constant('p' as const),
    src: fc.oneof(fc.nat(64), fc.nat()),
    s: fc.constantFrom('region' as const, 'firmware' as const, 'issuer' as const),
    key: id,
    pane: ms,
    c: counts,
    f: fc.array(failure, { maxLength: 10 }),
    a: fc.array(presence, { maxLength: 10 }),
    q: fc.array(silence, { maxLength: 10 }),
  },
  { requiredKeys: ['k', 'src', 's', 'key', 'pane', 'c'] },
);
const tick: fc.Arbitrary<TickRecord> = fc.record(
  {
    k: fc.constant('t' as const),
    src: fc.nat(1000),
    n: fc.integer({ min: 1, max: 10_000 }),
    wm: ms,
    c: counts,
    idle: fc.constant(true as const),
  },
  { requiredKeys: ['k', 'src', 'n', 'wm'] },
);
const alert: fc.Arbitrary<LocalAlertRecord> = fc.record({
  k: fc.constant('x' as const),
  src: fc.nat(64),
  a: fc
    .record(
      {
        alertId: id,
        ruleId: fc.constantFrom('terminal_decline_spike', 'merchant_offline'),
        ts: fc.constant(new Date(T0).toISOString()),
        region: id,
        details: fc.dictionary(text(8), fc.jsonValue()),
        note: fc.oneof(fc.constant(undefined), text(100)),
      },
      { requiredKeys: ['alertId', 'ruleId', 'ts'] },
    )
    .map((a) => a as unknown as Alert),
});
const record: fc.Arbitrary<Rec> = fc.oneof(partial, tick, alert);

/** What the legacy JSON path hands the rollup stage for a bundle of these records. */
const viaJson = (r: readonly Rec[]): unknown => JSON.parse(JSON.stringify({ k: 'b', r }));

function roundTrip(r: readonly Rec[]): void {
  const frame = encodeRollups(r);
  expect(isRollupFrame(frame)).toBe(true);
  const got = decodeRollupRecord(frame);
  expect(got).toStrictEqual(viaJson(r));
  // the same fields in the same order: JSON of what was decoded is JSON of what was written
  expect(JSON.stringify(got)).toBe(JSON.stringify({ k: 'b', r }));
}

describe('rollup frames', () => {
  it('decode(encode(records)) is the JSON round trip of every kind of record', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 40 }), (r) => roundTrip(r)),
      { numRuns: 400 },
    );
  });

  it('one kind at a time, and many records in one frame (string table past one byte)', () => {
    fc.assert(fc.property(fc.array(partial, { minLength: 1, maxLength: 60 }), roundTrip));
    fc.assert(fc.property(fc.array(tick, { minLength: 1, maxLength: 200 }), roundTrip));
    fc.assert(fc.property(fc.array(alert, { minLength: 1, maxLength: 20 }), roundTrip));
    const many = fc.sample(record, { numRuns: 5000, seed: 11 });
    roundTrip(many);
  });

  it('absent, empty and zero are kept apart', () => {
    const p: PartialRecord = { k: 'p', src: 0, s: 'issuer', key: 'I', pane: 0, c: [] };
    roundTrip([p, { ...p, f: [], a: [], q: [] }, { ...p, c: [0, 0, 3] }]);
    roundTrip([
      { k: 't', src: 0, n: 1, wm: 0, idle: true },
      { k: 't', src: 1, n: 2, wm: T0, c: [] },
      { k: 't', src: 1, n: 2, wm: T0, c: undefined },
    ]);
    const got = decodeRollupRecord(encodeRollups([p])) as { r: PartialRecord[] };
    expect(Object.keys(got.r[0]!)).toEqual(['k', 'src', 's', 'key', 'pane', 'c']);
    expect(encodeRollups([]).length).toBe(14);
    expect(decodeRollupRecord(encodeRollups([]))).toStrictEqual({ k: 'b', r: [] });
  });

  it('reads the legacy JSON form as JSON.parse did', () => {
    const r = fc.sample(record, { numRuns: 50, seed: 3 });
    const legacy = Buffer.from(`{"k":"b","r":[${r.map((x) => JSON.stringify(x)).join(',')}]}`);
    expect(isRollupFrame(legacy)).toBe(false);
    expect(decodeRollupRecord(legacy)).toStrictEqual(viaJson(r));
    // a single legacy record (an older processor's idle tick)
    const idle = { k: 't', src: 2, n: 4, wm: 0, idle: true };
    expect(decodeRollupRecord(Buffer.from(JSON.stringify(idle)))).toStrictEqual(idle);
  });

  it('a truncated frame is refused with a clear error at any cut', () => {
    const r = fc.sample(record, { numRuns: 30, seed: 5 });
    const frame = encodeRollups(r);
    for (let n = 0; n < frame.length; n++) {
      expect(() => decodeRollupRecord(frame.subarray(0, n))).toThrow(
        n === 0 ? /empty rollups value/ : /bad rollup frame at byte \d+ of \d+/,
      );
    }
    expect(() => decodeRollupRecord(Buffer.concat([frame, Buffer.from([0x74])]))).toThrow(
      /1 bytes after the header's 30 records/,
    );
  });

  it('a corrupt frame is refused as one (never another error, never a hang)', () => {
    const frame = encodeRollups(fc.sample(record, { numRuns: 20, seed: 9 }));
    fc.assert(
      fc.property(
        // byte 0 kept: with another first byte it is no frame (`{`: legacy JSON, its SyntaxError)
        fc.array(fc.tuple(fc.integer({ min: 1, max: frame.length - 1 }), fc.nat(255)), {
          minLength: 1,
          maxLength: 4,
        }),
        (flips) => {
          const b = Buffer.from(frame);
          for (const [i, v] of flips) b[i] = v;
          try {
            decodeRollupRecord(b);
          } catch (e) {
            expect(e).toBeInstanceOf(RollupFrameError);
          }
        },
      ),
      { numRuns: 2000 },
    );
    const b = Buffer.from(frame);
    b[1] = 2;
    expect(() => decodeRollupRecord(b)).toThrow(
      /rollup frame version 2 \(this processor reads 1\)/,
    );
    expect(() => decodeRollupRecord(Buffer.from('[1]'))).toThrow(/first byte 0x5b/);
    expect(ROLLUP_FRAME_MAGIC).not.toBe('{'.charCodeAt(0));
  });

  it('refuses to write what it could not read back exactly', () => {
    const t = (c: number[]): TickRecord => ({ k: 't', src: 0, n: 1, wm: T0, c });
    expect(() => encodeRollups([t([1.5])])).toThrow(RollupFrameError);
    expect(() => encodeRollups([t([-1])])).toThrow(/-1 is not a non-negative integer/);
    expect(() => encodeRollups([t([2 ** 53])])).toThrow(RollupFrameError);
    expect(() =>
      encodeRollups([
        { k: 't', src: 0, n: 1, wm: 2 ** 52 },
        { k: 't', src: 0, n: 1, wm: -(2 ** 52) },
      ]),
    ).toThrow(/too far from the frame's base/);
    const p: PartialRecord = { k: 'p', src: 0, s: 'region', key: 'x\ud800', pane: 0, c: [] };
    expect(() => encodeRollups([p])).toThrow(/lone surrogate/);
  });

  it('a writer cut before its last record leaves that record for the next frame', () => {
    const r = fc.sample(record, { numRuns: 10, seed: 1 });
    const w = new RollupFrameWriter(64);
    const frames: Buffer[] = [];
    for (const x of r) {
      const mark = w.bytes;
      w.add(x);
      if (w.records > 1 && w.bytes > 300) {
        frames.push(w.finish(mark));
        w.reset();
        w.add(x);
      }
    }
    frames.push(w.finish());
    expect(frames.length).toBeGreaterThan(1);
    const back = frames.flatMap((f) => (decodeRollupRecord(f) as { r: Rec[] }).r);
    expect(back).toStrictEqual((viaJson(r) as { r: Rec[] }).r);
  });
});
