#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';

/**
 * The tillwatch CLI. Commands load their modules lazily so `tillwatch replay` does not pay for
 * the gateway's imports.
 */
function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a whole number`);
    return n;
  };
}

const program = new Command()
  .name('tillwatch')
  .description('Real-time transaction anomaly monitor for card acquirers')
  .showHelpAfterError();

program
  .command('start')
  .description('embedded all-in-one: simulated fleet, engine, rules and the live board')
  .option('-p, --port <port>', 'HTTP port of the board (default $PORT or 8080)', int('port'))
  .option('--seed <n>', 'simulator seed', int('seed'))
  .option(
    '--state-dir <dir>',
    'keep rules memory, fleet position and sent alerts here across restarts; off: none (default $TILLWATCH_STATE_DIR or .data/tillwatch)',
  )
  .action(async (opts: { port?: number; seed?: number; stateDir?: string }) => {
    const { start } = await import('./commands/start');
    await start(opts);
  });

program
  .command('replay')
  .description('run the engine over a JSONL file in event time and write every alert transition')
  .requiredOption('-i, --input <file>', 'events JSONL, or - for stdin')
  .requiredOption('-o, --output <file>', 'alerts JSONL, or - for stdout')
  .option('--rules <file>', 'rules configuration file')
  .option('--lang <lang>', 'language of probable causes and actions: en or zh', 'en')
  .option(
    '--partitions <n>',
    'pos.events partitions to spread the events over by merchant, as production does (default 4)',
    int('partitions'),
  )
  .option(
    '--profiles <file>',
    'start from this rules memory (learnt profiles and baselines; a --save-profiles file)',
  )
  .option('--save-profiles <file>', 'write the rules memory at the end of the input to this file')
  .option(
    '--max-line-bytes <n>',
    'longest input line in bytes; a longer one is reported and skipped (default 1048576)',
    int('max-line-bytes'),
  )
  .action(
    async (opts: {
      input: string;
      output: string;
      rules?: string;
      lang: string;
      partitions?: number;
      profiles?: string;
      saveProfiles?: string;
      maxLineBytes?: number;
    }) => {
      const { replayCommand } = await import('./commands/replay');
      process.exitCode = await replayCommand(opts);
    },
  );

program
  .command('simulate')
  .description('write a seeded simulated stream with labelled incidents')
  // not requiredOption: `--list` alone must work (simulateCommand asks for a scenario otherwise)
  .option('--scenario <name>', 'scenario name (see --list); required unless --list')
  .option('--seed <n>', 'seed', int('seed'), 1)
  .option('--out <file>', 'events JSONL (labels go to <file>.labels.json)', 'events.jsonl')
  .option('--hours <n>', 'simulated hours', Number)
  .option(
    '--start <time>',
    'first instant, ISO-8601 with an offset or epoch ms (default 2026-03-02T00:00:00+08:00, a Monday)',
  )
  .option('--list', 'list the scenarios and exit')
  .action(
    async (opts: {
      scenario?: string;
      seed: number;
      out: string;
      hours?: number;
      start?: string;
      list?: boolean;
    }) => {
      const { simulateCommand } = await import('./commands/simulate');
      process.exitCode = await simulateCommand(opts);
    },
  );

program
  .command('quality')
  .description("per-rule precision from the analysts' verdicts (the gateway's GET /api/quality)")
  .option('--url <url>', 'gateway base URL (default $TILLWATCH_URL or http://127.0.0.1:8080)')
  .option('--token <key>', 'API key of any role (default $TILLWATCH_TOKEN, which ps does not show)')
  .option(
    '--days <n>',
    'period: alerts first seen in the last n days, 1..365 (default 30)',
    int('days'),
  )
  .option('--json', "print the gateway's JSON report instead of the table")
  .action(async (opts: { url?: string; token?: string; days?: number; json?: boolean }) => {
    const { qualityCommand } = await import('./commands/quality');
    process.exitCode = await qualityCommand(opts);
  });

await program.parseAsync(process.argv);
