import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '@tillwatch/testkit/chromium';
import { startBoardSuite, type BoardSuite } from './board-session';
import { KEYS, OUTAGE_REGION, terminalsOf } from './scenario';

/**
 * The live board in a real Chromium (Debian's /usr/bin/chromium, never a downloaded one),
 * against a real gateway on a free loopback port fed by a synthetic incident.
 */
const haveChromium = chromiumAvailable('the browser suite');

/** a DOM element's box, as the header test reads it in the page */
interface Box {
  getBoundingClientRect(): { top: number; height: number; width: number };
  scrollWidth: number;
  clientWidth: number;
}

let suite: BoardSuite;

describe.skipIf(!haveChromium)('live board in Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    suite = await startBoardSuite();
  }, 60_000);

  afterAll(async () => {
    await suite?.close();
  });

  it('analyst: sees the alert, acknowledges it with a note, the note survives a reload', async () => {
    const page = await suite.openBoard('analyst');
    const card = page.locator('[data-alert-id="al-e2e-T-A2"]');
    await card.waitFor();
    await page.getByTestId('worst-terminals').locator('tr[data-key="T-A2"]').waitFor();
    // ranked by the rate's lower bound, shown with the fault count behind it
    const worst = page.getByTestId('worst-terminals');
    expect(await worst.locator('thead').textContent()).toContain('At least');
    expect(await worst.locator('tr[data-key="T-A2"]').textContent()).toMatch(/≥ \d+\.\d%/);
    await expect.poll(() => page.getByTestId('conn').textContent()).toBe('Live');
    await suite.shot(page, '01-analyst-board');

    await card.getByRole('button', { name: 'Details' }).click();
    await page.getByTestId('alert-detail').waitFor();
    await page.getByTestId('txn-row').first().waitFor();
    expect(await page.getByTestId('drilldown').textContent()).toContain('TO');
    // click a code: only its transactions; the export holds what is shown, card and issuer too
    const drillBox = page.getByTestId('drilldown');
    const all = await page.getByTestId('txn-row').count();
    await drillBox.locator('tr[data-code="TO"]').click();
    await expect
      .poll(() => page.getByTestId('code-filter').textContent())
      .toMatch(/^Only code TO: /);
    const codesShown = await page
      .getByTestId('txn-row')
      .evaluateAll((trs) => trs.map((tr) => tr.children[5]?.textContent));
    expect(codesShown.length).toBeGreaterThan(0);
    expect(new Set(codesShown)).toEqual(new Set(['TO']));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-csv').click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\r\n');
    expect(csv[0]).toBe(
      'ts,type,terminalId,merchantId,region,txnId,amount,currency,code,cardFingerprint,issuerId',
    );
    expect(csv.length - 1).toBe(codesShown.length);
    await drillBox.locator('tr[data-code="TO"]').click();
    await expect.poll(() => page.getByTestId('txn-row').count()).toBe(all);
    // the chart says what it plots: not the alert's timeout rate, the fault rate, in its zone
    await expect
      .poll(() => page.getByTestId('chart-title').textContent())
      .toMatch(/^Fault rate · window \w+ · since \d\d:\d\d \(.+\)$/);
    expect(await page.getByTestId('chart-note').textContent()).toContain('not kept as a series');
    // the evidence as named facts, not JSON
    const evidence = page.getByTestId('evidence');
    expect(await evidence.textContent()).toContain('Top response codesTO 41');
    expect(await evidence.textContent()).not.toContain('{');
    const note = 'Router at the till rebooted; timeouts stopped at 14:05. Checked SIM signal: ok.';
    await page.getByTestId('note-input').fill(note);
    await page.getByTestId('ack-btn').click();
    await expect.poll(() => page.getByTestId('detail-wf').textContent()).toBe('Acknowledged');
    // done is done: acknowledging again is off, closing is not
    expect(await page.getByTestId('ack-btn').isDisabled()).toBe(true);
    expect(await page.getByTestId('resolve-btn').isDisabled()).toBe(false);
    // a refused input is said in words, not the server's validation text
    await page.getByTestId('assignee-input').fill('   ');
    await page.getByTestId('assign-btn').click();
    await expect.poll(() => page.locator('.toast').textContent()).toBe('Assign to: is required');
    await page.getByTestId('assignee-input').fill('field-team-SZ');
    await page.getByTestId('assign-btn').click();
    await page.getByTestId('audit-trail').getByText('field-team-SZ').waitFor();
    await suite.shot(page, '02-alert-detail-acknowledged');

    await page.reload();
    await page.getByTestId('audit-trail').getByText(note).waitFor();
    const trail = await page.getByTestId('audit-trail').textContent();
    expect(trail).toContain('Li Wei (analyst-e2e)');
    expect(trail).toContain(note);

    // guidance follows the reader's language (the alert carries i18n.zh)
    await page.getByTestId('lang-zh').click();
    await page.getByTestId('causes').getByText('网络故障', { exact: false }).waitFor();
    // severity, metric and event types too, not only the guidance
    const detail = page.getByTestId('alert-detail');
    expect(await detail.locator('.sev-pill').first().textContent()).toBe('严重');
    expect(await detail.textContent()).toContain('超时率');
    expect(await page.getByTestId('txn-row').first().textContent()).toContain('授权');
    await suite.shot(page, '03-alert-detail-zh');
    await page.getByTestId('lang-en').click();
    await page.close();
  });

  it('filters and search live in the URL: a link, a reload or a new tab shows the same view', async () => {
    const page = await suite.openBoard('analyst');
    await page.locator('[data-alert-id="al-e2e-T-A2"]').waitFor();
    await page.getByTestId('filter-severity').selectOption('warning');
    await page.getByTestId('search').fill('T-A');
    await page.getByRole('button', { name: '5m', exact: true }).click();
    await expect.poll(() => page.url()).toMatch(/#\/board\?w=5m&sev=warning&q=T-A$/);
    const keys = (view: Page) =>
      view
        .getByTestId('worst-terminals')
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key') ?? ''));
    const second = await page.context().newPage();
    for (const view of [page, second]) {
      if (view === page) await page.reload();
      else await view.goto(page.url());
      await view.getByTestId('board-view').waitFor();
      expect(await view.getByTestId('filter-severity').inputValue()).toBe('warning');
      expect(await view.getByTestId('search').inputValue()).toBe('T-A');
      expect(await view.locator('[data-testid="window-picker"] .on').textContent()).toBe('5m');
      // data in: the worst terminals are T-A's only; the critical T-A2 alert is filtered out
      await expect.poll(async () => (await keys(view)).length).toBeGreaterThan(0);
      expect((await keys(view)).every((k) => k.startsWith('T-A'))).toBe(true);
      expect(await view.locator('[data-alert-id="al-e2e-T-A2"]').count()).toBe(0);
    }
    // every severity again: it is back, and the URL says so
    await second.getByTestId('filter-severity').selectOption('');
    await second.locator('[data-alert-id="al-e2e-T-A2"]').waitFor();
    expect(second.url()).toMatch(/#\/board\?w=5m&q=T-A$/);
    // the language travels in a link too, to another person's browser
    await second.getByTestId('lang-zh').click();
    expect(second.url()).toMatch(/#\/board\?w=5m&lang=zh&q=T-A$/);
    const other = await suite.openBoard('analyst', 'Wang Fang');
    await other.getByTestId('board-view').waitFor();
    const htmlLang = () => other.locator('html').getAttribute('lang');
    expect(await htmlLang()).toBe('en');
    await other.goto(second.url());
    await expect.poll(htmlLang).toBe('zh-CN');
    expect(await other.getByTestId('search').inputValue()).toBe('T-A');
    await other.context().close();
    await page.context().close();
  });

  it('every terminal has a page, alert or not: rates, trend, its alerts, its transactions', async () => {
    const page = await suite.openBoard('analyst');
    // from a row of the worst terminals
    await page.getByTestId('worst-terminals').locator('tr[data-key="T-A2"]').click();
    const view = page.getByTestId('entity-view');
    await view.waitFor();
    expect(await view.getAttribute('data-key')).toBe('T-A2');
    await view.locator('[data-alert-id="al-e2e-T-A2"]').waitFor();
    await page.getByTestId('txn-row').first().waitFor();
    await expect.poll(() => page.getByTestId('entity-facts').textContent()).toContain('Auths');
    // its fault rate beside the fleet's (the rule's baseline without a learned one) and
    // terminal_fault_spike's threshold over it, named in the legend
    await expect.poll(() => page.locator('.chart').getAttribute('data-lines')).toBe('fleet');
    const legend = await page.locator('.chart .u-legend').textContent();
    expect(legend).toContain('Fleet (baseline)');
    expect(legend).toContain('Threshold');
    // a terminal no alert names, straight from its address
    await page.goto(`${suite.scenario.url}#/entity/terminal/T-C1`);
    await page.getByTestId('txn-row').first().waitFor();
    const terminals = await page
      .getByTestId('txn-row')
      .evaluateAll((trs) => trs.map((tr) => tr.children[1]?.textContent));
    expect(new Set(terminals)).toEqual(new Set(['T-C1']));
    await page.getByTestId('entity-view').locator('.empty', { hasText: 'No alerts' }).waitFor();
    // and from an alert's detail, its key links to its page
    await page.goto(`${suite.scenario.url}#/alert/al-e2e-T-A2`);
    await page.getByTestId('entity-link').click();
    await expect.poll(() => page.getByTestId('entity-view').getAttribute('data-key')).toBe('T-A2');
    await page.context().close();
  });

  it("a terminal page's time range: relative buttons, an absolute range, a drag on the chart; all in the URL", async () => {
    const page = await suite.openBoard('analyst');
    await page.getByTestId('board-view').waitFor();
    const asked: URL[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname === '/api/series' || u.pathname === '/api/events') asked.push(u);
    });
    const last = (path: string) => asked.filter((u) => u.pathname === path).at(-1);
    await page.goto(`${suite.scenario.url}#/entity/terminal/T-C4`);
    await expect.poll(() => page.getByTestId('txn-row').count()).toBe(200);
    // the default: the last hour, the picked window, the newest events of that hour
    const hour = last('/api/series')!;
    expect(
      Date.parse(hour.searchParams.get('until')!) - Date.parse(hour.searchParams.get('since')!),
    ).toBe(3_600_000);
    expect(hour.searchParams.get('window')).toBe('1m');

    // a day: the 15m window's trend (a day of 1m rates is single-minute samples)
    await page.getByTestId('range-picker').locator('[data-range="24h"]').click();
    await expect.poll(() => page.url()).toContain('range=24h');
    await expect.poll(() => last('/api/series')?.searchParams.get('window')).toBe('15m');
    await expect.poll(() => page.getByTestId('chart-title').textContent()).toContain('window 15m');

    // an absolute range from the inputs (the reader's local time): two minutes of T-C4's sales,
    // which are a second apart and span the 250 s before the scenario started
    const newest = await page.getByTestId('txn-row').first().getAttribute('data-ts');
    const end = Math.floor(Date.parse(newest!) / 60_000) * 60_000;
    const start = end - 120_000;
    const local = (ms: number) =>
      page.evaluate((t) => {
        const d = new Date(t);
        const two = (n: number) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
      }, ms);
    await page.getByTestId('range-from').fill(await local(start));
    await page.getByTestId('range-to').fill(await local(end));
    await page.getByTestId('range-apply').click();
    const hashParam = (name: string) => new URLSearchParams(page.url().split('?')[1]).get(name);
    await expect
      .poll(() => hashParam('from'))
      .toBe(`${new Date(start).toISOString().slice(0, 16)}Z`);
    expect(hashParam('to')).toBe(`${new Date(end).toISOString().slice(0, 16)}Z`);
    expect(hashParam('range')).toBeNull();
    await expect.poll(() => page.getByTestId('txn-row').count()).toBeLessThan(200);
    const rows = await page
      .getByTestId('txn-row')
      .evaluateAll((trs) => trs.map((tr) => Date.parse(tr.getAttribute('data-ts')!)));
    expect(rows.length).toBeGreaterThanOrEqual(100);
    for (const ts of rows) expect(ts >= start && ts <= end).toBe(true);
    const ev = last('/api/events')!;
    expect(Date.parse(ev.searchParams.get('since')!)).toBe(start);
    expect(Date.parse(ev.searchParams.get('until')!)).toBe(end);
    // the link reproduces it
    const other = await page.context().newPage();
    await other.goto(page.url());
    await expect.poll(() => other.getByTestId('txn-row').count()).toBe(rows.length);
    await other.close();

    // a drag across the chart picks a narrower absolute range
    await page.goto(`${suite.scenario.url}#/entity/terminal/T-A2?range=15m`);
    const over = page.locator('.chart .u-over');
    await over.waitFor();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => hashParam('from')).not.toBeNull();
    expect(Date.parse(hashParam('to')!) - Date.parse(hashParam('from')!)).toBeLessThan(15 * 60_000);
    await page.context().close();
  });

  it("a terminal's transactions filtered by code, type and amount, in the URL", async () => {
    const page = await suite.openBoard('analyst');
    await page.getByTestId('board-view').waitFor();
    await page.goto(`${suite.scenario.url}#/entity/terminal/T-A2`);
    await page.getByTestId('txn-row').first().waitFor();
    const cells = (col: number) =>
      page
        .getByTestId('txn-row')
        .evaluateAll((trs, c) => trs.map((tr) => tr.children[c]?.textContent ?? ''), col);
    expect(new Set(await cells(5)).size).toBeGreaterThan(1); // several codes before
    // a code: only its transactions, asked of the server (the summary follows)
    await page.getByTestId('txn-tcode').fill('TO');
    await page.getByTestId('txn-tcode').press('Enter');
    await expect.poll(async () => [...new Set(await cells(5))]).toEqual(['TO']);
    const hashParam = (name: string) => new URLSearchParams(page.url().split('?')[1]).get(name);
    expect(hashParam('tcode')).toBe('TO');
    // and an amount bound (yuan): every row at or above it
    const amounts = (await cells(4)).map((x) => Number.parseFloat(x));
    const bound = [...amounts].sort((a, b) => a - b)[Math.floor(amounts.length / 2)]!;
    await page.getByTestId('txn-tmin').fill(String(bound));
    await page.getByTestId('txn-tmin').press('Enter');
    await expect
      .poll(async () => (await cells(4)).every((x) => Number.parseFloat(x) >= bound))
      .toBe(true);
    expect((await cells(4)).length).toBeLessThan(amounts.length);
    // no reversals among them
    await page.getByTestId('txn-ttype').selectOption('reversal');
    await expect.poll(() => page.getByTestId('txn-row').count()).toBe(0);
    // the link keeps them
    expect(hashParam('ttype')).toBe('reversal');
    const other = await page.context().newPage();
    await other.goto(page.url());
    await other.getByTestId('entity-view').waitFor();
    expect(await other.getByTestId('txn-tcode').inputValue()).toBe('TO');
    await other.close();
    await page.context().close();
  });

  it("a busy terminal's transactions page back 200 at a time", async () => {
    const page = await suite.openBoard('analyst');
    await page.getByTestId('board-view').waitFor();
    await page.goto(`${suite.scenario.url}#/entity/terminal/T-C4`);
    await expect.poll(() => page.getByTestId('txn-row').count()).toBe(200);
    await page.getByTestId('load-older').click();
    await expect.poll(() => page.getByTestId('txn-row').count()).toBeGreaterThanOrEqual(250);
    // everything loaded: no more older page to ask for
    expect(await page.getByTestId('load-older').isHidden()).toBe(true);
    await page.context().close();
  });

  it("a merchant's entity pages show its own terminals only", async () => {
    const page = await suite.openBoard('merchantA');
    await page.getByTestId('merchant-view').waitFor();
    await page.getByTestId('my-terminals').locator('tr[data-key="T-A1"]').click();
    await page.getByTestId('txn-row').first().waitFor();
    // no rules for merchants (staff only): their terminal's chart has no guide lines
    await expect.poll(() => page.locator('.chart').getAttribute('data-lines')).toBe('none');
    await page.goto(`${suite.scenario.url}#/entity/terminal/T-B1`);
    await expect
      .poll(() => page.getByTestId('drilldown').textContent())
      .toContain('0 matching events');
    expect(await page.getByTestId('txn-row').count()).toBe(0);
    await page.context().close();
  });

  it('silences: made on their screen, they show what they mute at once, and end on request', async () => {
    const page = await suite.openBoard('analyst');
    await page.locator('[data-alert-id="al-e2e-T-A2"]').waitFor();
    await page.getByTestId('tab-silences').click();
    await page.getByTestId('silences-view').waitFor();
    // a refused one first: no comment
    await page.getByTestId('silence-key').fill('T-A2');
    await page.getByTestId('silence-create').click();
    await expect.poll(() => page.locator('.toast').textContent()).toBe('Why: is required');
    await page.getByTestId('silence-duration').selectOption({ label: '1h' });
    await page.getByTestId('silence-comment').fill('Router swap at the till, back by 15:00');
    await page.getByTestId('silence-create').click();
    const row = page.getByTestId('silence-row').first();
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('active');
    expect(await row.textContent()).toContain('key=T-A2');
    await expect.poll(() => row.getByTestId('silence-mutes').textContent()).toBe('1');
    // the alert it mutes says so on the board, without waiting for its next transition
    await page.getByTestId('tab-board').click();
    await expect
      .poll(() => page.locator('[data-alert-id="al-e2e-T-A2"]').textContent())
      .toContain('Silenced');
    await page.getByTestId('tab-silences').click();
    await page.getByTestId('silence-end').first().click();
    await page.getByTestId('silences-view').locator('.empty', { hasText: 'No silences' }).waitFor();
    await page.context().close();
  });

  it('a silence with a daily window mutes only inside it, in the reader’s zone, on the days ticked', async () => {
    const page = await suite.openBoard('analyst');
    await page.locator('[data-alert-id="al-e2e-T-B3"]').waitFor();
    await page.getByTestId('tab-silences').click();
    await page.getByTestId('silences-view').waitFor();
    // the browser's local clock, as the form's time inputs read it
    const local = (offsetMin: number) =>
      page.evaluate<string>(
        `(() => { const d = new Date(Date.now() + ${offsetMin} * 60000); return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0'); })()`,
      );
    const make = async (key: string, from: string, to: string, why: string) => {
      await page.getByTestId('silence-key').fill(key);
      await page.getByTestId('silence-duration').selectOption({ label: '7d' });
      await page.getByTestId('silence-repeat').check();
      await page.getByTestId('silence-repeat-start').fill(from);
      await page.getByTestId('silence-repeat-end').fill(to);
      await page.getByTestId('silence-comment').fill(why);
      await page.getByTestId('silence-create').click();
      const row = page.getByTestId('silence-row').filter({ hasText: `key=${key}` });
      await row.waitFor();
      return row;
    };
    // now inside: 1 h ago to 1 h ahead, every day
    const [a1, a2] = [await local(-60), await local(60)];
    const open = await make('T-B3', a1, a2, 'Nightly reconciliation job');
    expect(await open.getAttribute('data-state')).toBe('active');
    expect(await open.getByTestId('silence-repeats').textContent()).toMatch(
      new RegExp(`^${a1}–${a2} \\([+-]\\d\\d:\\d\\d\\)$`),
    );
    await expect.poll(() => open.getByTestId('silence-mutes').textContent()).toBe('1');
    // later today, on weekdays only: in its range, between windows, mutes nothing
    await page.getByTestId('silence-day-6').uncheck();
    await page.getByTestId('silence-day-0').uncheck();
    const later = await make('T-A2', await local(120), await local(180), 'Router firmware push');
    expect(await later.getAttribute('data-state')).toBe('idle');
    expect(await later.textContent()).toContain('between windows');
    expect(await later.getByTestId('silence-repeats').textContent()).toMatch(/^Mon–Fri /);
    expect(await later.getByTestId('silence-mutes').textContent()).toBe('0');
    await page.getByTestId('tab-board').click();
    await expect
      .poll(() => page.locator('[data-alert-id="al-e2e-T-B3"]').textContent())
      .toContain('Silenced');
    expect(await page.locator('[data-alert-id="al-e2e-T-A2"]').textContent()).not.toContain(
      'Silenced',
    );
    await page.getByTestId('tab-silences').click();
    for (const row of [open, later]) {
      await row.getByTestId('silence-end').click();
      await row.waitFor({ state: 'detached' });
    }
    await page.getByTestId('silences-view').locator('.empty', { hasText: 'No silences' }).waitFor();
    await page.context().close();
  });

  it('a table sorts by a clicked header, one way then the other', async () => {
    const page = await suite.openBoard('analyst');
    const table = page.getByTestId('worst-terminals');
    await expect.poll(() => table.locator('tbody tr').count()).toBeGreaterThan(1);
    const auths = () =>
      table
        .locator('tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => Number((tr.children[3]?.textContent ?? '').replace(/,/g, ''))),
        );
    const header = table.locator('th', { hasText: 'Auths' });
    const sorted = async (desc: boolean) => {
      const a = await auths();
      return a.every((x, i) => i === 0 || (desc ? a[i - 1]! >= x : a[i - 1]! <= x));
    };
    await header.click();
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    await expect.poll(() => sorted(true)).toBe(true);
    await header.click();
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(() => sorted(false)).toBe(true);
    await page.context().close();
  });

  it('the board renders live numbers that change', async () => {
    const page = await suite.openBoard('analyst');
    const cell = page.getByTestId('kpi-auths');
    await expect.poll(() => cell.textContent()).not.toBe('–');
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 3; i++) {
      seen.add((await cell.textContent()) ?? '');
      await page.waitForTimeout(300);
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
    await page.close();
  });

  it('SRE: the outage region is highlighted, its numbers update live, outage alert on top', async () => {
    const page = await suite.openBoard('sre');
    await page.getByTestId('regions-view').waitFor();
    const tile = page.locator(`[data-region="${OUTAGE_REGION}"]`);
    await tile.waitFor();
    await expect.poll(() => tile.getAttribute('data-level')).toBe('3');
    expect(await page.locator('[data-region="CN-31"]').getAttribute('data-level')).toBe('0');
    // the banner comes from the alerts, the tile's level from the rates: either may come first
    await expect
      .poll(() => page.getByTestId('outage-banner').textContent())
      .toContain(OUTAGE_REGION);
    const fault = tile.getByTestId('region-fault');
    const values = new Set<string>();
    for (let i = 0; i < 12 && values.size < 3; i++) {
      values.add((await fault.textContent()) ?? '');
      await page.waitForTimeout(300);
    }
    expect(values.size).toBeGreaterThanOrEqual(3);
    await suite.shot(page, '04-sre-regions');
    await page.close();
  });

  it('the session follows a link into a new tab; signing out in one tab ends it in every tab', async () => {
    const first = await suite.openBoard('sre');
    await first.getByTestId('regions-view').waitFor();
    const second = await first.context().newPage();
    await second.goto(`${suite.scenario.url}#/regions`);
    await second.getByTestId('regions-view').waitFor();
    expect(await second.locator('.who').textContent()).toContain('Wang Fang');
    await first.getByTestId('logout').click();
    await first.getByTestId('login-key').waitFor();
    await second.getByTestId('login-key').waitFor();
    await first.context().close();
  });

  it('every role’s screens fit a tablet (768 × 1024): nothing wider than the screen', async () => {
    const screens = [
      ['analyst', '#/board', 'board-view'],
      ['analyst', '#/entity/terminal/T-A2', 'entity-view'],
      ['analyst', '#/silences', 'silences-view'],
      ['sre', '#/regions', 'regions-view'],
      ['merchantA', '#/merchant', 'merchant-view'],
      ['admin', '#/rules', 'rules-view'],
    ] as const;
    for (const [role, hash, ready] of screens) {
      const page = await suite.openBoard(role);
      await page.setViewportSize({ width: 768, height: 1024 });
      await page.goto(`${suite.scenario.url}${hash}`);
      await page.getByTestId(ready).waitFor();
      await page.waitForTimeout(300);
      const [scroll, inner] = await page.evaluate<[number, number]>(
        '[document.documentElement.scrollWidth, window.innerWidth]',
      );
      expect(scroll, `${role} ${hash}`).toBeLessThanOrEqual(inner);
      await page.context().close();
    }
  });

  it('the header holds one line on an 800 px wide screen, in both languages', async () => {
    const page = await suite.openBoard('analyst', 'Li Wei the night-shift analyst');
    await page.setViewportSize({ width: 800, height: 700 });
    await page.getByTestId('board-view').waitFor();
    const rows = async () =>
      page.locator('header.top').evaluate((el) => {
        // (this package has no DOM types: the few members read, as the browser has them)
        const hd = el as unknown as Box & { children: ArrayLike<Box> };
        const tops = new Set<number>();
        for (const c of Array.from(hd.children)) {
          const r = c.getBoundingClientRect();
          if (r.width > 0) tops.add(Math.round(r.top + r.height / 2));
          // a child wrapping its own text is taller than one line
          if (r.height > 40) tops.add(-1);
        }
        return { lines: tops.size, width: hd.scrollWidth - hd.clientWidth };
      });
    expect(await rows()).toEqual({ lines: 1, width: 0 });
    await page.getByTestId('lang-zh').click();
    expect(await rows()).toEqual({ lines: 1, width: 0 });
    await page.context().close();
  });

  it('a dropped connection is hard to miss: old numbers dimmed, a banner says since when', async () => {
    const page = await suite.openBoard('analyst');
    await expect.poll(() => page.getByTestId('conn').textContent()).toBe('Live');
    expect(await page.getByTestId('stale-banner').isHidden()).toBe(true);
    // the network goes, the gateway drops the socket: reconnecting cannot succeed
    await page.context().setOffline(true);
    suite.scenario.gw.io.disconnectSockets(true);
    const banner = page.getByTestId('stale-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(
      /^Connection lost, reconnecting… The numbers below are as of \d\d:\d\d:\d\d \(\d+ s\)$/,
    );
    expect(await page.locator('main').getAttribute('class')).toContain('stale');
    // back: the banner goes, the numbers are live again
    await page.context().setOffline(false);
    await banner.waitFor({ state: 'hidden', timeout: 20_000 });
    await expect.poll(() => page.getByTestId('conn').textContent()).toBe('Live');
    expect(await page.locator('main').getAttribute('class')).not.toContain('stale');
    await page.context().close();
  });

  it('the API docs page says how to authenticate, placeholder and all', async () => {
    const page = await suite.browser.context.newPage();
    await page.goto(new URL('/docs', suite.scenario.url).href);
    const info = page.locator('.swagger-ui .info');
    await info.waitFor();
    await expect.poll(() => info.textContent()).toContain('Authorization: Bearer <api key>');
    await page.close();
  });

  it('merchant A sees only its own terminals and alerts, never merchant B’s', async () => {
    const page = await suite.openBoard('merchantA');
    await page.getByTestId('merchant-view').waitFor();
    const table = page.getByTestId('my-terminals');
    await table.locator('tr[data-key="T-A2"]').waitFor();
    await page.locator('[data-alert-id="al-e2e-T-A2"]').waitFor();
    // several live updates later, still nothing of B (and no region aggregates)
    const t0 = suite.scenario.ticks();
    await expect.poll(() => suite.scenario.ticks() - t0, { timeout: 5000 }).toBeGreaterThan(6);
    const keys = await table
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')));
    expect(keys.sort()).toEqual(terminalsOf('M-A').sort());
    const text = (await page.locator('body').textContent()) ?? '';
    for (const t of terminalsOf('M-B')) expect(text).not.toContain(t);
    expect(text).not.toContain('M-B');
    expect(await page.locator('[data-alert-id="al-e2e-T-B3"]').count()).toBe(0);
    expect(await page.locator('[data-alert-id="al-e2e-outage"]').count()).toBe(0);
    // the API refuses the region view outright
    const status = await page.evaluate(
      async (k) =>
        (await fetch('/api/rates?scope=region', { headers: { authorization: `Bearer ${k}` } }))
          .status,
      KEYS.merchantA.key,
    );
    expect(status).toBe(403);
    await suite.shot(page, '05-merchant-a');
    await page.close();
  });

  it('a merchant without alerts is told so, not shown a blank box', async () => {
    const page = await suite.openBoard('merchantC');
    await page.getByTestId('merchant-view').waitFor();
    await page.getByTestId('my-terminals').locator('tr[data-key="T-C1"]').waitFor();
    await expect
      .poll(() => page.getByTestId('alert-feed').locator('.empty').textContent())
      .toBe('No alerts. All quiet.');
    await page.close();
  });
});
