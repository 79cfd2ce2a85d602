import { RULE_IDS } from '@tillwatch/contracts';
import { DEFAULT_RULES_CONFIG, RULE_TEXTS } from '@tillwatch/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '@tillwatch/testkit/chromium';
import { startBoardSuite, type BoardSuite } from './board-session';

/**
 * Staff's rules screen (#/rules) in a real Chromium: a card per rule of the contract with its
 * settings as named facts and the guides' causes and actions in the board's language; a
 * merchant has no way there.
 */
const haveChromium = chromiumAvailable('the browser suite');

let suite: BoardSuite;

describe.skipIf(!haveChromium)('rules screen in Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    suite = await startBoardSuite();
  }, 60_000);

  afterAll(async () => {
    await suite?.close();
  });

  it('an analyst sees every rule’s card with its settings, causes and actions, in either language', async () => {
    const page = await suite.openBoard('analyst');
    await page.getByTestId('board-view').waitFor();
    await page.getByTestId('tab-rules').click();
    await page.getByTestId('rules-view').waitFor();
    const cards = page.getByTestId('rule-card');
    await expect.poll(() => cards.count()).toBe(RULE_IDS.length);
    expect(await page.getByTestId('rules-source').textContent()).toContain('shipped defaults');

    for (const id of RULE_IDS) {
      const c = page.locator(`[data-testid="rule-card"][data-rule="${id}"]`);
      const causes = await c.getByTestId('rule-causes').locator('li').allTextContents();
      expect(causes, id).toEqual(RULE_TEXTS[id].en.probableCauses);
      const actions = await c.getByTestId('rule-actions').locator('li').allTextContents();
      expect(actions, id).toEqual(RULE_TEXTS[id].en.actions);
      expect(await c.getAttribute('data-enabled')).toBe(
        String(DEFAULT_RULES_CONFIG.rules[id].enabled),
      );
    }

    // thresholds are named facts, not JSON
    const ct = page.locator('[data-testid="rule-card"][data-rule="card_testing"]');
    expect(await ct.locator('h2').textContent()).toBe('Card testing suspected');
    expect(await ct.getByTestId('rule-severity').textContent()).toBe('critical');
    const minCount = ct.getByTestId('rule-thresholds').locator('dd[data-fact="minCount"]');
    expect(await minCount.textContent()).toBe(
      String(DEFAULT_RULES_CONFIG.rules.card_testing.minCount),
    );
    const thresholds = (await ct.getByTestId('rule-thresholds').textContent()) ?? '';
    expect(thresholds).toContain('distinct cards, at least');
    expect(thresholds).not.toMatch(/[{}"]/);
    expect(await ct.getByTestId('rule-early').locator('dd[data-fact="pValue"]').textContent()).toBe(
      '10⁻⁷',
    );
    expect(await ct.locator('dd[data-fact="windows"]').textContent()).toBe('5m, 15m');
    // no verdicts in the scenario: the precision says so rather than 0 %
    expect(await ct.getByTestId('rule-precision').textContent()).toBe('no verdicts yet');
    await suite.shot(page, 'rules-analyst-en');

    // the same screen in Chinese
    await page.getByTestId('lang-zh').click();
    await page.getByTestId('rules-view').waitFor();
    await expect.poll(() => page.getByTestId('rule-card').count()).toBe(RULE_IDS.length);
    await expect
      .poll(() => page.locator('[data-rule="card_testing"] h2').textContent())
      .toBe('疑似盗卡测试');
    for (const id of RULE_IDS) {
      const c = page.locator(`[data-testid="rule-card"][data-rule="${id}"]`);
      const causes = await c.getByTestId('rule-causes').locator('li').allTextContents();
      expect(causes, id).toEqual(RULE_TEXTS[id].zh.probableCauses);
    }
    expect(
      await page.locator('[data-rule="card_testing"] [data-testid="rule-severity"]').textContent(),
    ).toBe('严重');
    await suite.shot(page, 'rules-analyst-zh');
    await page.context().close();
  });

  it('a merchant has no rules tab, and #/rules does not show it the rules', async () => {
    const page = await suite.openBoard('merchantA');
    await page.getByTestId('merchant-view').waitFor();
    expect(await page.getByTestId('tab-rules').count()).toBe(0);
    await page.goto(`${suite.scenario.url}#/rules`);
    await page.getByTestId('merchant-view').waitFor();
    expect(await page.getByTestId('rules-view').count()).toBe(0);
    await page.context().close();
  });
});
