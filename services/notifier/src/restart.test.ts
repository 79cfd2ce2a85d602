import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JournalWebhookStore } from '@tillwatch/webhooks';
import { runRestartScenario } from './restart-scenario';

const dir = mkdtempSync(join(tmpdir(), 'tw-notifier-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('notifier process killed with SIGKILL mid-retry (journal store, file source)', () => {
  it('delivers everything after a restart, each webhook-id accepted once', async () => {
    const journal = join(dir, 'webhooks.journal');
    const alertsFile = join(dir, 'alerts.jsonl');
    const r = await runRestartScenario({
      merchantId: 'M-9',
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NOTIFIER_JOURNAL_PATH: journal,
        NOTIFIER_ALERTS_FILE: alertsFile,
      },
      openStore: () => JournalWebhookStore.open(journal),
      feed: async (alerts) =>
        writeFileSync(alertsFile, alerts.map((a) => JSON.stringify(a)).join('\n') + '\n'),
    });
    console.log('SIGKILL restart (journal):', JSON.stringify(r));
    expect(r.acceptedOnce).toBe(r.alerts);
  }, 120_000);
});
