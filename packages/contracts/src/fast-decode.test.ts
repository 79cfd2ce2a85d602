import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from './events';
import { decodeEventFast, fastDecodeStats } from './fast-decode';

/** The fast decoder must give exactly decodeEvent's result (value or reject reason). */
function same(text: string): void {
  const buf = Buffer.from(text, 'utf8');
  const want = decodeEvent(buf);
  expect(decodeEventFast(buf)).toStrictEqual(want);
  expect(decodeEventFast(new Uint8Array(buf))).toStrictEqual(want);
  expect(decodeEventFast(text)).toStrictEqual(want);
}

const RUNS = 1000;
const idChars = fc.constantFrom(...'abcXYZ019_.:-'.split(''));
const id = (max: number) => fc.string({ unit: idChars, minLength: 1, maxLength: max });
const asciiStr = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'ab Z9-_/'.split('')), minLength: min, maxLength: max });
const isoTs = fc
  .record({
    ms: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    frac: fc.constantFrom('', '.1', '.123', '.123456'),
    off: fc.constantFrom('Z', '+08:00', '-05:30', '+00:00'),
  })
  .map(({ ms, frac, off }) => new Date(ms).toISOString().slice(0, 19) + frac + off);
const ts = fc.oneof(
  fc.integer({ min: 0, max: 8_640_000_000_000_000 }),
  fc.double({ min: 0, max: 2e12, noNaN: true }),
  isoTs,
);
const common = {
  eventId: asciiStr(1, 64),
  ts,
  terminalId: id(32),
  merchantId: id(32),
  region: id(32),
};
// keys another type declares ('reason', 'amount') are unknown keys for the rest
const extraKey = fc.constantFrom(
  'note',
  'x',
  'seq',
  'constructor',
  'toString',
  '',
  'reason',
  'amount',
);
const extraVal = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.double(),
);
const extras = fc.dictionary(extraKey, extraVal, { maxKeys: 3 });

const validEvent = fc.oneof(
  fc.record(
    {
      type: fc.constant('auth'),
      ...common,
      txnId: asciiStr(1, 64),
      amount: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
      currency: fc.constantFrom('CNY', 'USD'),
      responseCode: fc.constantFrom('00', '51', 'TO', 'Y1', '9Z'),
      latencyMs: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e6, noNaN: true })),
      entryMode: fc.constantFrom('chip', 'swipe', 'contactless', 'manual', 'qr'),
      cardFingerprint: asciiStr(1, 64),
      issuerId: asciiStr(1, 32),
      firmware: asciiStr(1, 32),
    },
    {
      requiredKeys: [
        'type',
        'eventId',
        'ts',
        'terminalId',
        'merchantId',
        'region',
        'txnId',
        'amount',
        'currency',
        'responseCode',
      ],
    },
  ),
  fc.record({
    type: fc.constant('reversal'),
    ...common,
    txnId: asciiStr(1, 64),
    reason: fc.constantFrom('timeout', 'customer_cancel', 'terminal_error', 'host_error', 'other'),
    status: fc.constantFrom('succeeded', 'failed'),
  }),
  fc.record(
    {
      type: fc.constant('settlement'),
      ...common,
      txnId: asciiStr(1, 64),
      amount: fc.nat(),
      status: fc.constantFrom('settled', 'rejected'),
      batchId: asciiStr(0, 10),
    },
    {
      requiredKeys: [
        'type',
        'eventId',
        'ts',
        'terminalId',
        'merchantId',
        'region',
        'txnId',
        'amount',
        'status',
      ],
    },
  ),
  fc.record(
    {
      type: fc.constant('heartbeat'),
      ...common,
      firmware: asciiStr(1, 32),
      network: fc.constantFrom('ethernet', 'wifi', 'cellular'),
      signal: fc.oneof(
        fc.integer({ min: 0, max: 100 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
      ),
    },
    { requiredKeys: ['type', 'eventId', 'ts', 'terminalId', 'merchantId', 'region'] },
  ),
);
const withExtras = fc.tuple(validEvent, extras).map(([e, x]) => ({ ...x, ...e }));
const ws = fc.constantFrom('', ' ', '\n', '\t ', '\r\n');
/** JSON text with random whitespace around every token */
const toText = (v: Record<string, unknown>, w: string[]): string => {
  let k = 0;
  const s = () => w[k++ % w.length]!;
  return `${s()}{${Object.entries(v)
    .map(([key, val]) => `${s()}${JSON.stringify(key)}${s()}:${s()}${JSON.stringify(val)}${s()}`)
    .join(',')}}${s()}`;
};

describe('decodeEventFast equals decodeEvent (zod is the source of truth)', () => {
  it('on valid events of every type, and takes the fast path for them', () => {
    const before = fastDecodeStats.fast;
    fc.assert(
      fc.property(withExtras, fc.array(ws, { minLength: 1, maxLength: 4 }), (ev, w) => {
        const text = toText(ev, w);
        same(text);
        expect(decodeEvent(Buffer.from(text)).ok).toBe(true);
      }),
      { numRuns: RUNS },
    );
    // same() decodes each text three times; nearly all of them must go the fast way
    expect(fastDecodeStats.fast - before).toBeGreaterThan(RUNS * 3 * 0.95);
  });

  it('on events with one field broken, removed or retyped', () => {
    const broken = fc.constantFrom<unknown>(
      undefined,
      null,
      true,
      '',
      'x'.repeat(65),
      'bad id!',
      -1,
      1.5,
      'HUGE_NUMBER', // replaced by 1e400 in the JSON text (JSON.stringify cannot write it)
      8.64e15 + 2,
      '2026-01-01T00:00:00',
      '2026-02-29T00:00:00Z',
      '2024-02-29T00:00:00Z',
      'cny',
      '0',
      'ABC',
      {},
      [],
      'timeout',
      'settled',
      101,
      'T!1',
      'T/1',
      'T#',
      'T,1',
      'T@',
      '[T]',
      '{T}',
      'T`',
      'T~',
      'T^',
      'T=',
      Number.MAX_SAFE_INTEGER + 2,
      -0,
      'TO',
    );
    fc.assert(
      fc.property(validEvent, fc.nat(), broken, (ev, which, value) => {
        const keys = Object.keys(ev);
        const k = keys[which % keys.length]!;
        const copy: Record<string, unknown> = { ...ev };
        if (value === undefined) delete copy[k];
        else copy[k] = value;
        same(JSON.stringify(copy).replace('"HUGE_NUMBER"', '1e400'));
      }),
      { numRuns: RUNS },
    );
  });

  it('on arbitrary JSON values and JSON-ish text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => same(JSON.stringify(v) ?? 'null')),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(
        validEvent,
        fc.nat(),
        fc.string({ unit: 'binary-ascii', maxLength: 3 }),
        (ev, at, junk) => {
          const text = JSON.stringify(ev);
          const p = at % (text.length + 1);
          same(text.slice(0, p) + junk + text.slice(p)); // inserted junk: mostly invalid JSON
          same(text.slice(0, p)); // truncated
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('on hand-written edge cases', () => {
    const base =
      '"eventId":"e-1","terminalId":"T-1","merchantId":"M-1","region":"CN-31","txnId":"x","amount":1250,"currency":"CNY","responseCode":"00"';
    const cases = [
      `{"type":"auth",${base},"ts":1767225600000}`,
      `{"type":"auth",${base},"ts":1.7672256e12}`,
      `{"type":"auth",${base},"ts":1e3}`,
      `{"type":"auth",${base},"ts":1E3}`,
      `{"type":"auth",${base},"ts":-0}`,
      `{"type":"auth",${base},"ts":0.0}`,
      `{"type":"auth",${base},"ts":-1}`,
      `{"type":"auth",${base},"ts":01}`,
      `{"type":"auth",${base},"ts":+1}`,
      `{"type":"auth",${base},"ts":.5}`,
      `{"type":"auth",${base},"ts":1.}`,
      `{"type":"auth",${base},"ts":1e}`,
      `{"type":"auth",${base},"ts":12345678901234567890}`,
      `{"type":"auth",${base},"ts":"2026-01-01T08:00:00+08:00"}`,
      `{"type":"auth",${base},"ts":"2026-01-01T00:00:00.5Z"}`,
      `{"type":"auth",${base},"ts":"2026-01-01T00:00:00z"}`,
      `{"type":"auth",${base},"ts":"2026-01-01 00:00:00Z"}`,
      `{"type":"auth",${base},"ts":"2026-01-01T00:00:00+0800"}`,
      `{"type":"auth",${base},"ts":"2026-13-01T00:00:00Z"}`,
      `{"type":"auth",${base},"ts":"2026-01-01T24:00:00Z"}`,
      `{"type":"auth",${base},"ts":1767225600000,"amount":5}`, // duplicate key: last wins
      `{"type":"auth",${base},"ts":1767225600000,"type":"heartbeat"}`,
      `{"type":"auth",${base},"ts":1767225600000,"x":1,"x":2}`,
      `{"type":"auth",${base},"ts":1767225600000,"note":"caf\\u00e9 \\"q\\" \\n"}`, // escapes
      `{"type":"auth",${base},"ts":1767225600000,"note":"商户"}`, // UTF-8 in an extra field
      `{"type":"auth",${base.replace('T-1', 'T\\u002d1')},"ts":1767225600000}`, // escaped id
      `{"type":"auth",${base.replace('M-1', 'M-商')},"ts":1767225600000}`,
      `{"type":"auth",${base},"ts":1767225600000,"meta":{"a":[1,2]}}`,
      `{"type":"auth",${base},"ts":1767225600000,"__proto__":{"x":1}}`,
      `{"type":"auth",${base},"ts":1767225600000,"constructor":"c","hasOwnProperty":1}`,
      `{"type":"auth",${base},"ts":1767225600000,}`,
      `{"type":"auth",${base},"ts":1767225600000} x`,
      `\uFEFF{"type":"auth",${base},"ts":1767225600000}`,
      ` \n{"type" : "auth" , ${base} , "ts" : 1767225600000 }\r\n`,
      `{"type":"auth",${base},"ts":1767225600000,"latencyMs":-0}`,
      `{"type":"auth",${base},"ts":1767225600000,"latencyMs":1e400}`,
      `{"type":"auth",${base},"ts":1767225600000,"firmware":null}`,
      `{"type":"auth",${base},"ts":1767225600000,"entryMode":"Chip"}`,
      `{"type":"auth",${base.replace('1250', '1250.0')},"ts":1767225600000}`,
      `{"type":"auth",${base.replace('1250', '9007199254740992')},"ts":1767225600000}`,
      `{"type":"auth",${base.replace('"00"', '"0a"')},"ts":1767225600000}`,
      `{"type":"reversal","eventId":"r","ts":0,"terminalId":"T","merchantId":"M","region":"R","txnId":"x","reason":"other","status":"failed","amount":"extra"}`,
      `{"type":"settlement","eventId":"s","ts":0,"terminalId":"T","merchantId":"M","region":"R","txnId":"x","amount":0,"status":"settled","batchId":""}`,
      `{"type":"heartbeat","eventId":"h","ts":8640000000000000,"terminalId":"T","merchantId":"M","region":"R","signal":100.0}`,
      `{"type":"heartbeat","eventId":"h","ts":8640000000000001,"terminalId":"T","merchantId":"M","region":"R"}`,
      `{"type":"heartbeat","eventId":"h","ts":0,"terminalId":"T","merchantId":"M","region":"R","signal":100.5}`,
      `{"type":"nope","eventId":"h","ts":0,"terminalId":"T","merchantId":"M","region":"R"}`,
      `{}`,
      `[]`,
      `null`,
      ``,
      `{"type":"heartbeat"`,
      `{"type":"auth",${base},"ts":1767225600000,"note":"raw	tab"}`, // control chars: invalid JSON
      `{"type":"auth",${base.replace('T-1', 'T-1\n')},"ts":1767225600000}`.replace('\\n', '\n'),
      `{"type":"auth",${base},"ts":1767225600000,"note":"nul\u0000"}`.replace('\\u0000', '\u0000'),
      `{"type":"auth",${base},"ts":1767225600000,"del":"\u007f"}`.replace('\\u007f', '\u007f'),
    ];
    for (const c of cases) same(c);
  });
});

describe('bytes that are not UTF-8', () => {
  it('invalid UTF-8 in a record is refused with its byte offset, not replaced and accepted', () => {
    const ok = JSON.stringify({
      type: 'heartbeat',
      eventId: 'e1',
      ts: 1767225600000,
      terminalId: 'T1',
      merchantId: 'M1',
      region: 'R1',
      firmware: 'v1-X',
    });
    const good = Buffer.from(ok, 'utf8');
    expect(decodeEventFast(good).ok).toBe(true);
    // 0xFF where the firmware's "X" was: no UTF-8 sequence starts with it
    const bad = Buffer.from(good);
    const at = ok.indexOf('-X') + 1;
    bad[at] = 0xff;
    expect(decodeEventFast(bad)).toEqual({ ok: false, reason: `invalid UTF-8 at byte ${at}` });
    expect(decodeEvent(bad)).toEqual({ ok: false, reason: `invalid UTF-8 at byte ${at}` });
    // well-formed multi-byte text is still accepted (a region in Chinese would fail the id rule,
    // not the decoder)
    const zh = Buffer.from(ok.replace('v1-X', 'v1-固件'), 'utf8');
    expect(decodeEvent(zh)).toMatchObject({ ok: true });
  });
});
