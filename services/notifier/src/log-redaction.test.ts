import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import type { Logger } from '@tillwatch/config';
import { MemoryWebhookStore, generateSecret, type Subscription } from '@tillwatch/webhooks';
import { createNotifier, type NotifierConfig } from './notifier';
import { startReceiver, type Receiver } from './test-receiver';

/**
 * Issue 16, "secrets and logs": what the notifier logs about endpoints that fail, are gone,
 * redirect or open their breaker, captured from a real pino logger at trace level, carries no
 * query string (receivers put tokens there), no userinfo and no signing secret.
 */
const TOKEN = 'tok-SUPERSECRET-4b1d';
const DEV: NotifierConfig = {
  guard: { allowHttp: true, allowAddresses: ['127.0.0.1'] },
  retrySchedule: [0],
  jitter: 0,
  pollMs: 20,
  breakerFailures: 1,
  breakerCooldownMs: 3_600_000,
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
async function receiver(...a: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...a);
  cleanup.push(r.close);
  return r;
}

describe('log redaction', () => {
  it('logs endpoint URLs without query strings, userinfo or secrets (pino output captured)', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) });
    const gone = await receiver((_r, res) => res.writeHead(410).end());
    const redirect = await receiver((_r, res) =>
      res.writeHead(302, { location: `http://127.0.0.1:9/next?sig=${TOKEN}#${TOKEN}` }).end(),
    );
    const failing = await receiver((_r, res) => res.writeHead(500).end(`no ${TOKEN} here`));
    const other = await receiver();
    const store = new MemoryWebhookStore();
    const at = new Date().toISOString();
    const secrets: string[] = [];
    const sub = (id: string, url: string): Subscription => {
      const secret = generateSecret();
      secrets.push(secret);
      return {
        id,
        merchantId: 'M-1',
        url,
        rules: [],
        severities: [],
        language: 'en',
        secrets: [{ secret, createdAt: at }],
        enabled: true,
        createdAt: at,
        updatedAt: at,
      };
    };
    await store.putSubscription(sub('s_gone', gone.url(`/gone?token=${TOKEN}`)));
    await store.putSubscription(sub('s_redirect', redirect.url(`/r?token=${TOKEN}`)));
    await store.putSubscription(sub('s_failing', failing.url(`/f?api_key=${TOKEN}#${TOKEN}`)));
    // saved straight into the store: the REST check would have refused the userinfo
    await store.putSubscription(
      sub('s_userinfo', `http://user:${TOKEN}@127.0.0.1:${failing.port}/u`),
    );
    await store.putSubscription(sub('s_other', other.url(`/ok?key=${TOKEN}`)));
    const n = createNotifier({ store, config: DEV, logger: logger as unknown as Logger });
    n.start();
    cleanup.push(() => n.stop());
    await n.ingest({
      alertId: 'al-1',
      rule: 'terminal_fault_spike',
      severity: 'critical',
      status: 'firing',
      scope: 'terminal',
      key: 'T-1',
      merchantId: 'M-1',
      region: 'CN-31',
      window: '5m',
      metric: 'fault_rate',
      value: 0.4,
      threshold: 0.1,
      baseline: 0.02,
      evidence: {},
      probableCauses: [],
      actions: [],
      firstSeen: at,
      lastSeen: at,
      ts: at,
    });
    await vi.waitFor(
      async () => {
        // every alert delivery settled (notices to endpoints whose breaker is open wait)
        const pending = await store.listDeliveries({ status: 'pending' });
        expect(pending.filter((d) => d.kind === 'alert')).toEqual([]);
        expect(n.stats().breakersOpened).toBeGreaterThanOrEqual(2);
        expect(other.seen.some((r) => r.body.includes('endpoint.failing'))).toBe(true);
      },
      { timeout: 10_000, interval: 10 },
    );
    const out = lines.join('');
    // the log said what happened, naming the endpoints without their tokens
    expect(out).toContain('endpoint answered 410 Gone');
    expect(out).toContain(`/gone?[redacted]`);
    expect(out).toContain('dead-lettered');
    expect(out).toContain('redirect to http://127.0.0.1:9/next?[redacted] not followed');
    expect(out).toContain('circuit open');
    for (const s of [TOKEN, 'token=', 'api_key=', 'sig=', `user:`, ...secrets]) {
      expect(out, s).not.toContain(s);
    }
    // the endpoint.failing notices another endpoint got name the failing URL redacted too
    const notices = other.seen.map((r) => r.body).join('\n');
    expect(notices).toContain('endpoint.failing');
    expect(notices).not.toContain(TOKEN);
  });
});
