import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { JournalWebhookStore, generateSecret, webhookIdFor } from '@tillwatch/webhooks';
import { startReceiver } from './test-receiver';

const dir = mkdtempSync(join(tmpdir(), 'tw-notifier-restart-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const MAIN = resolve(import.meta.dirname, 'main.ts');

function startNotifier(env: Record<string, string>): ChildProcess {
  // node itself with tsx's loader, not the tsx CLI: the CLI runs node as a child, and SIGKILL
  // to the CLI would leave that child running.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: resolve(import.meta.dirname, '..'),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (b: Buffer) => process.stderr.write(`[notifier ${child.pid}] ${b}`));
  children.push(child);
  return child;
}
const exited = (c: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    c.exitCode !== null || c.signalCode !== null
      ? r({ code: c.exitCode, signal: c.signalCode })
      : c.once('exit', (code, signal) => r({ code, signal })),
  );

describe('notifier process killed with SIGKILL mid-retry', () => {
  it('delivers everything after a restart, each webhook-id accepted once', async () => {
    let up = false;
    const rx = await startReceiver((_r, res) => res.writeHead(up ? 200 : 503).end());
    const journal = join(dir, 'webhooks.journal');
    const alertsFile = join(dir, 'alerts.jsonl');
    const alerts = Array.from({ length: 20 }, (_, i) => {
      const ts = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
      return {
        alertId: `A-${i}`,
        rule: 'failed_but_charged',
        severity: 'critical',
        status: 'firing',
        scope: 'terminal',
        key: `T-${i}`,
        merchantId: 'M-9',
        window: '5m',
        metric: 'unreversed_timeouts',
        value: 3,
        threshold: 1,
        baseline: 0,
        evidence: {},
        probableCauses: [],
        actions: [],
        firstSeen: ts,
        lastSeen: ts,
        ts,
      };
    });
    writeFileSync(alertsFile, alerts.map((a) => JSON.stringify(a)).join('\n') + '\n');
    const seed = await JournalWebhookStore.open(journal);
    const at = new Date().toISOString();
    await seed.putSubscription({
      id: 'sub_restart',
      merchantId: 'M-9',
      url: rx.url(),
      rules: [],
      severities: [],
      language: 'en',
      secrets: [{ secret: generateSecret(), createdAt: at }],
      enabled: true,
      createdAt: at,
      updatedAt: at,
    });
    await seed.close();

    const env = {
      NOTIFIER_JOURNAL_PATH: journal,
      NOTIFIER_ALERTS_FILE: alertsFile,
      NOTIFIER_RETRY_SCHEDULE: ['0', '50ms', ...Array(30).fill('150ms')].join(','),
      NOTIFIER_RETRY_JITTER: '0',
      NOTIFIER_POLL_MS: '20',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_ADDRESSES: '127.0.0.1',
      LOG_LEVEL: 'error',
    };
    const first = startNotifier(env);
    // mid-retry: every alert attempted at least twice, none accepted
    await vi.waitFor(
      () => {
        const perId = new Map<string, number>();
        for (const r of rx.seen)
          perId.set(
            String(r.headers['webhook-id']),
            (perId.get(String(r.headers['webhook-id'])) ?? 0) + 1,
          );
        expect(perId.size).toBe(20);
        expect(Math.min(...perId.values())).toBeGreaterThanOrEqual(2);
      },
      { timeout: 30_000, interval: 20 },
    );
    first.kill('SIGKILL');
    expect((await exited(first)).signal).toBe('SIGKILL');
    const beforeKill = rx.seen.length;

    up = true;
    const second = startNotifier(env); // re-reads the same alerts: duplicates must be skipped
    await vi.waitFor(() => expect(rx.accepted().size).toBe(20), { timeout: 30_000, interval: 20 });
    second.kill('SIGTERM');
    expect((await exited(second)).code).toBe(0);

    const accepted = rx.accepted();
    expect(new Set(accepted.keys())).toEqual(new Set(alerts.map(webhookIdFor)));
    expect([...accepted.values()].every((n) => n === 1)).toBe(true);
    const after = await JournalWebhookStore.open(journal);
    const deliveries = await after.listDeliveries({});
    expect(deliveries).toHaveLength(20);
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    // the attempt log spans both processes
    const attempts = (await Promise.all(deliveries.map((d) => after.listAttempts(d.id)))).flat();
    expect(attempts.filter((a) => a.statusCode === 503).length).toBeGreaterThanOrEqual(40);
    await after.close();
    await rx.close();
    console.log(
      `SIGKILL restart: ${beforeKill} failed requests before the kill, ${rx.seen.length - beforeKill} after; ${accepted.size}/20 webhook-ids accepted exactly once`,
    );
  }, 60_000);
});
