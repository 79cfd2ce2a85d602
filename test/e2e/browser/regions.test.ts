import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '@tillwatch/testkit/chromium';
import { startBoardSuite, type BoardSuite } from './board-session';
import { NO_NORMAL_REGION, OUTAGE_REGION } from './scenario';

/**
 * The SRE's region view in a real Chromium: the map of the provinces coloured by each
 * region's traffic against its normal for this hour, tiles with that ratio and a sparkline,
 * and a province, marker or tile opening the region's page.
 */
const haveChromium = chromiumAvailable('the browser suite');

let suite: BoardSuite;

/** The SRE's board, on the region view it opens with. */
async function sre(): Promise<Page> {
  const page = await suite.openBoard('sre');
  await page.getByTestId('regions-view').waitFor();
  return page;
}

describe.skipIf(!haveChromium)('SRE region map in Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    suite = await startBoardSuite();
  }, 60_000);

  afterAll(async () => {
    await suite?.close();
  });

  it('the map colours the scenario’s provinces by traffic against the normal for this hour', async () => {
    const page = await sre();
    const map = page.getByTestId('region-map');
    await map.waitFor();
    const prov = (code: string) => map.locator(`path[data-province="${code}"]`);
    // 34 provinces drawn from the shipped shapes
    expect(await map.locator('path.prov').count()).toBe(34);
    await expect.poll(() => prov('CN-35').getAttribute('data-level')).toBe('low');
    expect(await prov('CN-32').getAttribute('data-level')).toBe('ok');
    expect(await prov('CN-42').getAttribute('data-level')).toBe('high2');
    // a regional_outage alert fires for CN-44-SZ: its province is red whatever the traffic
    // (the open alerts come in apart from the rates: polled, as the rates are above)
    await expect.poll(() => prov('CN-44').getAttribute('data-level')).toBe('outage');
    // no history for the hour: drawn as a region, coloured as no normal yet
    expect(await prov('CN-51').getAttribute('data-level')).toBe('none');
    expect(await prov('CN-51').getAttribute('class')).toContain('has-region');
    // a province without a region stays blank
    expect(await prov('CN-65').getAttribute('class')).not.toContain('has-region');
    // Guangdong holds two regions: a marker for each
    expect(await prov('CN-44').getAttribute('data-regions')).toBe(`CN-44-GZ ${OUTAGE_REGION}`);
    expect(await map.locator('[data-testid="map-region"]').count()).toBe(9);
    expect(
      await map.locator(`[data-map-region="${OUTAGE_REGION}"]`).getAttribute('data-level'),
    ).toBe('outage');
    expect(await map.locator('[data-map-region="CN-44-GZ"]').getAttribute('data-level')).toBe('ok');

    // the tooltip: the last hour in 24-hour time with the zone, the normal, the ratio
    await map.locator('[data-map-region="CN-35"]').hover();
    const tip = page.getByTestId('map-tooltip');
    await tip.waitFor();
    const text = (await tip.textContent()) ?? '';
    expect(text).toContain('CN-35 · Fujian');
    expect(text).toMatch(/Last hour \d\d:\d\d–\d\d:\d\d Asia\/Shanghai: 72 auths/);
    expect(text).toContain('Normal for this hour: 120 (mean of 7 previous days)');
    expect(text).toContain('60% of normal for this hour');
    await suite.shot(page, '20-sre-region-map');

    // 中文
    await page.getByTestId('lang-zh').click();
    await page.getByTestId('region-map').waitFor();
    await page.getByTestId('region-map').locator('[data-map-region="CN-35"]').hover();
    await expect.poll(() => page.getByTestId('map-tooltip').textContent()).toContain('福建');
    expect(await page.getByTestId('map-tooltip').textContent()).toContain('为该时段常态的 60%');
    await page.close();
  });

  it('a tile shows traffic against its normal for this hour and a sparkline; no normal yet says so', async () => {
    const page = await sre();
    const tile = page.locator('[data-testid="region-tile"][data-region="CN-35"]');
    await expect
      .poll(() => tile.getByTestId('region-ratio').textContent())
      .toBe('60% of normal for this hour');
    expect(await tile.getByTestId('region-auths').textContent()).toBe('72 / 1 h');
    const now = tile.locator('.spark-now');
    const normal = tile.locator('.spark-normal');
    // 12 five-minute points of the hour, and the normal's
    expect(((await now.getAttribute('d')) ?? '').split('L')).toHaveLength(12);
    expect(((await normal.getAttribute('d')) ?? '').split('L')).toHaveLength(12);
    const none = page.locator(`[data-testid="region-tile"][data-region="${NO_NORMAL_REGION}"]`);
    expect(await none.getByTestId('region-ratio').textContent()).toBe('no normal yet');
    expect(await none.locator('.spark-normal').getAttribute('d')).toBe('');
    expect(await tile.getAttribute('href')).toBe('#/entity/region/CN-35');
    await page.close();
  });

  it('clicking a province, a marker or a tile opens the region’s page', async () => {
    const page = await sre();
    const map = page.getByTestId('region-map');
    // Sichuan away from its marker (which sits at the middle of its box)
    const sichuan = map.locator('path[data-province="CN-51"].has-region');
    const box = (await sichuan.boundingBox())!;
    await sichuan.click({ position: { x: box.width * 0.3, y: box.height * 0.45 } });
    const entity = page.getByTestId('entity-view');
    await entity.waitFor();
    expect(await entity.getAttribute('data-scope')).toBe('region');
    expect(await entity.getAttribute('data-key')).toBe('CN-51');

    await page.goBack();
    await page.getByTestId('region-map').locator('[data-map-region="CN-44-GZ"]').click();
    await expect
      .poll(() => page.getByTestId('entity-view').getAttribute('data-key'))
      .toBe('CN-44-GZ');

    await page.goBack();
    await page.locator(`[data-testid="region-tile"][data-region="${OUTAGE_REGION}"]`).click();
    await expect
      .poll(() => page.getByTestId('entity-view').getAttribute('data-key'))
      .toBe(OUTAGE_REGION);
    expect(page.url()).toContain(`#/entity/region/${OUTAGE_REGION}`);
    await page.close();
  });
});
