import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAllInOne, type AllInOne } from './start';

/**
 * `tillwatch start` as a person sees it: the real all-in-one (simulated fleet, engine, rules,
 * gateway) in Debian's Chromium. Screenshots go to services/tillwatch/screenshots/ (git-ignored).
 */
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env['CI'])
  throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
if (!haveChromium)
  console.warn(`!! SKIPPING the all-in-one browser test: ${CHROMIUM} not found !!`);
const SHOTS = join(import.meta.dirname, '../../screenshots');

describe.skipIf(!haveChromium)('all-in-one board in Chromium', () => {
  let app: AllInOne;
  let ctx: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const web = join(import.meta.dirname, '../../../../dashboards/web');
    if (!existsSync(join(web, 'dist/index.html'))) {
      execFileSync('npx', ['vite', 'build'], { cwd: web, stdio: 'inherit' });
    }
    app = await startAllInOne({
      port: 0,
      env: {
        TILLWATCH_SPEED: '10',
        TILLWATCH_HISTORY_MIN: '20',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        NOTIFIER_JOURNAL_PATH: join(mkdtempSync(join(tmpdir(), 'tw-start-')), 'webhooks.journal'),
      },
    });
    profile = mkdtempSync(join(tmpdir(), 'tw-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1440, height: 900 },
    });
  }, 120_000);

  afterAll(async () => {
    await ctx?.close();
    await app?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
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
