import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../bin/tillwatch.mjs');
const dir = mkdtempSync(join(tmpdir(), 'tw-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI as a user runs it: a real child process through bin/tillwatch.mjs. */
describe('tillwatch CLI', () => {
  it('simulate writes events and labels; replay is deterministic and reports bad lines', async () => {
    const events = join(dir, 'events.jsonl');
    await run('node', [
      BIN,
      'simulate',
      '--scenario',
      'terminal-fault',
      '--seed',
      '3',
      '--hours',
      '6',
      '--out',
      events,
    ]);
    const labels = JSON.parse(readFileSync(`${events}.labels.json`, 'utf8'));
    const label = (Array.isArray(labels) ? labels : labels.labels)[0];
    expect(label.rule).toBe('terminal_fault_spike');

    // two malformed lines in the middle of the stream
    appendFileSync(events, '{"type":"auth","eventId":"bad"\nnot json at all\n');
    const lines = readFileSync(events, 'utf8').split('\n').filter(Boolean).length;

    const out1 = join(dir, 'a1.jsonl');
    const out2 = join(dir, 'a2.jsonl');
    const r1 = await run('node', [BIN, 'replay', '--input', events, '--output', out1]);
    await run('node', [BIN, 'replay', '--input', events, '--output', out2]);
    const a1 = readFileSync(out1);
    expect(a1.equals(readFileSync(out2))).toBe(true);

    expect(r1.stderr).toContain(`${events}:${lines - 1}:`);
    expect(r1.stderr).toContain(`${events}:${lines}:`);
    const alerts = a1
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const hit = alerts.find(
      (a) => a.rule === 'terminal_fault_spike' && a.key === label.key && a.status === 'firing',
    );
    expect(hit, 'the labelled faulty terminal fires').toBeDefined();
  }, 180_000);

  it('replay reads stdin and writes stdout with -', async () => {
    const input = JSON.stringify({
      type: 'heartbeat',
      eventId: 'h1',
      ts: 1767225600000,
      terminalId: 'T1',
      merchantId: 'M1',
      region: 'CN-31',
    });
    const child = execFile('node', [BIN, 'replay', '-i', '-', '-o', '-']);
    child.stdin!.end(input + '\n');
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(stderr).toMatch(/replayed 1 events from 1 lines \(0 malformed\)/);
  }, 60_000);

  it('refuses an unknown scenario with the list of valid ones', async () => {
    await expect(
      run('node', [BIN, 'simulate', '--scenario', 'nope', '--out', join(dir, 'x.jsonl')]),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/unknown scenario "nope".*regional-outage-errors/),
    });
  }, 60_000);
});
