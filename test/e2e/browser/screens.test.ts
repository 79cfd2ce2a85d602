import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryWebhookStore } from '@tillwatch/webhooks';
import { chromiumAvailable } from '@tillwatch/testkit/chromium';
import { SHOTS, startBoardSuite, type BoardSuite, type Role } from './board-session';

/**
 * A tour of every role's screens in English and in Chinese, each written as a screenshot
 * (1280×800): to screenshots/screens/ (ignored by git) by `npm test`, to docs/screenshots/
 * (linked from the README) by `npm run screenshots -w @tillwatch/e2e`. Each screen is checked
 * to be in its language: the navigation's labels, and Chinese text on the Chinese screens.
 * Chinese glyphs need a CJK font (.ci/run installs fonts-wqy-microhei).
 */
const haveChromium = chromiumAvailable('the browser suite');
const OUT = process.env['TW_PUBLISH_SCREENS']
  ? join(import.meta.dirname, '../../../docs/screenshots')
  : join(SHOTS, 'screens');

interface Screen {
  name: string;
  role: Role;
  hash: string;
  /** the view's test id, there once it is drawn */
  ready: string;
  /** the first tab's label in each language */
  tab: [en: string, zh: string];
}

const STAFF_TAB: Screen['tab'] = ['Risk board', '风险看板'];
const MERCHANT_TAB: Screen['tab'] = ['My terminals', '我的终端'];
const SCREENS: Screen[] = [
  { name: 'board', role: 'analyst', hash: '#/board', ready: 'board-view', tab: STAFF_TAB },
  {
    name: 'alert',
    role: 'analyst',
    hash: '#/alert/al-e2e-T-A2',
    ready: 'evidence',
    tab: STAFF_TAB,
  },
  {
    name: 'terminal',
    role: 'analyst',
    hash: '#/entity/terminal/T-A2',
    ready: 'entity-view',
    tab: STAFF_TAB,
  },
  { name: 'silences', role: 'analyst', hash: '#/silences', ready: 'silences-view', tab: STAFF_TAB },
  { name: 'rules', role: 'analyst', hash: '#/rules', ready: 'rules-view', tab: STAFF_TAB },
  { name: 'keys', role: 'admin', hash: '#/keys', ready: 'keys-view', tab: STAFF_TAB },
  { name: 'regions', role: 'sre', hash: '#/regions', ready: 'regions-view', tab: STAFF_TAB },
  {
    name: 'merchant',
    role: 'merchantA',
    hash: '#/merchant',
    ready: 'merchant-view',
    tab: MERCHANT_TAB,
  },
  {
    name: 'webhooks',
    role: 'merchantA',
    hash: '#/webhooks',
    ready: 'webhooks-view',
    tab: MERCHANT_TAB,
  },
];
const CJK = /[\u4e00-\u9fff]/;
/** Chinese on the screen, leaving out the language pickers ('中文' is written in Chinese in
 *  every language, as language names are) */
const chinese = (text: string) => CJK.test(text.replaceAll('中文', ''));

let suite: BoardSuite;

describe.skipIf(!haveChromium)('every screen in both languages', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    suite = await startBoardSuite({ webhooks: { store: new MemoryWebhookStore() } });
  }, 60_000);

  afterAll(async () => {
    await suite?.close();
  });

  const shoot = async (page: Page, file: string) => {
    const path = join(OUT, `${file}.png`);
    await page.screenshot({ path });
    expect(statSync(path).size).toBeGreaterThan(10_000);
  };

  for (const lang of ['en', 'zh'] as const) {
    it(`the sign-in screen (${lang})`, async () => {
      const page = await (await suite.browser.newContext()).newPage();
      await page.setViewportSize(VIEWPORT);
      await page.goto(`${suite.scenario.url}#/?lang=${lang}`);
      await page.getByTestId('login-key').waitFor();
      const text = await page.locator('body').innerText();
      expect(chinese(text)).toBe(lang === 'zh');
      await shoot(page, `login-${lang}`);
      await page.context().close();
    });

    it(`each role's screens (${lang})`, async () => {
      const pages = new Map<Role, Page>();
      for (const s of SCREENS) {
        let page = pages.get(s.role);
        if (!page) {
          page = await suite.openBoard(s.role);
          await page.setViewportSize(VIEWPORT);
          await page.locator('nav.tabs a').first().waitFor();
          pages.set(s.role, page);
        }
        await page.goto(`${suite.scenario.url}${s.hash}?lang=${lang}`);
        await page.getByTestId(s.ready).first().waitFor();
        // the live data drawn (a frame or two after the view)
        await page.waitForTimeout(600);
        expect(await page.locator('nav.tabs a').first().textContent(), s.name).toBe(
          s.tab[lang === 'en' ? 0 : 1],
        );
        expect(await page.evaluate<string>('document.documentElement.lang'), s.name).toMatch(
          new RegExp(`^${lang}`),
        );
        const text = await page.locator('main').innerText();
        expect(chinese(text), `${s.name}: Chinese text`).toBe(lang === 'zh');
        await shoot(page, `${s.name}-${lang}`);
      }
      for (const p of pages.values()) await p.context().close();
    });
  }
});

const VIEWPORT = { width: 1280, height: 800 };
