import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAllInOne, type AllInOne } from './start';

/**
 * The all-in-one follows TILLWATCH_RULES_FILE while it runs: a valid edit is in force in every
 * stage without a restart, a bad one is refused with the reason and the rules in force stay;
 * both are in the audit trail.
 */
describe('tillwatch start: rules reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-start-rules-'));
  const file = join(dir, 'rules.json');
  let app: AllInOne;
  const until = async (ok: () => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  };

  beforeAll(async () => {
    writeFileSync(file, JSON.stringify({ hold: '10m' }));
    app = await startAllInOne({
      port: 0,
      events: [],
      env: {
        TILLWATCH_RULES_FILE: file,
        TILLWATCH_STATE_DIR: 'off', // no state from an earlier test run
        LOG_LEVEL: 'silent',
        LOG_FORMAT: 'json',
        NOTIFIER_JOURNAL_PATH: join(dir, 'webhooks.journal'),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
  });

  it('applies a valid edit to every stage and refuses a bad one', async () => {
    expect(app.topology.rulesConfig.hold).toBe('10m');
    writeFileSync(file, JSON.stringify({ hold: '3m' }));
    await until(() => app.rulesAudit.some((e) => e.outcome === 'applied'));
    expect(app.rulesAudit.at(-1)).toMatchObject({ outcome: 'applied', file });
    expect(app.rulesAudit.at(-1)!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(app.topology.rulesConfig.hold).toBe('3m');
    for (const s of app.topology.rollupStages)
      expect((s.monitor as unknown as { rules: { hold: string } }).rules.hold).toBe('3m');
    // the board's rules screen shows the same file (GET /api/rules)
    const analyst = app.keys.find((k) => k.role === 'analyst')!;
    const shown = async () => {
      const res = await fetch(`${app.url}/api/rules`, {
        headers: { authorization: `Bearer ${analyst.key}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { source: string; rules: { rule: string; hold: string }[] };
    };
    let report = await shown();
    const deadline = Date.now() + 20_000;
    while (report.rules.some((r) => r.hold !== '3m') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      report = await shown();
    }
    expect(report.source).toBe('file');
    expect(report.rules.length).toBeGreaterThan(0);
    expect(report.rules.filter((r) => r.hold !== '3m').map((r) => r.rule)).toEqual([]);

    writeFileSync(file, '{"hold": 7');
    await until(() => app.rulesAudit.some((e) => e.outcome === 'refused'));
    expect(app.rulesAudit.at(-1)).toMatchObject({ outcome: 'refused', file });
    expect(app.rulesAudit.at(-1)!.reason).toBeTruthy();
    expect(app.topology.rulesConfig.hold).toBe('3m');
  }, 60_000);

  it('an admin edits the rules on the board (PUT /api/rules/file): every stage runs the edit', async () => {
    const admin = app.keys.find((k) => k.role === 'admin')!;
    const headers = { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' };
    const opened = (await (await fetch(`${app.url}/api/rules/file`, { headers })).json()) as {
      text: string;
      sha256: string;
    };
    const applied = app.rulesAudit.filter((e) => e.outcome === 'applied').length;
    const res = await fetch(`${app.url}/api/rules/file`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ text: JSON.stringify({ hold: '4m' }), base: opened.sha256 }),
    });
    expect(res.status).toBe(200);
    await until(() => app.rulesAudit.filter((e) => e.outcome === 'applied').length > applied);
    expect(app.topology.rulesConfig.hold).toBe('4m');
    for (const s of app.topology.rollupStages)
      expect((s.monitor as unknown as { rules: { hold: string } }).rules.hold).toBe('4m');
  }, 60_000);
});
