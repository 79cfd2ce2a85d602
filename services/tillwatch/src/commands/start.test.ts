import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAllInOne, type AllInOne } from './start';

/**
 * The all-in-one end to end: simulated fleet -> engine -> rules -> gateway -> socket.io.
 * The simulator runs 30x real time so the first demo incident fires within seconds.
 */
describe('tillwatch start (embedded all-in-one)', () => {
  let app: AllInOne;
  let socket: Socket;

  beforeAll(async () => {
    app = await startAllInOne({
      port: 0,
      env: {
        TILLWATCH_SPEED: '30',
        TILLWATCH_HISTORY_MIN: '30',
        TILLWATCH_FIRST_INCIDENT_S: '0',
        TILLWATCH_STATE_DIR: 'off', // no state from an earlier test run
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        NOTIFIER_JOURNAL_PATH: join(mkdtempSync(join(tmpdir(), 'tw-start-')), 'webhooks.journal'),
      },
    });
  }, 120_000);

  afterAll(async () => {
    socket?.close();
    await app?.stop();
  });

  it('pushes live rate updates and at least one alert to an analyst socket', async () => {
    const analyst = app.keys.find((k) => k.role === 'analyst');
    expect(analyst, 'demo keys are generated when none are configured').toBeDefined();
    socket = io(app.url, { auth: { token: analyst!.key }, transports: ['websocket'] });

    const rateBatches: { rows: { scope: string; key: string; auths: number }[] }[] = [];
    const alerts: { rule: string; status: string; probableCauses: string[] }[] = [];
    socket.on('rates', (m) => rateBatches.push(m));
    socket.on('alert', (m) => alerts.push(m.alert ?? m));

    // Bounded wait: up to 90 s for two rate batches and one alert.
    const deadline = Date.now() + 90_000;
    while ((rateBatches.length < 2 || alerts.length === 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(rateBatches.length).toBeGreaterThanOrEqual(2);
    const regions = new Set(
      rateBatches.flatMap((b) => b.rows.filter((r) => r.scope === 'region').map((r) => r.key)),
    );
    expect(regions.size).toBeGreaterThanOrEqual(10);
    expect(rateBatches.flatMap((b) => b.rows).some((r) => r.auths > 0)).toBe(true);
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts[0]!.probableCauses.length).toBeGreaterThan(0);
  }, 120_000);

  it('refuses a socket without credentials', async () => {
    const anon = io(app.url, { transports: ['websocket'], reconnection: false });
    const err = await new Promise<Error>((resolve) => anon.on('connect_error', resolve));
    anon.close();
    expect(err.message).toMatch(/auth|unauthor|credential|401/i);
  });
});
