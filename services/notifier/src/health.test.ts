import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/** The notifier process answers its orchestrator's probes (NOTIFIER_HEALTH_PORT, main.ts). */
const MAIN = path.resolve(import.meta.dirname, 'main.ts');

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

async function probe(port: number, until: (status: number) => boolean, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  let last: [number, string] = [0, 'no answer'];
  while (Date.now() < end) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      last = [r.status, await r.text()];
      if (until(r.status)) return last;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`/healthz never as wanted: last ${last.join(' ')}`);
}

describe('notifier /healthz', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children) c.kill('SIGKILL');
    children.length = 0;
  });
  const start = (env: Record<string, string>) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tw-notifier-health-'));
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: path.resolve(import.meta.dirname, '..'),
      env: {
        PATH: process.env.PATH ?? '',
        NOTIFIER_JOURNAL_PATH: path.join(dir, 'webhooks.journal'),
        LOG_LEVEL: 'error',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    return { child, dir };
  };

  it('is ok once the store is open (alerts from a file)', async () => {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'tw-notifier-alerts-'));
    const alerts = path.join(dir, 'alerts.jsonl');
    writeFileSync(alerts, '');
    start({ NOTIFIER_HEALTH_PORT: String(port), NOTIFIER_ALERTS_FILE: alerts });
    expect(await probe(port, (s) => s === 200)).toEqual([200, 'ok\n']);
    const other = await fetch(`http://127.0.0.1:${port}/subscriptions`);
    expect(other.status).toBe(404);
  }, 60_000);

  it('is not ready while its Kafka consumer has not joined a group', async () => {
    const port = await freePort();
    const nothing = await freePort(); // no broker listens there
    start({ NOTIFIER_HEALTH_PORT: String(port), KAFKA_BROKERS: `127.0.0.1:${nothing}` });
    const [status, body] = await probe(port, (s) => s !== 0);
    expect(status).toBe(503);
    expect(body).toMatch(/^starting: /);
    // and stays so: it never delivered anything
    await new Promise((r) => setTimeout(r, 1500));
    expect((await probe(port, (s) => s !== 0))[0]).toBe(503);
  }, 60_000);
});
