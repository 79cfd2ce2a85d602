import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// From @tillwatch/testkit, not @tillwatch/e2e: a product package should not depend on the e2e
// package and its Kafka/processor graph; testkit depends on no product package.
import {
  chromiumAvailable,
  ensureBoardBuilt,
  launchChromium,
  type LaunchedChromium,
} from '@tillwatch/testkit/chromium';
import { startAllInOne, type AllInOne } from './start';

/**
 * `tillwatch start` as a person sees it: the real all-in-one (simulated fleet, engine, rules,
 * gateway) in Debian's Chromium. Screenshots go to services/tillwatch/screenshots/ (git-ignored).
 */
const haveChromium = chromiumAvailable('the all-in-one browser test');
const SHOTS = join(import.meta.dirname, '../../screenshots');

describe.skipIf(!haveChromium)('all-in-one board in Chromium', () => {
  let app: AllInOne;
  let browser: LaunchedChromium | undefined;
  let ctx: BrowserContext;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ensureBoardBuilt();
    app = await startAllInOne({
      port: 0,
      env: {
        TILLWATCH_SPEED: '10',
        TILLWATCH_HISTORY_MIN: '20',
        TILLWATCH_STATE_DIR: 'off', // no state from an earlier test run
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        NOTIFIER_JOURNAL_PATH: join(mkdtempSync(join(tmpdir(), 'tw-start-')), 'webhooks.journal'),
      },
    });
    browser = await launchChromium();
    ctx = browser.context;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('renders live numbers from the simulated fleet, and they move', async () => {
    const analyst = app.keys.find((k) => k.role === 'analyst')!;
    const page = await ctx.newPage();
    await page.goto(app.url);
    await page.getByTestId('login-key').fill(analyst.key);
    await page.getByTestId('login-name').fill('e2e');
    await page.getByTestId('login-submit').click();
    const cell = page.getByTestId('kpi-auths');
    await expect.poll(() => cell.textContent(), { timeout: 30_000 }).toMatch(/\d/);
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 3; i++) {
      seen.add((await cell.textContent()) ?? '');
      await page.waitForTimeout(500);
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: join(SHOTS, 'all-in-one-analyst.png'), fullPage: true });

    const sre = app.keys.find((k) => k.role === 'sre')!;
    const p2 = await ctx.newPage();
    await p2.goto(`${app.url}/#key=${sre.key}`);
    await p2.getByTestId('regions-view').waitFor({ timeout: 30_000 });
    await expect
      .poll(() => p2.locator('[data-region]').count(), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(10);
    await p2.screenshot({ path: join(SHOTS, 'all-in-one-sre.png'), fullPage: true });
  }, 120_000);
});
