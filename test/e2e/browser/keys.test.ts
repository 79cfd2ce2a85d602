import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '@tillwatch/testkit/chromium';
import { startBoardSuite, type BoardSuite } from './board-session';

/**
 * The admin's API keys screen (#/keys): make a merchant key (shown once), sign in with it as
 * the merchant would, revoke it (refused from then on); analysts have no such screen.
 */
const haveChromium = chromiumAvailable('the browser suite');

let suite: BoardSuite;

describe.skipIf(!haveChromium)('API keys on the board', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    suite = await startBoardSuite();
  }, 60_000);

  afterAll(async () => {
    await suite?.close();
  });

  it('an admin makes a merchant key, it signs in as that merchant, and revoked it is refused', async () => {
    const page = await suite.openBoard('admin');
    await page.getByTestId('tab-keys').click();
    await page.getByTestId('keys-view').waitFor();
    // the configured keys are listed by name and fingerprint, never the keys
    await expect.poll(() => page.locator('[data-state="configured"]').count()).toBeGreaterThan(0);
    await page.getByTestId('key-role').selectOption('merchant');
    await page.getByTestId('key-merchant').fill('M-A');
    await page.getByTestId('key-name').fill('M-A till app');
    await page.getByTestId('key-create').click();
    const secret = (await page.getByTestId('key-secret').textContent())!;
    expect(secret).toMatch(/^tw_/);
    const row = page.locator('[data-testid="key-row"][data-state="active"]', {
      hasText: 'M-A till app',
    });
    await row.waitFor();
    expect(await page.getByTestId('keys-rows').textContent()).not.toContain(secret);
    await suite.shot(page, 'keys-admin');

    // the holder signs in with it: the merchant's own screen
    const merchant = await (await suite.browser.newContext()).newPage();
    await merchant.goto(suite.scenario.url);
    await merchant.getByTestId('login-key').fill(secret);
    await merchant.getByTestId('login-submit').click();
    await merchant.getByTestId('merchant-view').waitFor();
    await merchant.context().close();

    await row.getByTestId('key-revoke').click();
    await page
      .locator('[data-testid="key-row"][data-state="revoked"]', { hasText: 'M-A till app' })
      .waitFor();
    const me = await fetch(`${suite.scenario.url}/api/me`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(me.status).toBe(401);
    await page.context().close();
  });

  it('an analyst has no keys tab, and #/keys shows the board', async () => {
    const page = await suite.openBoard('analyst');
    await page.getByTestId('board-view').waitFor();
    expect(await page.getByTestId('tab-keys').count()).toBe(0);
    await page.goto(`${suite.scenario.url}#/keys`);
    await page.getByTestId('board-view').waitFor();
    expect(await page.getByTestId('keys-view').count()).toBe(0);
    await page.context().close();
  });
});
