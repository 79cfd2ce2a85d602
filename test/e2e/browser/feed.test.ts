import { syntheticAlert } from '@tillwatch/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '@tillwatch/testkit/chromium';
import { startBoardSuite, type BoardSuite } from './board-session';
import { OUTAGE_REGION, outageAlert } from './scenario';

/**
 * The analyst's feed in a real Chromium: grouped by incident (an alert the engine folded into
 * a regional outage sits under it, with what else the outage explains), driven from the
 * keyboard, announced to screen readers; and the board's light and dark themes.
 */
const haveChromium = chromiumAvailable('the browser suite');

let suite: BoardSuite;

/** a terminal alert sent before the outage was found, then folded into it (episodes.ts) */
const foldedTerminal = () =>
  syntheticAlert({
    alertId: 'al-e2e-T-A3',
    rule: 'terminal_network_errors',
    severity: 'warning',
    scope: 'terminal',
    key: 'T-A3',
    merchantId: 'M-A',
    region: OUTAGE_REGION,
    metric: 'timeout_rate',
    value: 0.3,
    threshold: 0.12,
    baseline: 0.02,
    evidence: {
      foldedInto: {
        alertId: 'al-e2e-outage',
        rule: 'regional_outage',
        scope: 'region',
        key: OUTAGE_REGION,
      },
    },
  });

/** the outage as the engine sends it once it explains three terminals */
const outageExplaining = () => {
  const a = outageAlert();
  return {
    ...a,
    evidence: {
      ...a.evidence,
      foldedCount: 3,
      folded: [
        { rule: 'terminal_network_errors', scope: 'terminal', key: 'T-A3', since: 1 },
        { rule: 'terminal_network_errors', scope: 'terminal', key: 'T-A4', since: 2 },
        { rule: 'terminal_network_errors', scope: 'terminal', key: 'T-A1', since: 3 },
      ],
    },
  };
};

describe.skipIf(!haveChromium)('the alert feed in Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    suite = await startBoardSuite();
    suite.scenario.store.pushAlert(outageExplaining());
    suite.scenario.store.pushAlert(foldedTerminal());
  }, 60_000);

  afterAll(async () => {
    await suite?.close();
  });

  it('groups by incident on request, and the link keeps the grouping', async () => {
    const page = await suite.openBoard('analyst');
    const feed = page.getByTestId('alert-feed');
    await feed.locator('[data-alert-id="al-e2e-T-A3"]').waitFor();
    // flat by default: every alert a card of its own, no incidents
    expect(await feed.getByTestId('incident').count()).toBe(0);

    await page.getByTestId('group-incidents').check();
    const incident = feed.locator('[data-incident-id="al-e2e-outage"]');
    await incident.waitFor();
    expect(page.url()).toContain('group=incident');
    // the folded terminal alert under its outage, not beside it
    const children = incident.getByTestId('incident-children');
    expect(await children.locator('[data-alert-id="al-e2e-T-A3"]').count()).toBe(1);
    expect(await feed.locator('[data-alert-id="al-e2e-T-A3"]').count()).toBe(1);
    // what else it explains: named once, links to the terminals' pages
    const explains = incident.getByTestId('incident-explains');
    expect(await explains.textContent()).toBe('Explains 3: T-A4, T-A1');
    expect(await explains.locator('a').first().getAttribute('href')).toBe('#/entity/terminal/T-A4');
    // T-A2's alert is not folded: it stays a group of its own
    expect(await feed.locator('[data-incident-id] [data-alert-id="al-e2e-T-A2"]').count()).toBe(0);
    await suite.shot(page, 'board-grouped-by-incident');

    // the address reproduces it in a new tab (the session is shared)
    const other = await page.context().newPage();
    await other.goto(page.url());
    await other.locator('[data-incident-id="al-e2e-outage"]').waitFor();
    expect(await other.getByTestId('group-incidents').isChecked()).toBe(true);
    await other.getByTestId('group-incidents').uncheck();
    await expect.poll(() => other.getByTestId('incident').count()).toBe(0);
    expect(other.url()).not.toContain('group=');
  });

  it('filters the feed by region and merchant, offering those its alerts have, in the URL', async () => {
    const page = await suite.openBoard('analyst');
    const feed = page.getByTestId('alert-feed');
    await feed.locator('[data-alert-id="al-e2e-T-A3"]').waitFor();
    const ids = () =>
      feed
        .locator('.alert-card')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-alert-id')).sort());
    const regions = await page.getByTestId('filter-region').locator('option').allTextContents();
    expect(regions).toEqual(expect.arrayContaining(['CN-31', OUTAGE_REGION]));
    await page.getByTestId('filter-region').selectOption('CN-31');
    await expect.poll(ids).toEqual(['al-e2e-T-B3']);
    expect(new URLSearchParams(page.url().split('?')[1]).get('region')).toBe('CN-31');
    await page.getByTestId('filter-region').selectOption('');
    await page.getByTestId('filter-merchant').selectOption('M-A');
    await expect.poll(ids).toEqual(['al-e2e-T-A2', 'al-e2e-T-A3']);
    await page.context().close();
  });

  it('is driven from the keyboard: arrows move between cards, Enter opens, a acknowledges', async () => {
    const page = await suite.openBoard('analyst');
    const feed = page.getByTestId('alert-feed');
    await feed.locator('[data-alert-id="al-e2e-T-A3"]').waitFor();
    const cards = feed.locator('.alert-card');
    const ids = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-alert-id')));
    expect(ids.length).toBeGreaterThanOrEqual(3);
    // (a string: this package's TypeScript has no DOM types)
    const focused = () =>
      page.evaluate<string | null>('document.activeElement?.getAttribute("data-alert-id") ?? null');

    await cards.first().focus();
    expect(await focused()).toBe(ids[0]);
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe(ids[1]);
    await page.keyboard.press('j');
    expect(await focused()).toBe(ids[2]);
    await page.keyboard.press('k');
    expect(await focused()).toBe(ids[1]);
    await page.keyboard.press('Home');
    expect(await focused()).toBe(ids[0]);
    // every card says what it is to a screen reader
    expect(await cards.first().getAttribute('aria-label')).toMatch(/^(critical|warning|info), /i);

    // `a` on an open alert acknowledges it; its card keeps the focus through the redraw
    const target = feed.locator('[data-alert-id="al-e2e-T-A3"]');
    await target.focus();
    await page.keyboard.press('a');
    await expect.poll(() => target.getByTestId('wf-state').textContent()).toBe('Acknowledged');
    expect(await focused()).toBe('al-e2e-T-A3');

    await page.keyboard.press('Enter');
    await page.getByTestId('evidence').waitFor();
    expect(page.url()).toContain('#/alert/al-e2e-T-A3');
  });

  it('announces a new firing alert through its aria-live region, not the ones already shown', async () => {
    const page = await suite.openBoard('analyst');
    const feed = page.getByTestId('alert-feed');
    await feed.locator('[data-alert-id="al-e2e-T-A3"]').waitFor();
    const announcer = feed.getByTestId('feed-announcer');
    expect(await announcer.getAttribute('aria-live')).toBe('polite');
    expect(await announcer.textContent()).toBe('');

    suite.scenario.store.pushAlert(
      syntheticAlert({
        alertId: 'al-e2e-T-C2',
        rule: 'reversal_spike',
        severity: 'critical',
        scope: 'terminal',
        key: 'T-C2',
        merchantId: 'M-C',
        region: 'CN-11',
        metric: 'reversal_rate',
        value: 0.4,
        threshold: 0.1,
        baseline: 0.01,
      }),
    );
    await expect
      .poll(() => announcer.textContent())
      .toContain('New alert: critical, Reversal spike');
    expect(await announcer.textContent()).toContain('T-C2');
    expect(await announcer.textContent()).not.toContain('T-A3');
  });

  it('switches between light and dark themes, remembered in this browser', async () => {
    const page = await suite.openBoard('analyst');
    await page.getByTestId('board-view').waitFor();
    const theme = () => page.evaluate<string>('document.documentElement.dataset.theme');
    const background = () =>
      page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
    const first = await theme();
    expect(['light', 'dark']).toContain(first);
    const bg1 = await background();
    await page.getByTestId('theme').click();
    const second = await theme();
    expect(second).toBe(first === 'light' ? 'dark' : 'light');
    expect(await background()).not.toBe(bg1);
    await page.reload();
    await page.getByTestId('board-view').waitFor();
    expect(await theme()).toBe(second);
    if (second === 'light') await suite.shot(page, 'board-light');
    else {
      await page.getByTestId('theme').click();
      await suite.shot(page, 'board-light');
    }
  });
});
