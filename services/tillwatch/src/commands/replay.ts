import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { loadRulesFile } from '@tillwatch/rules';
import { LatestMemory, parseMemoryFile, replay, type StageMemory } from '@tillwatch/stream';

export interface ReplayOptions {
  input: string;
  output: string;
  rules?: string;
  lang: string;
  partitions?: number;
  /** rules memory to start from (a --save-profiles file, or what a live system kept) */
  profiles?: string;
  /** write the rules memory at the end of the file here */
  saveProfiles?: string;
  /** longest line read (default 1 MiB): a longer one is reported and skipped */
  maxLineBytes?: number;
}

/** V8 strings hold at most 2^29 - 24 UTF-16 units: a longer limit would only move the crash. */
const MAX_LINE_BYTES_LIMIT = 1 << 28;

/**
 * `tillwatch replay` (docs/contract.md §4): the processor's topology over a file, event time only.
 * Malformed lines (not an event, longer than --max-line-bytes, not UTF-8) are reported on
 * stderr with their line number and do not stop the run; the summary counts them, and the late
 * and duplicate events the stages counted and dropped, so nothing is lost without a trace.
 */
export async function replayCommand(opts: ReplayOptions): Promise<number> {
  if (opts.partitions !== undefined && opts.partitions < 1) {
    process.stderr.write(`tillwatch replay: --partitions must be at least 1\n`);
    return 2;
  }
  if (
    opts.maxLineBytes !== undefined &&
    (opts.maxLineBytes < 1 || opts.maxLineBytes > MAX_LINE_BYTES_LIMIT)
  ) {
    process.stderr.write(
      `tillwatch replay: --max-line-bytes must be from 1 to ${MAX_LINE_BYTES_LIMIT}, got ${opts.maxLineBytes}\n`,
    );
    return 2;
  }
  if (opts.lang !== 'en' && opts.lang !== 'zh') {
    process.stderr.write(`tillwatch replay: --lang must be en or zh, got "${opts.lang}"\n`);
    return 2;
  }
  let rules;
  if (opts.rules) {
    try {
      rules = loadRulesFile(opts.rules);
    } catch (err) {
      process.stderr.write(`tillwatch replay: ${(err as Error).message}\n`);
      return 2;
    }
  }
  let profiles;
  if (opts.profiles) {
    try {
      profiles = parseMemoryFile(readFileSync(opts.profiles, 'utf8'), opts.profiles);
    } catch (err) {
      process.stderr.write(`tillwatch replay: --profiles ${(err as Error).message}\n`);
      return 2;
    }
  }
  const latest = new LatestMemory();
  const input: Readable = opts.input === '-' ? process.stdin : createReadStream(opts.input);
  const output: Writable = opts.output === '-' ? process.stdout : createWriteStream(opts.output);
  try {
    const stats = await replay(input, output, {
      lang: opts.lang,
      ...(rules ? { rules } : {}),
      ...(opts.partitions !== undefined ? { partitions: opts.partitions } : {}),
      ...(opts.maxLineBytes !== undefined ? { maxLineBytes: opts.maxLineBytes } : {}),
      ...(profiles ? { profiles } : {}),
      ...(opts.saveProfiles ? { memory: (m: StageMemory) => latest.take(m) } : {}),
      onError: (lineNo: number, reason: string) =>
        process.stderr.write(`${opts.input}:${lineNo}: ${reason}\n`),
    });
    if (output !== process.stdout) {
      output.end();
      await once(output, 'finish');
    }
    if (opts.saveProfiles) {
      writeFileSync(opts.saveProfiles, JSON.stringify(latest));
      process.stderr.write(
        `rules memory of ${latest.size} stages written to ${opts.saveProfiles}` +
          (latest.size === 0 ? ' (none: the file crosses no hour boundary)' : '') +
          '\n',
      );
    }
    process.stderr.write(
      `replayed ${stats.events} events from ${stats.lines} lines (${stats.malformed} malformed, ` +
        `${stats.late} late, ${stats.duplicates} duplicates, ${stats.future} ts_in_future): ` +
        `${stats.alerts} alert transitions\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`tillwatch replay: ${(err as Error).message}\n`);
    return 1;
  }
}
