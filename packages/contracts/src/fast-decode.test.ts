import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent, ENTRY_MODES, NETWORKS, REVERSAL_REASONS } from './events';
import { decodeEventFast, fastDecodeStats, fieldOf } from './fast-decode';
import { fieldAtBytes } from './fast-decode-fields';

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

describe('the byte scanner at its boundaries', () => {
  const NAMES = [
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
    'latencyMs',
    'entryMode',
    'cardFingerprint',
    'issuerId',
    'firmware',
    'reason',
    'status',
    'batchId',
    'network',
    'signal',
  ];

  it('matches a key in place exactly when fieldOf knows it', () => {
    for (const name of NAMES) {
      expect(fieldOf(name)).toBeGreaterThanOrEqual(0);
      expect(fieldAtBytes(Buffer.from(`${name}":1`), 0)).toBe(fieldOf(name));
      expect(fieldAtBytes(Buffer.from(`{"${name}":1`), 2)).toBe(fieldOf(name));
      // every one-byte change, removal and addition of the name
      for (let k = 0; k < name.length; k++) {
        for (const c of ['"', 'x', 'Z', '_', name[k]!.toUpperCase(), name[k]!.toLowerCase()]) {
          const key = name.slice(0, k) + c + name.slice(k + 1);
          const want = fieldOf(key.split('"')[0]!); // the key ends at its first quote
          expect(fieldAtBytes(Buffer.from(`${key}":1`), 0)).toBe(want);
        }
        const cut = name.slice(0, k) + name.slice(k + 1);
        expect(fieldAtBytes(Buffer.from(`${cut}":1`), 0)).toBe(fieldOf(cut));
      }
      expect(fieldAtBytes(Buffer.from(`${name}x":1`), 0)).toBe(-1);
      expect(fieldAtBytes(Buffer.from(`${name}\\":1`), 0)).toBe(-1);
      expect(fieldAtBytes(Buffer.from([...Buffer.from(name), 0xe9, 0x22]), 0)).toBe(-1);
      // the bytes end inside the name or before its closing quote: nothing is read past the end
      for (let k = 0; k <= name.length; k++) {
        expect(fieldAtBytes(Buffer.from(name.slice(0, k)), 0)).toBe(-1);
        const whole = Buffer.from(`{"${name}":1}`);
        expect(fieldAtBytes(whole.subarray(0, 2 + k), 2)).toBe(-1);
      }
    }
  });

  it('matches arbitrary keys as fieldOf does', () => {
    const nearName = fc
      .tuple(fc.constantFrom(...NAMES), fc.nat(), fc.string({ maxLength: 2 }), fc.nat({ max: 2 }))
      .map(([n, at, s, drop]) => {
        const p = at % (n.length + 1);
        return n.slice(0, p) + s + n.slice(p + drop);
      });
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 16 }), nearName), (key) => {
        const want = fieldOf(key.split('"')[0]!); // the key ends at its first quote
        expect(fieldAtBytes(Buffer.from(`${key}":0`, 'utf8'), 0)).toBe(want);
      }),
      { numRuns: RUNS },
    );
  });

  it('reads only the bytes of the view it is given, at any offset of a larger buffer', () => {
    fc.assert(
      fc.property(
        validEvent,
        fc.nat(),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        (ev, at, before, after) => {
          const text = JSON.stringify(ev);
          const whole = Buffer.from(before + text + after, 'utf8');
          const start = Buffer.byteLength(before, 'utf8');
          const full = whole.subarray(start, start + text.length);
          expect(decodeEventFast(full)).toStrictEqual(decodeEvent(full));
          expect(decodeEventFast(full).ok).toBe(true);
          // cut anywhere: the bytes after the cut are in memory but not in the record
          const cut = whole.subarray(start, start + (at % text.length));
          expect(decodeEventFast(cut)).toStrictEqual(decodeEvent(cut));
          const u8 = new Uint8Array(whole.buffer, whole.byteOffset + start, at % text.length);
          expect(decodeEventFast(u8)).toStrictEqual(decodeEvent(u8));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never takes a field of the event decoded before', () => {
    fc.assert(
      fc.property(validEvent, fc.nat(), (ev, which) => {
        const keys = Object.keys(ev);
        const k = keys[which % keys.length]!;
        const without: Record<string, unknown> = { ...ev };
        delete without[k];
        expect(decodeEventFast(Buffer.from(JSON.stringify(ev))).ok).toBe(true);
        same(JSON.stringify(without));
      }),
      { numRuns: RUNS },
    );
  });

  it('checks the id alphabet while scanning, byte by byte', () => {
    const ev = {
      type: 'heartbeat',
      eventId: 'h',
      ts: 0,
      terminalId: 'T',
      merchantId: 'M',
      region: 'R',
    };
    for (const field of ['terminalId', 'merchantId', 'region', 'eventId']) {
      for (let c = 0; c < 0x80; c++) {
        const ch = String.fromCharCode(c);
        for (const v of [`a${ch}`, `${ch}a`, ch]) same(JSON.stringify({ ...ev, [field]: v }));
      }
      same(JSON.stringify({ ...ev, [field]: 'x'.repeat(32) }));
      same(JSON.stringify({ ...ev, [field]: 'x'.repeat(33) }));
      same(JSON.stringify({ ...ev, [field]: 'é' }));
    }
  });

  it('returns the schema literals only for exactly those bytes', () => {
    const literals = [
      'auth',
      'reversal',
      'settlement',
      'heartbeat',
      ...ENTRY_MODES,
      ...REVERSAL_REASONS,
      'succeeded',
      'failed',
      'settled',
      'rejected',
      ...NETWORKS,
    ];
    const near = fc
      .tuple(
        fc.constantFrom(...literals),
        fc.nat(),
        fc.string({ maxLength: 2 }),
        fc.nat({ max: 2 }),
      )
      .map(([n, at, s, drop]) => {
        const p = at % (n.length + 1);
        return n.slice(0, p) + s + n.slice(p + drop);
      });
    fc.assert(
      fc.property(
        validEvent,
        fc.constantFrom('type', 'entryMode', 'reason', 'status', 'network'),
        fc.oneof(near, fc.constantFrom(...literals)),
        (ev, field, v) => same(JSON.stringify({ ...ev, [field]: v })),
      ),
      { numRuns: RUNS },
    );
  });

  it('reads numbers of every length as JSON.parse does', () => {
    const digit = fc.constantFrom(...'0123456789');
    // plain integers of 1..20 digits, most of them around 2^53 (15..17 digits), where the
    // digit loop has to give way to Number()
    const integer = fc
      .tuple(
        fc.constantFrom(...'123456789'),
        fc.oneof(
          fc.string({ unit: digit, maxLength: 19 }),
          fc.string({ unit: digit, minLength: 13, maxLength: 17 }),
        ),
      )
      .map(([first, rest]) => first + rest);
    const numText = fc.oneof(
      { arbitrary: fc.tuple(fc.constantFrom('', '-'), integer), weight: 3 },
      {
        arbitrary: fc.tuple(
          fc.constantFrom('', '-'),
          fc.oneof(
            integer,
            fc.constant('0'),
            fc.string({ unit: digit, minLength: 2, maxLength: 4 }),
          ),
          fc.constantFrom('', '.0', '.5', '.25'),
          fc.constantFrom('', 'e0', 'e2', 'E-3', 'e+1'),
        ),
        weight: 1,
      },
    );
    fc.assert(
      fc.property(
        validEvent,
        fc.constantFrom('ts', 'amount', 'latencyMs', 'signal', 'seq'),
        numText.map((parts) => parts.join('')),
        (ev, field, n) => {
          const text = JSON.stringify({ ...ev, [field]: 0 }).replace(
            `"${field}":0`,
            `"${field}":${n}`,
          );
          same(text);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('text with non-ASCII or lone surrogates goes to decodeEvent as it came', () => {
    const ev = JSON.stringify({
      type: 'heartbeat',
      eventId: 'h',
      ts: 0,
      terminalId: 'T',
      merchantId: 'M',
      region: 'R',
      note: 'NOTE',
    });
    for (const v of ['\\ud800', '\ud800', 'é', '商户', '\u0080', '\u00ff']) {
      const text = ev.replace('NOTE', v);
      expect(decodeEventFast(text)).toStrictEqual(decodeEvent(text));
    }
  });
});
