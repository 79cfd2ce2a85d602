import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  ensureBoardBuilt,
  launchChromium,
  type LaunchedChromium,
} from '@tillwatch/testkit/chromium';
import { KEYS, startScenario, type Scenario, type ScenarioOptions } from './scenario';

/**
 * What every browser suite sets up: the built board, the synthetic scenario's gateway, Debian's
 * Chromium with the project's flags (@tillwatch/testkit/chromium, never a downloaded browser),
 * and people signing in with their role's key.
 */
export const SHOTS = join(import.meta.dirname, 'screenshots');

export type Role = keyof typeof KEYS;

/** Who signs in with each role's key unless a test names someone else (merchants: no name). */
export const PEOPLE: Record<Role, string> = {
  analyst: 'Li Wei',
  sre: 'Wang Fang',
  admin: 'Zhao Min',
  merchantA: '',
  merchantB: '',
  merchantC: '',
};

export interface BoardSuite {
  scenario: Scenario;
  browser: LaunchedChromium;
  /**
   * The board signed in with `role`'s key as `name`, at a browser of its own (a context of its
   * own: the session is per browser).
   */
  openBoard(role: Role, name?: string): Promise<Page>;
  /** A full-page screenshot to screenshots/<name>.png. */
  shot(page: Page, name: string): Promise<void>;
  /** Closes the browser, then the scenario. */
  close(): Promise<void>;
}

export interface BoardSuiteOptions extends ScenarioOptions {
  /** how often the scenario pushes live rates (250 ms) */
  tickMs?: number;
}

export async function startBoardSuite(o: BoardSuiteOptions = {}): Promise<BoardSuite> {
  mkdirSync(SHOTS, { recursive: true });
  ensureBoardBuilt();
  const scenario = await startScenario(o.tickMs ?? 250, {
    ...(o.webhooks ? { webhooks: o.webhooks } : {}),
    ...(o.rulesFile ? { rulesFile: o.rulesFile } : {}),
  });
  let browser: LaunchedChromium;
  try {
    browser = await launchChromium();
  } catch (e) {
    await scenario.stop();
    throw e;
  }
  return {
    scenario,
    browser,
    async openBoard(role, name = PEOPLE[role]) {
      const page = await (await browser.newContext()).newPage();
      page.on('pageerror', (e) => console.error(`[browser] ${e.message}`));
      await page.goto(scenario.url);
      await page.getByTestId('login-key').fill(KEYS[role].key);
      await page.getByTestId('login-name').fill(name);
      await page.getByTestId('login-submit').click();
      return page;
    },
    async shot(page, name) {
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    },
    async close() {
      await browser.close();
      await scenario.stop();
    },
  };
}
