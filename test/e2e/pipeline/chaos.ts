/**
 * The chaos table (issue 16, "Faults the trusted systems test"): every suite that injects a
 * fault into real services reports one row (reportChaos), printed at once as `[chaos] | ... |`
 * and collected, through a file named in TILLWATCH_CHAOS_FILE, by this module's default export,
 * a vitest globalSetup that prints the whole table when the run ends. No imports beyond node:
 * the globalSetup runs in vitest's main process.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ChaosRow {
  /** what was broken, e.g. `processor kill -9` */
  fault: string;
  /** how often and how long, e.g. `6 x SIGKILL` */
  injected: string;
  events: number;
  /** expected pane rows absent plus raw events absent (webhooks: alerts undelivered) */
  missing: number;
  /** pane rows wrong against the ground truth (counters, labels, unclosed, twice) plus raw events stored twice (webhooks: deliveries twice) */
  doubled: number;
  /** alert episodes published twice or overlapping (duplicatedEpisodes); undefined: not checked */
  duplicatedEpisodes?: number;
}

export const CHAOS_HEADER = [
  '| fault | injected | events | missing | doubled | duplicated episodes |',
  '|---|---|---:|---:|---:|---:|',
];

export const CHAOS_FILE_ENV = 'TILLWATCH_CHAOS_FILE';

/** A row as a Markdown table line. */
export function chaosTableLine(r: ChaosRow): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const eps = r.duplicatedEpisodes === undefined ? 'n/a' : n(r.duplicatedEpisodes);
  return `| ${r.fault} | ${r.injected} | ${n(r.events)} | ${n(r.missing)} | ${n(r.doubled)} | ${eps} |`;
}

/** Print a row (`grep '\[chaos\]'` finds every one in a run's output) and add it to the run's table. */
export function reportChaos(r: ChaosRow): void {
  const line = chaosTableLine(r);
  console.log(`[chaos] ${line}`);
  const file = process.env[CHAOS_FILE_ENV];
  if (file) appendFileSync(file, `${line}\n`);
}

/** vitest globalSetup: a file for the run's rows (workers inherit the variable); the table at the end. */
export default function setup(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), 'tw-chaos-'));
  const file = path.join(dir, 'rows.md');
  process.env[CHAOS_FILE_ENV] = file;
  return () => {
    const rows = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    rmSync(dir, { recursive: true, force: true });
    if (!rows.length) return;
    process.stdout.write(
      '\n[chaos] faults injected into real Kafka and ClickHouse; a pass is 0 missing, 0 doubled, 0 duplicated\n' +
        [...CHAOS_HEADER, ...rows].map((l) => `[chaos] ${l}`).join('\n') +
        '\n',
    );
  };
}
