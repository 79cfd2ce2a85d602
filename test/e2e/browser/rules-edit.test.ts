import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '@tillwatch/testkit/chromium';
import { startBoardSuite, type BoardSuite } from './board-session';

/**
 * An admin edits the rules file on the board (#/rules): a valid edit is saved and the cards
 * show it, an invalid one is refused with the field named and the file stays, the edit is in
 * the history; analysts see the rules but no editor.
 */
const haveChromium = chromiumAvailable('the browser suite');

let suite: BoardSuite;
const dir = mkdtempSync(join(tmpdir(), 'tw-board-rules-'));
const file = join(dir, 'rules.json');

describe.skipIf(!haveChromium)('editing rules on the board', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    writeFileSync(
      file,
      `${JSON.stringify({ rules: { card_testing: { minCount: 9 } } }, null, 2)}\n`,
    );
    suite = await startBoardSuite({ rulesFile: file });
  }, 60_000);

  afterAll(async () => {
    await suite?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const minCount = (page: import('playwright-core').Page) =>
    page
      .locator('[data-testid="rule-card"][data-rule="card_testing"]')
      .getByTestId('rule-thresholds')
      .locator('dd[data-fact="minCount"]')
      .textContent();

  it('an admin saves a valid edit; a refused one names the field and changes nothing', async () => {
    const page = await suite.openBoard('admin');
    await page.getByTestId('tab-rules').click();
    const box = page.getByTestId('rules-text');
    await expect.poll(() => box.inputValue()).toContain('"minCount": 9');
    expect(await minCount(page)).toBe('9');

    // refused: below the schema's minimum
    await box.fill(JSON.stringify({ rules: { card_testing: { minCount: 0 } } }));
    await page.getByTestId('rules-save').click();
    const status = page.getByTestId('rules-edit-status');
    await expect.poll(() => status.getAttribute('data-state')).toBe('error');
    expect(await status.textContent()).toContain('rules.card_testing.minCount');
    expect(JSON.parse(readFileSync(file, 'utf8')).rules.card_testing.minCount).toBe(9);

    // valid: saved, the cards show it, the history names who
    await box.fill(JSON.stringify({ rules: { card_testing: { minCount: 12 } } }, null, 2));
    await page.getByTestId('rules-save').click();
    await expect.poll(() => status.getAttribute('data-state')).toBe('ok');
    expect(JSON.parse(readFileSync(file, 'utf8')).rules.card_testing.minCount).toBe(12);
    await expect.poll(() => minCount(page)).toBe('12');
    const entry = page.getByTestId('rules-history-entry').first();
    expect(await entry.textContent()).toContain('admin-e2e');
    await suite.shot(page, 'rules-admin-edit');
    await page.context().close();
  });

  it('an analyst sees the rules, not the editor', async () => {
    const page = await suite.openBoard('analyst');
    await page.getByTestId('tab-rules').click();
    await page.getByTestId('rule-card').first().waitFor();
    expect(await page.getByTestId('rules-editor').count()).toBe(0);
    await page.context().close();
  });
});
