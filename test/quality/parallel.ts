import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WeekResult } from './week';

const here = dirname(fileURLToPath(import.meta.url));

/** Weeks judged at once: both cores of the CI machine, never more than it has. */
export const PARALLEL_WEEKS = Math.max(1, Math.min(2, availableParallelism()));

function runChild(seed: number, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'week-run.ts'), String(seed), out],
      { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`quality week ${seed}: exit ${code ?? signal}`)),
    );
  });
}

/** Each seed's week in its own process, PARALLEL_WEEKS at a time; results in seed order. */
export async function runWeeks(seeds: readonly number[]): Promise<WeekResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tw-quality-'));
  try {
    const queue = [...seeds];
    const worker = async () => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
        await runChild(s, join(dir, `${s}.json`));
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_WEEKS, seeds.length) }, worker));
    return seeds.map((s) => JSON.parse(readFileSync(join(dir, `${s}.json`), 'utf8')) as WeekResult);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
