import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '@tillwatch/testkit/chromium';
import { startBoardSuite, type BoardSuite } from './board-session';

/**
 * Closing an alert asks for a verdict, and the "Rule quality" panel shows what the verdicts
 * make of each rule: in a real Chromium (Debian's /usr/bin/chromium, never a downloaded one)
 * against a real gateway on a free loopback port, fed by the browser suite's synthetic incident.
 */
const haveChromium = chromiumAvailable('the verdict browser suite');

let suite: BoardSuite;

/** One figure of one rule's row in the quality panel. */
const cell = (page: Page, rule: string, col: string) =>
  page
    .getByTestId('rule-quality')
    .locator(`tr[data-rule="${rule}"] td[data-col="${col}"]`)
    .textContent();

async function openAlert(page: Page, alertId: string): Promise<void> {
  await page
    .locator(`[data-alert-id="${alertId}"]`)
    .getByRole('button', { name: 'Details' })
    .click();
  await page.getByTestId('alert-detail').waitFor();
}

async function close(page: Page, verdict: string, note?: string): Promise<void> {
  await page.getByTestId('resolve-btn').click();
  await page.getByTestId('verdict-dialog').waitFor();
  await page.getByTestId(`verdict-${verdict}`).check();
  if (note !== undefined) await page.getByTestId('verdict-note').fill(note);
  await page.getByTestId('verdict-confirm').click();
  await page.getByTestId('verdict-dialog').waitFor({ state: 'hidden' });
}

describe.skipIf(!haveChromium)('verdicts and rule quality in Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    suite = await startBoardSuite();
  }, 60_000);

  afterAll(async () => {
    await suite?.close();
  });

  it('analyst: closing asks for a verdict; the quality panel counts it, here and live on another board', async () => {
    const page = await suite.openBoard('analyst');
    // another analyst's board, left open: it must pick the verdicts up without a reload
    const other = await suite.openBoard('analyst', 'Wang Fang');
    await other.getByTestId('rule-quality').locator('tr[data-rule="regional_outage"]').waitFor();
    expect(await cell(other, 'regional_outage', 'raised')).toBe('1');
    expect(await cell(other, 'regional_outage', 'precision')).toBe('–');
    expect(await cell(other, 'regional_outage', 'no-verdict')).toBe('1 · 100%');
    await suite.shot(other, '10-rule-quality-before');

    await openAlert(page, 'al-e2e-outage');
    // the dialog opens with no verdict chosen and will not close the alert without one
    await page.getByTestId('resolve-btn').click();
    await page.getByTestId('verdict-dialog').waitFor();
    expect(await page.getByTestId('verdict-confirm').isDisabled()).toBe(true);
    await suite.shot(page, '11-verdict-dialog');
    await page.getByTestId('verdict-cancel').click();
    await page.getByTestId('verdict-dialog').waitFor({ state: 'hidden' });
    expect(await page.getByTestId('detail-wf').textContent()).toBe('Open');

    const note = 'Planned carrier maintenance in CN-44-SZ, 02:00-02:30, announced on Monday.';
    await close(page, 'expected', note);
    await expect.poll(() => page.getByTestId('detail-wf').textContent()).toBe('Closed');
    expect(await page.getByTestId('detail-verdict').textContent()).toBe(
      'Expected (planned or known)',
    );
    // a closed alert cannot be acknowledged again; its verdict can be corrected
    expect(await page.getByTestId('ack-btn').isDisabled()).toBe(true);
    expect(await page.getByTestId('resolve-btn').textContent()).toBe('Change verdict');
    const trail = page.getByTestId('audit-trail');
    await trail.getByText('Resolve — Expected (planned or known)').waitFor();
    expect(await trail.textContent()).toContain(note);

    await expect.poll(() => cell(other, 'regional_outage', 'expected')).toBe('1');
    expect(await cell(other, 'regional_outage', 'precision')).toBe('–');
    expect(await cell(other, 'regional_outage', 'no-verdict')).toBe('0 · 0%');

    // a false alarm, then found to be real after all: the later verdict replaces it
    await page.getByRole('button', { name: '← Back' }).click();
    await openAlert(page, 'al-e2e-T-B3');
    await close(page, 'false_alarm');
    await expect.poll(() => cell(other, 'input_errors', 'false')).toBe('1');
    expect(await cell(other, 'input_errors', 'precision')).toBe('0.0%');
    await page.getByTestId('resolve-btn').click();
    expect(await page.getByTestId('verdict-false_alarm').isChecked()).toBe(true);
    await page.getByTestId('verdict-true_incident').check();
    await page.getByTestId('verdict-confirm').click();
    await expect.poll(() => page.getByTestId('detail-verdict').textContent()).toBe('True incident');
    await expect.poll(() => cell(other, 'input_errors', 'true')).toBe('1');
    expect(await cell(other, 'input_errors', 'false')).toBe('0');
    expect(await cell(other, 'input_errors', 'precision')).toBe('100.0%');
    await suite.shot(other, '12-rule-quality-after');
    // the board this analyst goes back to loads the report afresh
    await page.getByRole('button', { name: '← Back' }).click();
    await expect.poll(() => cell(page, 'input_errors', 'true')).toBe('1');
    const total = page.getByTestId('rule-quality').locator('tfoot tr');
    expect(await total.locator('td[data-col="raised"]').textContent()).toBe('3');
    expect(await total.locator('td[data-col="no-verdict"]').textContent()).toBe('1 · 33%');
    // the verdicts show on the alerts' cards: the other board's feed, the terminal's page
    const verdictOn = (p: Page, scope: string) =>
      p.locator(`${scope} [data-alert-id="al-e2e-T-B3"] [data-testid="verdict"]`).allTextContents();
    await expect
      .poll(() => verdictOn(other, '[data-testid="alert-feed"]'))
      .toEqual(['True incident']);
    await page.goto(`${suite.scenario.url}#/entity/terminal/T-B3`);
    await expect
      .poll(() => verdictOn(page, '[data-testid="entity-view"]'), { timeout: 5000 })
      .toEqual(['True incident']);
    await page.close();
    await other.close();
  });

  it('merchant A sees the quality of its own alerts only, and cannot close alerts', async () => {
    const page = await suite.openBoard('merchantA');
    await page.getByTestId('merchant-view').waitFor();
    const panel = page.getByTestId('rule-quality');
    await panel.locator('tr[data-rule="terminal_network_errors"]').waitFor();
    const rules = await panel
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-rule')));
    expect(rules).toEqual(['terminal_network_errors']);
    await page
      .locator('[data-alert-id="al-e2e-T-A2"]')
      .getByRole('button', { name: 'Details' })
      .click();
    await page.getByTestId('alert-detail').waitFor();
    expect(await page.getByTestId('resolve-btn').count()).toBe(0);
    await suite.shot(page, '13-merchant-rule-quality');
    await page.close();
  });
});
