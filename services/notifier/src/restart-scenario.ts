import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, vi } from 'vitest';
import { generateSecret, webhookIdFor, type WebhookStore } from '@tillwatch/webhooks';
import { startReceiver } from './test-receiver';

/**
 * Shared by restart.test.ts (journal store, alerts from a file) and restart.int.test.ts
 * (ClickHouse store, alerts from Kafka): a real notifier process is killed with SIGKILL while
 * its endpoint is down and retries are pending, the endpoint comes back, a second process
 * starts on the same store, and every alert must be accepted exactly once by webhook-id.
 */
export interface RestartScenario {
  /** Env selecting the store and the alert source of the child process (plus PATH, HOME). */
  env: Record<string, string | undefined>;
  openStore: () => Promise<WebhookStore>;
  /** Hands the alerts to the source (write the file, produce to Kafka). */
  feed: (alerts: object[]) => Promise<void>;
  merchantId: string;
  count?: number;
  /** NOTIFIER_RETRY_SCHEDULE of both processes (default: 0, 50ms, then 150ms 40 times). */
  retrySchedule?: string;
  /**
   * Keep the endpoint down this long from its first request, whatever the notifier does (the
   * second process starts while it is still down); default: down until the first is killed.
   */
  endpointDownMs?: number;
  /** Requests every alert must have had before the kill (default 3: see below). */
  killAfterRequests?: number;
}

const MAIN = resolve(import.meta.dirname, 'main.ts');

export function makeAlerts(merchantId: string, count: number) {
  return Array.from({ length: count }, (_, i) => {
    const ts = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
    return {
      alertId: `${merchantId}-A-${i}`,
      rule: 'failed_but_charged',
      severity: 'critical',
      status: 'firing',
      scope: 'terminal',
      key: `T-${i}`,
      merchantId,
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
}

export async function runRestartScenario(s: RestartScenario) {
  const count = s.count ?? 20;
  const children: ChildProcess[] = [];
  let up = false;
  let firstRequestAt: number | undefined;
  const isUp = () =>
    s.endpointDownMs === undefined
      ? up
      : Date.now() - (firstRequestAt ??= Date.now()) >= s.endpointDownMs;
  const rx = await startReceiver((_r, res) => res.writeHead(isUp() ? 200 : 503).end());
  try {
    const start = () => {
      // node itself with tsx's loader, not the tsx CLI: the CLI runs node as a child, and
      // SIGKILL to the CLI would leave that child running.
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
        cwd: resolve(import.meta.dirname, '..'),
        env: {
          NOTIFIER_RETRY_SCHEDULE:
            s.retrySchedule ?? ['0', '50ms', ...Array(40).fill('150ms')].join(','),
          NOTIFIER_RETRY_JITTER: '0',
          NOTIFIER_POLL_MS: '20',
          // This scenario counts retries of one endpoint: its circuit breaker stays closed.
          NOTIFIER_BREAKER_FAILURES: '1000',
          WEBHOOK_ALLOW_HTTP: 'true',
          WEBHOOK_ALLOW_ADDRESSES: '127.0.0.1',
          LOG_LEVEL: 'error',
          NOTIFIER_HEALTH_PORT: '0',
          ...s.env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.on('data', (b: Buffer) => process.stderr.write(`[notifier ${child.pid}] ${b}`));
      children.push(child);
      return child;
    };
    const exited = (c: ChildProcess) =>
      new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
        c.exitCode !== null || c.signalCode !== null
          ? r({ code: c.exitCode, signal: c.signalCode })
          : c.once('exit', (code, signal) => r({ code, signal })),
      );

    const alerts = makeAlerts(s.merchantId, count);
    const seed = await s.openStore();
    const at = new Date().toISOString();
    const subscriptionId = `sub_${s.merchantId}`;
    await seed.putSubscription({
      id: subscriptionId,
      merchantId: s.merchantId,
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
    await s.feed(alerts);

    const first = start();
    // mid-retry: every alert attempted at least twice with its result on record, none accepted.
    // A delivery's next request goes out only after the previous attempt is durably recorded
    // (recordAttempt, fsync'd), so a third request proves the second is in the log; killing on
    // the second request raced its record (39 of 40 logged once in a CI run).
    await vi.waitFor(
      () => {
        const perId = new Map<string, number>();
        for (const r of rx.seen) {
          const id = String(r.headers['webhook-id']);
          perId.set(id, (perId.get(id) ?? 0) + 1);
        }
        expect(perId.size).toBe(count);
        expect(Math.min(...perId.values())).toBeGreaterThanOrEqual(s.killAfterRequests ?? 3);
      },
      { timeout: 60_000, interval: 20 },
    );
    first.kill('SIGKILL');
    expect((await exited(first)).signal).toBe('SIGKILL');
    const beforeKill = rx.seen.length;
    // the endpoint was still down when the process died (its retries were pending)
    const downAtKill = !isUp();

    up = true;
    const second = start(); // the source gives the alerts again: duplicates must be skipped
    await vi.waitFor(() => expect(rx.accepted().size).toBe(count), {
      timeout: 120_000,
      interval: 20,
    });
    second.kill('SIGTERM');
    expect((await exited(second)).code).toBe(0);

    const accepted = rx.accepted();
    expect(new Set(accepted.keys())).toEqual(new Set(alerts.map(webhookIdFor)));
    expect([...accepted.values()].every((n) => n === 1)).toBe(true);
    const after = await s.openStore();
    const deliveries = await after.listDeliveries({ subscriptionId });
    expect(deliveries).toHaveLength(count);
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    // the attempt log spans both processes
    const attempts = (await Promise.all(deliveries.map((d) => after.listAttempts(d.id)))).flat();
    const failedAttempts = attempts.filter((a) => a.statusCode === 503).length;
    expect(failedAttempts).toBeGreaterThanOrEqual(2 * count);
    expect(downAtKill).toBe(true);
    await after.close();
    return {
      alerts: count,
      failedBeforeKill: beforeKill,
      requestsAfterRestart: rx.seen.length - beforeKill,
      acceptedOnce: [...accepted.values()].filter((n) => n === 1).length,
      acceptedTwice: [...accepted.values()].filter((n) => n > 1).length,
      undelivered: count - accepted.size,
      failedAttempts,
      attemptsLogged: attempts.length,
    };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rx.close();
  }
}
