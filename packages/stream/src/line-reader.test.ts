import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8, readLines, type InputLine } from './line-reader';

async function all(chunks: (string | Buffer)[], max?: number): Promise<InputLine[]> {
  const out: InputLine[] = [];
  for await (const l of readLines(Readable.from(chunks), max)) out.push(l);
  return out;
}

/** A small seeded generator: the same cases on every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('readLines', () => {
  it('splits as readline with crlfDelay Infinity does, whatever the chunking', async () => {
    const rnd = rng(16);
    const alphabet = ['a', 'b', 'é', '中', '\n', '\r', '\r\n', ' '];
    for (let n = 0; n < 300; n++) {
      let text = '';
      const len = Math.floor(rnd() * 40);
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(rnd() * alphabet.length)];
      const bytes = Buffer.from(text);
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length;) {
        const k = 1 + Math.floor(rnd() * 6);
        chunks.push(bytes.subarray(i, i + k));
        i += k;
      }
      const expected: string[] = [];
      const rl = createInterface({ input: Readable.from(chunks), crlfDelay: Infinity });
      for await (const l of rl) expected.push(l);
      const got = await all(chunks);
      expect(
        got.map((l) => l.text),
        JSON.stringify(text),
      ).toEqual(expected);
      expect(got.map((l) => l.lineNo)).toEqual(expected.map((_, i) => i + 1));
    }
  });

  it('gives each line its byte offset in the input', async () => {
    const got = await all(['ab\r\n中\n', '\rx']);
    expect(got).toEqual([
      { lineNo: 1, offset: 0, text: 'ab' },
      { lineNo: 2, offset: 4, text: '中' },
      { lineNo: 3, offset: 8, text: '' },
      { lineNo: 4, offset: 9, text: 'x' },
    ]);
  });

  it('refuses a line over the limit, counting its bytes, and reads the next one', async () => {
    const got = await all(['abc\n', 'abcd', 'ef\r\n', 'abcd'], 4);
    expect(got).toEqual([
      { lineNo: 1, offset: 0, text: 'abc' },
      {
        lineNo: 2,
        offset: 4,
        error: 'line is 6 bytes, longer than the limit of 4 (--max-line-bytes); skipped',
      },
      { lineNo: 3, offset: 12, text: 'abcd' },
    ]);
    await expect(all(['x'], 0)).rejects.toThrow(/maxLineBytes/);
  });

  it('keeps a byte-order mark, as readline did (the line is then not JSON)', async () => {
    expect((await all([Buffer.from('\ufeff{}\n')]))[0]!.text).toBe('\ufeff{}');
  });
});

describe('firstInvalidUtf8', () => {
  it('finds the first byte the fatal decoder refuses', () => {
    const cases: [number[], number][] = [
      [[0x61, 0x62], -1],
      [[0x61, 0xff], 1],
      [[0xc0, 0x80], 0], // overlong
      [[0xe0, 0x80, 0x80], 0], // overlong
      [[0xed, 0xa0, 0x80], 0], // surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
      [[0x61, 0xe4, 0xb8], 1], // truncated
      [[0xe4, 0xb8, 0xad, 0x80], 3], // stray continuation
      [[0xf0, 0x9f, 0x98, 0x80], -1],
    ];
    for (const [b, at] of cases) expect(firstInvalidUtf8(Uint8Array.from(b)), String(b)).toBe(at);
  });

  it('agrees with TextDecoder on random bytes', () => {
    const rnd = rng(7);
    const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    for (let n = 0; n < 2000; n++) {
      const b = Uint8Array.from({ length: 1 + Math.floor(rnd() * 8) }, () =>
        Math.floor(rnd() * 256),
      );
      const at = firstInvalidUtf8(b);
      let valid = true;
      try {
        fatal.decode(b);
      } catch {
        valid = false;
      }
      expect(at === -1, Buffer.from(b).toString('hex')).toBe(valid);
      if (at >= 0) {
        // everything before it decodes
        expect(() => fatal.decode(b.subarray(0, at))).not.toThrow();
      }
    }
  });
});
