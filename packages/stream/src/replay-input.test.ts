import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { replay, type ReplayOptions } from './replay';

// Findings of the outside review (issue 16, "Replay and API input"): what replay does with
// lines it cannot read.

const ev = (i: number) =>
  JSON.stringify({
    type: 'heartbeat',
    eventId: `h${i}`,
    ts: 1767225600000 + i * 1000,
    terminalId: 'T1',
    merchantId: 'M1',
    region: 'CN-31',
  });

async function run(input: Readable, opts: ReplayOptions = {}) {
  const errors: [number, string][] = [];
  const out = new PassThrough();
  out.resume();
  const result = await replay(input, out, {
    ...opts,
    onError: (n, r) => errors.push([n, r]),
  });
  return { result, errors };
}

/** `mb` MiB of 'x' with no line break, in 1 MiB chunks of one reused buffer. */
async function* longLine(before: string, mb: number, after: string) {
  yield Buffer.from(before);
  const block = Buffer.alloc(1 << 20, 'x');
  for (let i = 0; i < mb; i++) yield block;
  yield Buffer.from(after);
}

describe('replay input (issue 16)', () => {
  it('a line longer than the limit is refused with its line number and the run goes on', async () => {
    const { result, errors } = await run(Readable.from(longLine(`${ev(1)}\n`, 50, `\n${ev(2)}\n`)));
    expect(errors).toEqual([
      [
        2,
        expect.stringMatching(
          /^line is 52428800 bytes, longer than the limit of 1048576 \(--max-line-bytes\)/,
        ),
      ],
    ]);
    expect(result).toMatchObject({ lines: 3, events: 2, malformed: 1 });
  });

  it('a 600 MB line does not crash the run (no RangeError): refused with its line number', async () => {
    const { result, errors } = await run(
      Readable.from(longLine(`${ev(1)}\n${ev(2)}\n`, 600, `\n${ev(3)}`)),
    );
    expect(errors.map(([n]) => n)).toEqual([3]);
    expect(errors[0]![1]).toMatch(/longer than the limit/);
    expect(result).toMatchObject({ lines: 4, events: 3, malformed: 1 });
  }, 60_000);

  it('the limit is configurable: maxLineBytes', async () => {
    const line = ev(1);
    const ok = await run(Readable.from([`${line}\n`]), { maxLineBytes: line.length });
    expect(ok.result).toMatchObject({ events: 1, malformed: 0 });
    const short = await run(Readable.from([`${line}\r\n${ev(2)}`]), {
      maxLineBytes: line.length - 1,
    });
    expect(short.errors.map(([n]) => n)).toEqual([1, 2]);
    expect(short.result).toMatchObject({ events: 0, malformed: 2 });
  });

  it('invalid UTF-8 is refused with its byte offset, not replaced and accepted', async () => {
    // a firmware field takes any text: with U+FFFD in place of the bad byte it was accepted
    const good = ev(1);
    const bad = Buffer.concat([
      Buffer.from('{"type":"heartbeat","eventId":"h2","ts":1767225601000,"terminalId":"T1",'),
      Buffer.from('"merchantId":"M1","region":"CN-31","firmware":"v1'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    const at = bad.indexOf(0xc3);
    const { result, errors } = await run(
      Readable.from([Buffer.from(`${good}\n`), bad, Buffer.from(`\n${ev(3)}\n`)]),
    );
    expect(errors).toEqual([
      [
        2,
        `invalid UTF-8 at byte ${at} of the line (byte ${good.length + 1 + at} of the input); skipped`,
      ],
    ]);
    expect(result).toMatchObject({ lines: 3, events: 2, malformed: 1 });
  });
});
