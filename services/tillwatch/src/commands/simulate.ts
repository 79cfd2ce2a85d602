import { SingleBar, Presets } from 'cli-progress';
import { SCENARIO_NAMES, isScenarioName, writeScenario } from '@tillwatch/simulator';

export interface SimulateOptions {
  scenario?: string;
  seed: number;
  out: string;
  hours?: number;
  /** ISO-8601 with an offset (or epoch ms): the run's first instant; default Monday 2026-03-02 00:00 +08:00 */
  start?: string;
  list?: boolean;
}

/** `tillwatch simulate`: a thin wrapper over writeScenario with a progress bar on stderr. */
export async function simulateCommand(opts: SimulateOptions): Promise<number> {
  if (opts.list) {
    process.stdout.write(SCENARIO_NAMES.filter((s) => s !== 'demo').join('\n') + '\n');
    return 0;
  }
  if (opts.scenario === undefined) {
    process.stderr.write('tillwatch simulate: --scenario <name> is required (see --list)\n');
    return 2;
  }
  if (!isScenarioName(opts.scenario) || opts.scenario === 'demo') {
    process.stderr.write(
      `tillwatch simulate: unknown scenario "${opts.scenario}"; one of: ${SCENARIO_NAMES.filter((s) => s !== 'demo').join(', ')}\n`,
    );
    return 2;
  }
  if (opts.hours !== undefined && !(opts.hours > 0)) {
    process.stderr.write('tillwatch simulate: --hours must be a positive number\n');
    return 2;
  }
  let start: number | undefined;
  if (opts.start !== undefined) {
    start = /^\d+$/.test(opts.start) ? Number(opts.start) : Date.parse(opts.start);
    if (!Number.isFinite(start) || !/^\d+$|[zZ]$|[+-]\d{2}:?\d{2}$/.test(opts.start)) {
      process.stderr.write(
        `tillwatch simulate: --start must be ISO-8601 with an offset (e.g. 2026-03-02T09:00:00+08:00) or epoch ms, got "${opts.start}"\n`,
      );
      return 2;
    }
  }
  const bar =
    process.stderr.isTTY && opts.out !== '-'
      ? new SingleBar(
          {
            format: 'simulating [{bar}] {percentage}% | {events} events | {simTime}',
            hideCursor: true,
          },
          Presets.shades_classic,
        )
      : undefined;
  bar?.start(100, 0, { events: 0, simTime: '' });
  const result = await writeScenario({
    scenario: opts.scenario,
    seed: opts.seed,
    out: opts.out,
    ...(opts.hours !== undefined ? { durationMs: opts.hours * 3_600_000 } : {}),
    ...(start !== undefined ? { start } : {}),
    onProgress: (p) =>
      bar?.update(Math.round(p.fraction * 100), {
        events: p.events,
        simTime: new Date(p.simTime).toISOString(),
      }),
  });
  bar?.stop();
  if (opts.out !== '-') {
    process.stderr.write(
      `wrote ${result.counts.total} events (${result.counts.auth} auths) to ${result.out}` +
        (result.labelsOut
          ? ` and ${result.labels.length} incident labels to ${result.labelsOut}`
          : '') +
        '\n',
    );
  }
  return 0;
}
