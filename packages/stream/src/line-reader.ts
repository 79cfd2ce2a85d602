import type { Readable } from 'node:stream';
import { firstInvalidUtf8 } from '@tillwatch/contracts';

/** (in @tillwatch/contracts, which the processor's decoder shares) */
export { firstInvalidUtf8 };

/**
 * A line of a JSONL input, or why it could not be read. `lineNo` is 1-based and counts every
 * line (blank, refused and good ones), so it is the number an editor shows; `offset` is the
 * byte offset of the line's first byte in the input.
 */
export type InputLine =
  | { lineNo: number; offset: number; text: string; error?: undefined }
  | { lineNo: number; offset: number; text?: undefined; error: string };

/**
 * Default longest line, in bytes without its terminator: Kafka's default largest record
 * (message.max.bytes, about 1 MB), so a line the processor could have been sent is a line
 * replay reads. A contract event is well under 2 KB.
 */
export const DEFAULT_MAX_LINE_BYTES = 1 << 20;
/** V8 strings hold at most 2^29 - 24 UTF-16 units; a limit above 256 MiB invites a RangeError. */
export const MAX_MAX_LINE_BYTES = 1 << 28;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines as node:readline does with `crlfDelay: Infinity` (\n, \r\n
 * and a lone \r end a line; a last line without a terminator counts, an empty one after the
 * last terminator does not), but on bytes, so it can
 *
 * - refuse a line longer than `maxLineBytes` while reading it: the bytes past the limit are
 *   dropped as they arrive, never gathered (readline buffers the whole line, and one of 600 MB
 *   ended the process with "RangeError: Invalid string length" and no line number); the line is
 *   reported with its number and the reading goes on at the next line;
 * - refuse invalid UTF-8 with the byte offset of the first bad byte, in the line and in the
 *   input (readline replaced it with U+FFFD and the event was accepted, changed).
 *
 * String chunks (Readable.from(['...'])) are read as their UTF-8 bytes. A byte-order mark is
 * kept, as readline kept it: the line it starts is then not JSON and says so.
 */
export async function* readLines(
  input: Readable | AsyncIterable<Buffer | string>,
  maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<InputLine> {
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1 || maxLineBytes > MAX_MAX_LINE_BYTES) {
    throw new RangeError(
      `maxLineBytes must be a whole number from 1 to ${MAX_MAX_LINE_BYTES}, got ${maxLineBytes}`,
    );
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let parts: Buffer[] = [];
  let size = 0; // bytes of the current line so far, kept or not
  let lineNo = 0;
  let lineStart = 0; // input offset of the current line's first byte
  let pos = 0; // input offset of the current chunk's first byte
  let afterCR = false; // the last chunk ended on \r: a \n first in this one ends nothing

  const finish = (): InputLine => {
    lineNo++;
    const offset = lineStart;
    let line: InputLine;
    if (size > maxLineBytes) {
      line = {
        lineNo,
        offset,
        error: `line is ${size} bytes, longer than the limit of ${maxLineBytes} (--max-line-bytes); skipped`,
      };
    } else {
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      try {
        line = { lineNo, offset, text: utf8.decode(bytes) };
      } catch {
        const at = firstInvalidUtf8(bytes);
        line = {
          lineNo,
          offset,
          error: `invalid UTF-8 at byte ${at} of the line (byte ${offset + at} of the input); skipped`,
        };
      }
    }
    parts = [];
    size = 0;
    return line;
  };
  const take = (chunk: Buffer, from: number, to: number) => {
    if (to <= from) return;
    const n = to - from;
    // Past the limit only the count goes on: the bytes themselves are dropped.
    if (size + n <= maxLineBytes) parts.push(chunk.subarray(from, to));
    else if (size <= maxLineBytes) parts = [];
    size += n;
  };

  for await (const c of input as AsyncIterable<Buffer | string>) {
    const chunk = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
    let i = 0;
    if (afterCR && chunk.length > 0) {
      afterCR = false;
      if (chunk[0] === LF) i = 1;
    }
    let nl = -2; // next \n at or after i (-1: none in this chunk; -2: not looked for yet)
    let cr = -2;
    while (i < chunk.length) {
      if (nl !== -1 && nl < i) nl = chunk.indexOf(LF, i);
      if (cr !== -1 && cr < i) cr = chunk.indexOf(CR, i);
      const end = nl === -1 ? cr : cr === -1 ? nl : Math.min(nl, cr);
      if (end === -1) {
        take(chunk, i, chunk.length);
        break;
      }
      take(chunk, i, end);
      yield finish();
      let next = end + 1;
      if (end === cr) {
        if (next === chunk.length) afterCR = true;
        else if (chunk[next] === LF) next++;
      }
      lineStart = pos + next;
      i = next;
    }
    pos += chunk.length;
  }
  if (size > 0) yield finish();
}
