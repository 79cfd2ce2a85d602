import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { qualityReportSchema, type Verdict } from '@tillwatch/contracts';
import {
  createGateway,
  defaultGatewayConfig,
  MemoryStore,
  syntheticAlert,
  type ApiKeyEntry,
  type Gateway,
} from '@tillwatch/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `tillwatch quality` as a user runs it (a child process through bin/tillwatch.mjs) against a
 * real gateway started here on 127.0.0.1 and a free port, its alerts closed with verdicts
 * through the gateway's own REST route.
 */
const BIN = join(import.meta.dirname, '../../bin/tillwatch.mjs');
const DAY = 86_400_000;
const ANALYST: ApiKeyEntry = { key: 'cli-quality-analyst-key-01', role: 'analyst', name: 'ana' };
const MERCHANT: ApiKeyEntry = {
  key: 'cli-quality-merchant-key-1',
  role: 'merchant',
  merchantId: 'M-Q',
};

let gw: Gateway;
let url: string;

function tillwatch(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(
      'node',
      [BIN, 'quality', ...args],
      // the caller's TILLWATCH_* must not leak into what is tested
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

beforeAll(async () => {
  const store = new MemoryStore();
  gw = await createGateway({
    config: defaultGatewayConfig({
      host: '127.0.0.1',
      port: 0,
      apiKeys: [ANALYST, MERCHANT],
      webDist: '/nonexistent',
    }),
    store,
  });
  url = await gw.listen();
  const raise = (alertId: string, rule: 'card_testing' | 'terminal_silent', merchantId: string) => {
    const at = new Date(Date.now() - 2 * DAY).toISOString();
    store.pushAlert(
      syntheticAlert({ alertId, rule, merchantId, firstSeen: at, lastSeen: at, ts: at }),
    );
  };
  // card_testing: 3 true, 1 false, 1 expected, 1 without a verdict; terminal_silent: none
  const verdicts: (Verdict | undefined)[] = [
    'true_incident',
    'true_incident',
    'true_incident',
    'false_alarm',
    'expected',
    undefined,
  ];
  for (const [i, verdict] of verdicts.entries()) {
    raise(`al-cli-${i}`, 'card_testing', i === 0 ? 'M-Q' : 'M-O');
    if (!verdict) continue;
    const res = await fetch(`${url}/api/alerts/al-cli-${i}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ANALYST.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict }),
    });
    expect(res.status).toBe(200);
  }
  raise('al-cli-silent', 'terminal_silent', 'M-O');
}, 60_000);

afterAll(async () => {
  await gw?.close();
});

describe('tillwatch quality', () => {
  it('prints the per-rule table: raised, verdicts, precision, the share without a verdict', async () => {
    const r = await tillwatch(['--url', url, '--token', ANALYST.key]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^Rule quality, last 30 days/);
    const row = (name: string) =>
      lines
        .find((l) => l.startsWith(`${name} `))
        ?.trim()
        .split(/\s{2,}/);
    expect(row('card_testing')).toEqual([
      'card_testing',
      '6',
      '3',
      '1',
      '1',
      '1',
      '75.0 %',
      '16.7 %',
    ]);
    expect(row('terminal_silent')).toEqual([
      'terminal_silent',
      '1',
      '0',
      '0',
      '0',
      '1',
      '–',
      '100.0 %',
    ]);
    expect(row('total')).toEqual(['total', '7', '3', '1', '1', '2', '75.0 %', '28.6 %']);
  }, 60_000);

  it('--json prints the gateway’s report; the key and URL may come from the environment', async () => {
    const r = await tillwatch(['--json', '--days', '7'], {
      TILLWATCH_URL: url,
      TILLWATCH_TOKEN: MERCHANT.key,
    });
    expect(r.code).toBe(0);
    const report = qualityReportSchema.parse(JSON.parse(r.stdout));
    expect(report.days).toBe(7);
    // the merchant key counts only its own alert
    expect(report.rules).toEqual([
      {
        rule: 'card_testing',
        raised: 1,
        verdicts: { true_incident: 1, false_alarm: 0, expected: 0 },
        withVerdict: 1,
        withoutVerdict: 0,
        precision: 1,
        withoutVerdictShare: 0,
      },
    ]);
  }, 60_000);

  it('exits non-zero saying what was wrong: a refused key, a bad period, no key, no gateway', async () => {
    const bad = await tillwatch(['--url', url, '--token', 'not-a-key-at-all-000000']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/tillwatch quality: GET \/api\/quality → 401 unauthorized: /);

    const days = await tillwatch(['--url', url, '--token', ANALYST.key, '--days', '400']);
    expect(days.code).toBe(1);
    expect(days.stderr).toMatch(/400 bad_request: .*days/);

    const none = await tillwatch(['--url', url]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no API key: pass --token <key> or set TILLWATCH_TOKEN/);

    const port = await closedPort();
    const gone = await tillwatch(['--url', `http://127.0.0.1:${port}`, '--token', ANALYST.key]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(
      /cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/,
    );
  }, 60_000);
});

/** A loopback port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
