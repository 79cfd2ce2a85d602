/**
 * Debian's Chromium for the browser tests (never a downloaded one: playwright-core fetches no
 * browser). Used by test/e2e/browser and by services/tillwatch's all-in-one browser test, both
 * through @tillwatch/testkit/chromium: testkit depends on no product or e2e package, so a product
 * package can take it as a devDependency without pulling in the e2e package's Kafka/processor
 * graph. This subpath imports only node built-ins and playwright-core.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless, no sandbox (containers have no user namespaces), no GPU, and nothing that talks to
 * the internet on its own (background networking, QUIC, component updates, sync): the tests
 * send traffic to loopback only.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether Chromium is installed. In CI a missing one is an error (a skipped suite would pass
 * unseen); elsewhere `suite` is skipped with a warning that is hard to miss.
 */
export function chromiumAvailable(suite: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['CI'])
    throw new Error(`${CHROMIUM} is missing: CI must install chromium (apt-get install chromium)`);
  const line = `!! SKIPPING ${suite}: ${CHROMIUM} not found (apt-get install chromium) !!`;
  const bar = '!'.repeat(line.length);
  console.warn(`\n${bar}\n${line}\n${bar}\n`);
  return false;
}

export interface LaunchedChromium {
  /** the first browser context (one profile: its tabs share storage and the board's session) */
  context: BrowserContext;
  /** another context, isolated as a second browser would be (another person's session) */
  newContext(): Promise<BrowserContext>;
  /** Closes the browser (its profiles are throw-away). */
  close(): Promise<void>;
}

/** Chromium with throw-away profiles, 1440 x 900 unless told. */
export async function launchChromium(
  opts: { viewport?: { width: number; height: number } } = {},
): Promise<LaunchedChromium> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  try {
    const newContext = () =>
      browser.newContext({ viewport: opts.viewport ?? { width: 1440, height: 900 } });
    return {
      context: await newContext(),
      newContext,
      async close() {
        await browser.close();
      },
    };
  } catch (e) {
    await browser.close();
    throw e;
  }
}

/**
 * The board (dashboards/web) as the gateway serves it: built here when dist/ is missing (turbo
 * builds it first; a bare `vitest` run may not have).
 */
export function ensureBoardBuilt(): void {
  // By path in the repository rather than via @tillwatch/web: testkit stays free of product
  // packages, and the board is only ever built from this checkout.
  const web = join(import.meta.dirname, '../../../dashboards/web');
  if (!existsSync(join(web, 'dist/index.html')))
    execFileSync('npx', ['vite', 'build'], { cwd: web, stdio: 'inherit' });
}
