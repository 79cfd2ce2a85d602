import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { decodeEvent, type Language } from '@tillwatch/contracts';
import type { EngineConfig } from '@tillwatch/core';
import type { RulesConfig, RulesConfigInput } from './config';
import { createMonitor, type EngineFactory } from './monitor';
import type { SilenceInput } from './silences';

export interface ReplayOptions {
  /** a malformed line: its 1-based number and a reason a person can read; the replay goes on */
  onError?(lineNo: number, reason: string): void;
  rules?: RulesConfig | RulesConfigInput;
  engine?: Partial<EngineConfig>;
  engineFactory?: EngineFactory;
  lang?: Language;
  silences?: readonly SilenceInput[];
  /** end `output` when done (default false: the caller owns it, e.g. process.stdout) */
  end?: boolean;
}

export interface ReplayResult {
  /** lines read, blank ones included */
  lines: number;
  /** valid events */
  events: number;
  malformed: number;
  /** alert transitions written */
  alerts: number;
  duplicates: number;
  late: number;
  /** transitions kept from the output by a silence */
  silenced: number;
}

/**
 * `tillwatch replay` (CONTRACT.md §4): JSONL events in, alert transitions out, in event time.
 *
 * - Each line is decoded and validated by @tillwatch/contracts; a malformed line is reported
 *   through onError with its line number and skipped. Blank lines are skipped silently.
 * - Time comes only from the events: the watermark is the engine's (latest event time minus
 *   the allowed lateness); rules run at their event-time cadence after each event.
 * - At the end of the input the watermark moves to the latest event time (nothing later can
 *   arrive, so lateness no longer needs holding) and the rules run once more. Time is not
 *   extrapolated past the input: alerts still firing then stay firing (no synthetic resolve),
 *   and settlement deadlines beyond the last event do not fall due.
 * - Output: one alert transition per line, JSON with a fixed key order. No wall clock, no
 *   randomness: the same input gives the same bytes.
 */
export async function replay(
  input: Readable,
  output: Writable,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  const monitor = createMonitor({
    rules: opts.rules,
    engine: opts.engine,
    engineFactory: opts.engineFactory,
    lang: opts.lang,
    silences: opts.silences,
  });
  const result: ReplayResult = {
    lines: 0,
    events: 0,
    malformed: 0,
    alerts: 0,
    duplicates: 0,
    late: 0,
    silenced: 0,
  };
  let pending: string[] = [];
  let pendingBytes = 0;
  const flushOut = async () => {
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    pendingBytes = 0;
    if (!output.write(chunk)) await once(output, 'drain');
  };
  const push = async (alerts: readonly object[]) => {
    for (const a of alerts) {
      const line = JSON.stringify(a) + '\n';
      pending.push(line);
      pendingBytes += line.length;
      result.alerts++;
    }
    if (pendingBytes >= 1 << 16) await flushOut();
  };

  let maxTs = Number.NEGATIVE_INFINITY;
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    result.lines++;
    if (line.trim() === '') continue;
    const r = decodeEvent(line);
    if (!r.ok) {
      result.malformed++;
      opts.onError?.(result.lines, r.reason);
      continue;
    }
    result.events++;
    if (r.event.ts > maxTs) maxTs = r.event.ts;
    monitor.ingest(r.event);
    const alerts = monitor.tick();
    if (alerts.length > 0) await push(alerts);
  }
  if (Number.isFinite(maxTs)) await push(monitor.flush(maxTs));
  await flushOut();
  const s = monitor.stats();
  result.duplicates = s.duplicates;
  result.late = s.late;
  result.silenced = s.silenced;
  if (opts.end) {
    output.end();
    await once(output, 'finish');
  }
  return result;
}
