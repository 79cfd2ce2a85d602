/**
 * vitest globalSetup: a single package's `npm run test:int` works on its own. When the
 * variables are already set (the root run via with-services, or a developer's own servers) it
 * starts nothing; otherwise it starts what is missing and stops it after the run.
 *
 *   // vitest.int.config.ts: vitest wants a file path, so resolve the package's subpath export
 *   import { createRequire } from 'node:module';
 *   const resolve = createRequire(import.meta.url).resolve;
 *   globalSetup: [resolve('@tillwatch/testkit/global-setup-kafka')]
 *
 * Variables set on process.env here reach the test workers: vitest forks them after
 * globalSetup has run, with this process's environment.
 */
import { startServices, type ServiceName } from './services';

export function servicesSetup(need: readonly ServiceName[]) {
  return async function setup(): Promise<() => Promise<void>> {
    const services = await startServices({
      need,
      log: (m) => process.stderr.write(`[services] ${m}\n`),
    });
    Object.assign(process.env, services.env);
    return () => services.stop();
  };
}

export default servicesSetup(['kafka', 'clickhouse']);
