/**
 * Run a command with real Kafka and ClickHouse around it, started once and stopped at the end
 * (also on failure, SIGINT and SIGTERM). The root `npm test` wraps every integration suite in it:
 *
 *   tsx packages/testkit/src/with-services.ts -- turbo run test:int --concurrency=1
 *   tsx packages/testkit/src/with-services.ts --only kafka -- npx vitest run ...
 *
 * Services come from startServices(): env vars, else Docker (testcontainers), else deploy/local.
 * The command gets KAFKA_BROKERS and CLICKHOUSE_URL in its environment; the per-package
 * globalSetup then sees them set and starts nothing of its own.
 */
import { spawn } from 'node:child_process';
import { startServices, type ServiceName } from './services';

function parseArgs(argv: string[]): { need: ServiceName[]; command: string[] } {
  const sep = argv.indexOf('--');
  const own = sep === -1 ? [] : argv.slice(0, sep);
  const command = sep === -1 ? argv : argv.slice(sep + 1);
  let need: ServiceName[] = ['kafka', 'clickhouse'];
  for (let i = 0; i < own.length; i++) {
    if (own[i] === '--only') {
      need = (own[++i] ?? '').split(',').filter(Boolean) as ServiceName[];
      const bad = need.filter((n) => n !== 'kafka' && n !== 'clickhouse');
      if (bad.length) throw new Error(`--only takes kafka and/or clickhouse, not ${bad.join(',')}`);
    } else throw new Error(`unknown option ${own[i]}`);
  }
  if (!command.length)
    throw new Error('usage: with-services [--only kafka,clickhouse] -- <command...>');
  return { need, command };
}

const log = (m: string) => process.stderr.write(`[services] ${m}\n`);

async function main(): Promise<number> {
  const { need, command } = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  // A Ctrl-C while services are still starting must not leave them behind: remember it and
  // stop right after startServices() returns.
  let interrupted: NodeJS.Signals | undefined;
  const early = (sig: NodeJS.Signals) => (interrupted = sig);
  process.on('SIGINT', early);
  process.on('SIGTERM', early);
  const services = await startServices({ need, log });
  log(
    `ready in ${Math.round(performance.now() - t0)} ms: ` +
      Object.entries(services.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') +
      ` (${JSON.stringify(services.providers)})`,
  );
  process.off('SIGINT', early);
  process.off('SIGTERM', early);
  if (interrupted) {
    await services.stop();
    return 130;
  }

  const [cmd, ...args] = command as [string, ...string[]];
  const child = spawn(cmd, args, {
    stdio: 'inherit',
    env: { ...process.env, ...services.env },
  });
  // The terminal sends SIGINT to the whole process group, the child included; forward only what
  // it cannot have seen (a SIGTERM aimed at us), then wait for it to finish before stopping.
  const forward = (sig: NodeJS.Signals) => {
    if (sig === 'SIGTERM') child.kill(sig);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) => {
    child.on('error', (e) => {
      log(`cannot run ${cmd}: ${e.message}`);
      resolve(127);
    });
    child.on('exit', (c, sig) =>
      resolve(c ?? 128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 9)),
    );
  });
  const t1 = performance.now();
  await services.stop().catch((e: unknown) => log(`stop failed: ${String(e)}`));
  log(`stopped in ${Math.round(performance.now() - t1)} ms`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    log(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
