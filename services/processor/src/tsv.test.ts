import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '@tillwatch/contracts';
import { createSimulation } from '@tillwatch/simulator';
import { writeEvent } from './event-rows';
import { eventRowTemplate } from './event-row-template';
import { emptyRows } from './store';
import { TsvWriter, tsvEscape } from './tsv';

const text = (w: TsvWriter) => {
  const rows = emptyRows();
  w.drainInto(rows.events);
  return { text: Buffer.concat(rows.events.chunks).toString('utf8'), count: rows.events.count };
};

describe('TsvWriter', () => {
  it('numbers as String(x), raw bytes escaped as tsvEscape escapes their text', () => {
    const w = new TsvWriter(8);
    const nums = [0, 7, 10, 99, 1_764_000_000_000, 0.1, 1 / 3, -2, 2 ** 53, 1e21, Number.NaN];
    for (const n of nums) w.num(n).tab();
    const raw = Buffer.from('{"a":"x\\ty"}\t\n\r\\');
    w.bytes(raw).end();
    expect(text(w).text).toBe(`${nums.map(String).join('\t')}\t${tsvEscape(raw.toString())}\n`);
    // not ASCII, and not even UTF-8: as the string Buffer#toString makes of it
    const odd = Buffer.concat([
      Buffer.from('{"n":"冲正\t'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const w2 = new TsvWriter(8);
    w2.bytes(odd).end();
    expect(text(w2).text).toBe(`${tsvEscape(odd.toString('utf8'))}\n`);
  });
});

describe('writeEvent', () => {
  it('writes the events_raw row the template strings gave, for every simulated event type', () => {
    const sim = createSimulation({ seed: 3, scenario: 'all', durationMs: 20 * 60_000 });
    const w = new TsvWriter(512);
    let want = '';
    let n = 0;
    for (const e of sim.events()) {
      // odd raw bytes too: escapes in the JSON, a tab between tokens, non-ASCII text
      const json = JSON.stringify({
        ...e,
        note: n % 3 === 0 ? 'a\\b\t"c"\n' : n % 3 === 1 ? '冲正' : 'x',
      });
      const raw = Buffer.from(n % 5 === 0 ? json.replace(':', ':\t') : json);
      const d = decodeEvent(raw.toString());
      if (!d.ok) throw new Error(d.reason);
      want += eventRowTemplate(d.event, n % 4, String(1000 + n), raw, 1_796_000_000);
      writeEvent(w, d.event, n % 4, String(1000 + n), raw, 1_796_000_000);
      if (++n === 3000) break;
    }
    expect(text(w)).toEqual({ text: want, count: n });
  });
});

describe('TsvWriter.bytes', () => {
  // byte for byte what the text of the bytes escaped gives: ASCII, valid multi-byte UTF-8 (a
  // BOM too), the four escaped bytes, and bytes that are not UTF-8 (stray continuation bytes,
  // truncated sequences, 0xff)
  it('writes the bytes of tsvEscape(b.toString("utf8")) for any bytes', () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 12 }).map((x) => Buffer.from(x)),
      fc
        .constantFrom('冲正', '\ufeff', '€', '😀', '\t', '\n', '\r', '\\')
        .map((x) => Buffer.from(x)),
      fc.uint8Array({ maxLength: 6 }).map((x) => Buffer.from(x)),
      fc
        .constantFrom([0x80], [0xc3], [0xe4, 0xb8], [0xff, 0xfe], [0xed, 0xa0, 0x80])
        .map((x) => Buffer.from(x)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const b = Buffer.concat(pieces);
        const w = new TsvWriter(4);
        w.bytes(b).end();
        const rows = emptyRows();
        w.drainInto(rows.events);
        const got = Buffer.concat(rows.events.chunks);
        expect(got.equals(Buffer.from(`${tsvEscape(b.toString('utf8'))}\n`))).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('tsvEscape', () => {
  it('escapes what ClickHouse TabSeparated reads as separators', () => {
    expect(tsvEscape('plain')).toBe('plain');
    expect(tsvEscape('a\tb\nc\\d\re')).toBe('a\\tb\\nc\\\\d\\re');
  });
});
