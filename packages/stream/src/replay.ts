import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { decodeEvent, type Alert, type Language } from '@tillwatch/contracts';
import type { EngineConfig } from '@tillwatch/core';
import type { RulesConfig, RulesConfigInput, SilenceInput } from '@tillwatch/rules';
import { DEFAULT_MAX_LINE_BYTES, readLines } from './line-reader';
import { LocalTopology } from './topology';
import type { PaneRow, StageMemory } from './types';

export interface ReplayOptions {
  /** a malformed line: its 1-based number and a reason a person can read; the replay goes on */
  onError?(lineNo: number, reason: string): void;
  /**
   * longest line read, in bytes without its terminator (default 1 MiB, line-reader.ts): a
   * longer one is a malformed line, skipped while it is read, never held in memory
   */
  maxLineBytes?: number;
  rules?: RulesConfig | RulesConfigInput;
  engine?: Partial<EngineConfig>;
  lang?: Language;
  silences?: readonly SilenceInput[];
  /** pos.events partitions to spread the events over, as production does (default 4) */
  partitions?: number;
  /** pos.rollups partitions (default: as many as events partitions) */
  rollupPartitions?: number;
  /** event time without an event after which a partition is idle (default 30 s) */
  idleAfterMs?: number;
  /** pane rows as the processor writes them (not part of the CLI's output) */
  panes?: (...row: PaneRow) => void;
  /** rules memory to start from (`tillwatch replay --profiles`): what the live system had
   *  learnt, so a backtest of a day judges as production would have (memory.ts) */
  profiles?: readonly StageMemory[];
  /** each stage's rules memory at every hour boundary (`--save-profiles` keeps the last) */
  memory?: (m: StageMemory) => void;
  /** end `output` when done (default false: the caller owns it, e.g. process.stdout) */
  end?: boolean;
}

export interface ReplayResult {
  /** lines read, blank ones included */
  lines: number;
  /** valid events */
  events: number;
  /** lines refused (not an event, too long, not UTF-8), each reported through onError */
  malformed: number;
  /** alert transitions written */
  alerts: number;
  duplicates: number;
  late: number;
  /** valid events refused for a clock far ahead that nothing vouched for (`ts_in_future`),
   *  reported through onError with their line numbers */
  future: number;
  /** transitions kept from the output by a silence */
  silenced: number;
}

/**
 * `tillwatch replay` (docs/contract.md §4): JSONL events in, alert transitions out, in event
 * time, through the same topology the processor runs (LocalTopology: the events spread over
 * `partitions` partitions by merchant as Kafka's partitioner spreads them, the cross-partition
 * rules in the rollup stages, rules evaluated at the tick schedule's boundaries).
 *
 * - Each line is decoded and validated by @tillwatch/contracts; a malformed line is reported
 *   through onError with its line number and skipped, and so is a line longer than
 *   `maxLineBytes` or one that is not UTF-8 (with the offset of the bad byte). Blank lines are
 *   skipped silently.
 * - Time comes only from the events, and no single terminal's clock moves it (ahead-guard.ts):
 *   an event further ahead than any other terminal vouches for is reported through onError
 *   (`ts_in_future`) when the input ends. As in production, a boundary closes when an event of its
 *   partition passes it by the allowed lateness; the end of the input closes nothing more
 *   (production never sees an end), so the last seconds of a file are not judged, and alerts
 *   still firing then stay firing.
 * - Output: one alert transition per line, JSON with a fixed key order, in the order the
 *   stages raise them. No wall clock, no randomness: the same input gives the same bytes.
 */
export async function replay(
  input: Readable,
  output: Writable,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  const result: ReplayResult = {
    lines: 0,
    events: 0,
    malformed: 0,
    alerts: 0,
    duplicates: 0,
    late: 0,
    future: 0,
    silenced: 0,
  };
  let pending: string[] = [];
  let pendingBytes = 0;
  const topology = new LocalTopology(
    {
      alert(a: Alert) {
        const line = JSON.stringify(a) + '\n';
        pending.push(line);
        pendingBytes += line.length;
        result.alerts++;
      },
      ...(opts.panes ? { panes: opts.panes } : {}),
      ...(opts.memory ? { memory: opts.memory } : {}),
      // the tag is the event's line number (push below)
      dead(_ev, reason, lineNo) {
        result.future++;
        opts.onError?.(lineNo, reason);
      },
    },
    {
      ...(opts.rules ? { rules: opts.rules } : {}),
      ...(opts.engine ? { engine: opts.engine } : {}),
      ...(opts.lang ? { lang: opts.lang } : {}),
      ...(opts.silences ? { silences: opts.silences } : {}),
      ...(opts.partitions !== undefined ? { partitions: opts.partitions } : {}),
      ...(opts.rollupPartitions !== undefined ? { rollupPartitions: opts.rollupPartitions } : {}),
      ...(opts.idleAfterMs !== undefined ? { idleAfterMs: opts.idleAfterMs } : {}),
    },
  );
  if (opts.profiles) topology.restore(opts.profiles);
  const flushOut = async () => {
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    pendingBytes = 0;
    if (!output.write(chunk)) await once(output, 'drain');
  };

  for await (const l of readLines(input, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)) {
    result.lines++;
    if (l.error !== undefined) {
      result.malformed++;
      opts.onError?.(l.lineNo, l.error);
      continue;
    }
    const line = l.text;
    if (line.trim() === '') continue;
    const r = decodeEvent(line);
    if (!r.ok) {
      result.malformed++;
      opts.onError?.(result.lines, r.reason);
      continue;
    }
    result.events++;
    topology.push(r.event, undefined, result.lines);
    if (pendingBytes >= 1 << 16) await flushOut();
  }
  // events held for a clock far ahead that nothing vouched for: reported, not dropped
  topology.end();
  await flushOut();
  const s = topology.stats();
  result.duplicates = s.duplicates;
  result.late = s.late;
  result.silenced = s.silenced;
  if (opts.end) {
    output.end();
    await once(output, 'finish');
  }
  return result;
}
