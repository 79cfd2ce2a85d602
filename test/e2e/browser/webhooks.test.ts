import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticAlert } from '@tillwatch/gateway';
import { createNotifier, type Notifier } from '@tillwatch/notifier';
import { MemoryWebhookStore, type GuardOptions } from '@tillwatch/webhooks';
import { chromiumAvailable } from '@tillwatch/testkit/chromium';
import { startBoardSuite, type BoardSuite } from './board-session';
import { KEYS } from './scenario';

/**
 * The webhooks screen in a real Chromium (Debian's /usr/bin/chromium, never a downloaded one),
 * against a real gateway with the webhook routes and a real notifier delivering to a real HTTP
 * receiver on 127.0.0.1 (let through by the guard's explicit development setting, as in the
 * notifier's own tests; by default the guard refuses loopback).
 */
const haveChromium = chromiumAvailable('the webhooks browser suite');
const GUARD: GuardOptions = { allowHttp: true, allowAddresses: ['127.0.0.1'] };

let suite: BoardSuite;
let hooks: MemoryWebhookStore;
let notifier: Notifier;
let receiver: Server;
let receiverUrl: string;
/** what the receiver answers: 500 while `failing`, else 204 */
let failing = false;
/** webhook-id of every request the receiver answered 2xx, and of every one it got */
const accepted: string[] = [];
const received: string[] = [];

/** An alert transition, as the engine raises it: to the board's store and to the notifier. */
async function raise(alertId: string, merchantId: string, key: string): Promise<void> {
  const alert = syntheticAlert({
    alertId,
    rule: 'terminal_fault_spike',
    severity: 'critical',
    scope: 'terminal',
    key,
    merchantId,
    region: merchantId === 'M-A' ? 'CN-44-SZ' : 'CN-31',
  });
  suite.scenario.store.pushAlert(alert);
  const r = await notifier.ingest(alert);
  expect(r.deliveries).toBeGreaterThan(0);
}

const toast = (page: Page) => page.locator('.toast').textContent();
const deliveryRow = (page: Page, alertId: string) =>
  page.getByTestId('wh-delivery-row').filter({ hasText: alertId });

describe.skipIf(!haveChromium)('webhooks screen in Chromium', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const id = String(req.headers['webhook-id']);
        received.push(id);
        if (failing) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end('receiver down for the test');
        } else {
          accepted.push(id);
          res.writeHead(204).end();
        }
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    hooks = new MemoryWebhookStore();
    suite = await startBoardSuite({ webhooks: { store: hooks, guard: GUARD } });
    // three quick tries, then a dead letter: a failed delivery within a second
    notifier = createNotifier({
      store: hooks,
      config: {
        guard: GUARD,
        retrySchedule: [0, 50, 100],
        jitter: 0,
        pollMs: 50,
        breakerCooldownMs: 0,
      },
    });
    notifier.start();
    // merchant B's endpoint, made over the API: A must never see it
    const res = await fetch(`${suite.scenario.url}/api/webhooks/subscriptions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.merchantB.key}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ url: `${receiverUrl}/hook-b`, description: 'B till office' }),
    });
    expect(res.status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await notifier?.stop();
    await suite?.close();
    await hooks?.close();
    if (receiver) {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('merchant: adds an endpoint, sees a failed delivery, replays it; never sees another merchant’s', async () => {
    const page = await suite.openBoard('merchantA');
    await page.getByTestId('merchant-view').waitFor();
    await page.getByTestId('tab-webhooks').click();
    const view = page.getByTestId('webhooks-view');
    await view.waitFor();
    // nothing yet, and it says so
    await expect
      .poll(() => page.getByTestId('wh-subs-empty').textContent())
      .toBe('No endpoints yet: add one above to receive alerts.');
    await expect
      .poll(() => page.getByTestId('wh-deliveries-empty').textContent())
      .toBe('No deliveries yet.');
    // a merchant's subscription is its own: no merchant field
    expect(await page.getByTestId('wh-merchant').count()).toBe(0);

    // refused by the API's guard, said in words: a private address
    await page.getByTestId('wh-url').fill('http://10.0.0.7/hook');
    await page.getByTestId('wh-submit').click();
    await expect
      .poll(() => toast(page))
      .toBe('Endpoint URL: refused: use https:// and a public address');
    expect(await page.getByTestId('wh-sub-row').count()).toBe(0);

    // the real one: critical alerts only, texts in Chinese
    const url = `${receiverUrl}/hook-a`;
    await page.getByTestId('wh-url').fill(url);
    await page.getByTestId('wh-description').fill('Till office');
    await page.getByTestId('wh-sev-critical').check();
    await page.getByTestId('wh-language').selectOption('zh');
    await page.getByTestId('wh-submit').click();
    // the secret, shown at once
    await expect
      .poll(() => page.getByTestId('wh-secret-value').textContent())
      .toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const row = page.getByTestId('wh-sub-row');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.getByTestId('wh-sub-url').textContent()).toBe(url);
    expect(await row.textContent()).toContain('critical');
    expect(await row.getAttribute('data-enabled')).toBe('true');
    const [mine] = await hooks.listSubscriptions({ merchantId: 'M-A' });
    expect(mine).toMatchObject({ url, severities: ['critical'], language: 'zh' });

    // the receiver is down: the alert's delivery fails three times and is dead-lettered
    failing = true;
    await raise('al-wh-A1', 'M-A', 'T-A1');
    const dead = deliveryRow(page, 'al-wh-A1');
    await page.getByTestId('wh-refresh').click();
    await expect
      .poll(async () => {
        await page.getByTestId('wh-refresh').click();
        return dead.getAttribute('data-status');
      })
      .toBe('dead');
    expect(await dead.getByTestId('wh-delivery-status').textContent()).toBe('failed');
    expect(await dead.getByTestId('wh-delivery-error').textContent()).toContain('HTTP 500');
    expect(await dead.textContent()).toContain(url);
    // the failed-only filter is in the address too
    await page.getByTestId('wh-status-filter').selectOption('dead');
    await expect.poll(() => page.url()).toMatch(/#\/webhooks\?(.*&)?dlv=dead$/);
    await expect.poll(() => dead.count()).toBe(1);
    await page.getByTestId('wh-status-filter').selectOption('delivered');
    await expect
      .poll(() => page.getByTestId('wh-deliveries-empty').textContent())
      .toBe('No deliveries with this status.');
    await page.getByTestId('wh-status-filter').selectOption('');
    await suite.shot(page, '20-webhooks-merchant-failed');

    // back up: Replay sends it again, same webhook-id, and it is delivered
    failing = false;
    const webhookId = received.at(-1)!;
    await dead.getByTestId('wh-replay').click();
    await expect.poll(() => toast(page)).toBe('Queued to be sent again.');
    await expect
      .poll(async () => {
        await page.getByTestId('wh-refresh').click();
        return deliveryRow(page, 'al-wh-A1').getAttribute('data-status');
      })
      .toBe('delivered');
    expect(accepted).toContain(webhookId);
    // a delivered one offers no Replay
    expect(await deliveryRow(page, 'al-wh-A1').getByTestId('wh-replay').count()).toBe(0);

    // nothing of merchant B, on the screen or from the API
    const text = (await view.textContent()) ?? '';
    expect(text).not.toContain('/hook-b');
    expect(text).not.toContain('M-B');
    await suite.shot(page, '21-webhooks-merchant-replayed');
    await page.context().close();
  });

  it('merchant: edits, disables and enables, rotates the secret, deletes after confirming', async () => {
    const page = await suite.openBoard('merchantA');
    await page.getByTestId('merchant-view').waitFor();
    await page.goto(`${suite.scenario.url}#/webhooks`);
    const row = page.getByTestId('wh-sub-row');
    await expect.poll(() => row.count()).toBe(1);
    const id = (await row.getAttribute('data-sub-id'))!;

    await row.getByTestId('wh-edit').click();
    expect(await page.getByTestId('wh-url').inputValue()).toMatch(/\/hook-a$/);
    expect(await page.getByTestId('wh-sev-critical').isChecked()).toBe(true);
    await page.getByTestId('wh-url').fill(`${receiverUrl}/hook-a2`);
    await page.getByTestId('wh-submit').click();
    await expect.poll(() => row.getByTestId('wh-sub-url').textContent()).toMatch(/\/hook-a2$/);
    expect((await hooks.getSubscription(id))?.url).toMatch(/\/hook-a2$/);

    // disabled: no Replay offered on its deliveries (the API would refuse it)
    await row.getByTestId('wh-toggle').click();
    await expect.poll(() => row.getAttribute('data-enabled')).toBe('false');
    expect(await row.getByTestId('wh-sub-state').textContent()).toBe('disabled');
    expect((await hooks.getSubscription(id))?.enabled).toBe(false);
    await row.getByTestId('wh-toggle').click();
    await expect.poll(() => row.getAttribute('data-enabled')).toBe('true');

    // rotate: a new secret, the old one still signing for a while
    const before = (await hooks.getSubscription(id))!.secrets[0]!.secret;
    await row.getByTestId('wh-rotate').click();
    const shown = page.getByTestId('wh-secret-value');
    await expect.poll(() => shown.textContent()).toMatch(/^whsec_/);
    const rotated = await shown.textContent();
    expect(rotated).not.toBe(before);
    expect((await hooks.getSubscription(id))!.secrets.map((s) => s.secret)).toEqual([
      rotated,
      before,
    ]);
    expect(await page.getByTestId('wh-secret').textContent()).toContain('keeps signing');

    // in Chinese too
    await page.getByTestId('lang-zh').click();
    await expect.poll(() => row.getByTestId('wh-delete').textContent()).toBe('删除');
    await page.getByTestId('lang-en').click();

    // delete asks first; Cancel keeps it
    await row.getByTestId('wh-delete').click();
    expect(await row.textContent()).toContain('Delete this endpoint?');
    await row.getByTestId('wh-delete-cancel').click();
    await row.getByTestId('wh-delete').waitFor();
    expect(await hooks.getSubscription(id)).toBeDefined();
    await row.getByTestId('wh-delete').click();
    await row.getByTestId('wh-delete-confirm').click();
    await expect
      .poll(() => page.getByTestId('wh-subs-empty').textContent())
      .toBe('No endpoints yet: add one above to receive alerts.');
    expect(await hooks.getSubscription(id)).toBeUndefined();
    // its past deliveries stay in the log, saying whose they were
    await expect
      .poll(() => deliveryRow(page, 'al-wh-A1').getByTestId('wh-delivery-endpoint').textContent())
      .toBe(`deleted endpoint ${id}`);
    await page.context().close();
  });

  it('staff: the admin sees every merchant’s endpoints and deliveries; an analyst has no such screen', async () => {
    await raise('al-wh-B1', 'M-B', 'T-B1');
    await expect
      .poll(async () => (await hooks.listDeliveries({ merchantId: 'M-B' })).map((d) => d.status))
      .toContain('delivered');
    const page = await suite.openBoard('admin');
    await page.getByTestId('tab-webhooks').click();
    await page.getByTestId('webhooks-view').waitFor();
    const rows = page.getByTestId('wh-sub-row');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    expect(await page.getByTestId('wh-subs').locator('thead').textContent()).toContain('Merchant');
    expect(await page.getByTestId('wh-sub-merchant').allTextContents()).toContain('M-B');
    // both merchants' deliveries, each with its merchant
    await deliveryRow(page, 'al-wh-B1').waitFor();
    expect(await deliveryRow(page, 'al-wh-B1').getAttribute('data-merchant')).toBe('M-B');
    expect(await deliveryRow(page, 'al-wh-A1').getAttribute('data-merchant')).toBe('M-A');
    // an admin adds one for a merchant, who must be named
    await page.getByTestId('wh-url').fill(`${receiverUrl}/hook-c`);
    await page.getByTestId('wh-submit').click();
    await expect.poll(() => toast(page)).toBe('Merchant: is required');
    await page.getByTestId('wh-merchant').fill('M-C');
    await page.getByTestId('wh-submit').click();
    await expect
      .poll(() => page.getByTestId('wh-sub-merchant').allTextContents())
      .toEqual(['M-B', 'M-C']);
    await suite.shot(page, '22-webhooks-admin');
    await page.context().close();

    // the routes refuse analysts: no tab, and the address shows the board instead
    const analyst = await suite.openBoard('analyst');
    await analyst.getByTestId('board-view').waitFor();
    expect(await analyst.getByTestId('tab-webhooks').count()).toBe(0);
    await analyst.goto(`${suite.scenario.url}#/webhooks`);
    await analyst.getByTestId('board-view').waitFor();
    expect(await analyst.getByTestId('webhooks-view').count()).toBe(0);
    await analyst.context().close();
  });
});
