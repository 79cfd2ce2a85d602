import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { createSimulation, type SimulationCounts, type SimulationOptions } from './simulation';
import type { IncidentLabel } from './types';

export interface WriteProgress {
  /** events written so far */
  events: number;
  /** event time reached, epoch ms */
  simTime: number;
  /** 0..1 of the run's event time */
  fraction: number;
}

export interface WriteScenarioOptions extends Omit<SimulationOptions, 'seed' | 'scenario'> {
  scenario: SimulationOptions['scenario'];
  seed: SimulationOptions['seed'];
  /** JSONL path, or '-' for stdout (labels then go to `labelsOut` only) */
  out: string;
  /** default `<out>.labels.json` (none when out is '-') */
  labelsOut?: string;
  /** called about every 1% of event time and at the end */
  onProgress?: (p: WriteProgress) => void;
}

export interface WriteScenarioResult {
  out: string;
  labelsOut: string | null;
  counts: SimulationCounts;
  bytes: number;
  labels: IncidentLabel[];
  start: number;
  end: number;
}

/**
 * Generate a finite run to a JSONL file (one event per line) and its labels beside it.
 * Streams in ~1 MB chunks with back-pressure: memory stays flat for any duration.
 */
export async function writeScenario(opts: WriteScenarioOptions): Promise<WriteScenarioResult> {
  const { out, onProgress, labelsOut: labelsOpt, ...simOpts } = opts;
  const sim = createSimulation(simOpts);
  if (!Number.isFinite(sim.end)) {
    throw new Error('simulator: writeScenario needs a finite durationMs (demo runs are endless)');
  }
  const stream: Writable = out === '-' ? process.stdout : createWriteStream(out);
  const span = sim.end - sim.start;
  const step = span / 100;
  let nextReport = sim.start + step;
  let bytes = 0;
  let chunk: string[] = [];
  let chunkLen = 0;
  const write = (s: string) =>
    new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      stream.once('error', onError);
      const ok = stream.write(s, () => undefined);
      const done = () => {
        stream.off('error', onError);
        resolve();
      };
      if (ok) done();
      else stream.once('drain', done);
    });
  for (let ev = sim.nextEvent(); ev !== undefined; ev = sim.nextEvent()) {
    const line = JSON.stringify(ev) + '\n';
    chunk.push(line);
    chunkLen += line.length;
    if (chunkLen >= 1 << 20) {
      const s = chunk.join('');
      bytes += Buffer.byteLength(s);
      chunk = [];
      chunkLen = 0;
      await write(s);
    }
    if (onProgress && sim.position >= nextReport) {
      nextReport = sim.position + step;
      onProgress({
        events: sim.counts.total,
        simTime: sim.position,
        fraction: (sim.position - sim.start) / span,
      });
    }
  }
  if (chunkLen > 0) {
    const s = chunk.join('');
    bytes += Buffer.byteLength(s);
    await write(s);
  }
  if (out !== '-') {
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(() => resolve());
    });
  }
  onProgress?.({ events: sim.counts.total, simTime: sim.end, fraction: 1 });
  const labels = [...sim.labels];
  const labelsOut = labelsOpt ?? (out === '-' ? null : `${out}.labels.json`);
  if (labelsOut) await writeFile(labelsOut, JSON.stringify(labels, null, 2) + '\n');
  return {
    out,
    labelsOut,
    counts: { ...sim.counts },
    bytes,
    labels,
    start: sim.start,
    end: sim.end,
  };
}
