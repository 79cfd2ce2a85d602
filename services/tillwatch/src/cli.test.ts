import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
      // business hours: the incident comes after a 2 h baseline, when the till sells
      '--start',
      '2026-03-02T08:00:00+08:00',
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

    // the rules memory at the end of the file, and a backtest of the last hours started from
    // the memory of an earlier run: a file of each stage's latest memory
    const mem = join(dir, 'memory.json');
    const r3 = await run('node', [
      BIN,
      'replay',
      '--input',
      events,
      '--output',
      join(dir, 'a3.jsonl'),
      '--save-profiles',
      mem,
    ]);
    expect(r3.stderr).toMatch(/rules memory of 8 stages written to/);
    const saved = JSON.parse(readFileSync(mem, 'utf8'));
    expect(saved.memories.map((m: { stage: string }) => m.stage)).toContain('rollup');
    const at = saved.memories[0].at;
    expect(at % 3_600_000).toBe(0);
    expect(saved.memories[0].memory.terminals.length).toBeGreaterThan(100);
    const r4 = await run('node', [
      BIN,
      'replay',
      '--input',
      events,
      '--output',
      join(dir, 'a4.jsonl'),
      '--profiles',
      mem,
    ]);
    expect(r4.stderr).toMatch(/replayed \d+ events/);
    // a memory from another partitioning is refused with what was wrong
    await expect(
      run('node', [
        BIN,
        'replay',
        '-i',
        events,
        '-o',
        join(dir, 'a5.jsonl'),
        '--profiles',
        mem,
        '--partitions',
        '2',
      ]),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/this topology has 2 events partitions/),
    });
    writeFileSync(join(dir, 'bad.json'), '{"v":1,"memories":[{"stage":"x"}]}');
    await expect(
      run('node', [
        BIN,
        'replay',
        '-i',
        events,
        '-o',
        join(dir, 'a6.jsonl'),
        '--profiles',
        join(dir, 'bad.json'),
      ]),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/memories\[0\] is not a stage memory/),
    });
  }, 240_000);

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
    expect(stderr).toMatch(
      /replayed 1 events from 1 lines \(0 malformed, 0 late, 0 duplicates, 0 ts_in_future\)/,
    );
  }, 60_000);

  // issue 16, "Replay and API input": nothing the run drops goes unreported
  it('replay summary prints late and duplicate counts; a too-long line and invalid UTF-8 are reported with their line number', async () => {
    const hb = (id: string, ts: number) =>
      JSON.stringify({
        type: 'heartbeat',
        eventId: id,
        ts,
        terminalId: 'T1',
        merchantId: 'M1',
        region: 'CN-31',
      });
    const t0 = 1767225600000;
    const file = join(dir, 'late-dup.jsonl');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(
          [
            hb('h1', t0),
            hb('h1', t0), // line 2: duplicate
            hb('h2', t0 + 60_000),
            // a lone terminal is its partition's time 5 min after its events (ahead-guard.ts)
            hb('h4', t0 + 7 * 60_000),
            `{"pad":"${'x'.repeat(300)}"}`, // line 5: longer than --max-line-bytes
          ].join('\n') + '\n',
        ),
        Buffer.from('{"type":"heartbeat","firmware":"\xff"}\n', 'latin1'), // line 6: not UTF-8
        Buffer.from(hb('h3', t0) + '\n'), // line 7: behind h2 by a minute, past the allowed lateness
      ]),
    );
    const r = await run('node', [
      BIN,
      'replay',
      '-i',
      file,
      '-o',
      join(dir, 'late-dup.out.jsonl'),
      '--max-line-bytes',
      '200',
    ]);
    expect(r.stderr).toContain(
      `${file}:5: line is 310 bytes, longer than the limit of 200 (--max-line-bytes); skipped`,
    );
    expect(r.stderr).toContain(`${file}:6: invalid UTF-8 at byte 32 of the line`);
    expect(r.stderr).toMatch(
      /replayed 5 events from 7 lines \(2 malformed, 1 late, 1 duplicates, 0 ts_in_future\): 0 alert transitions/,
    );
    await expect(
      run('node', [BIN, 'replay', '-i', file, '-o', '-', '--max-line-bytes', '0']),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/--max-line-bytes must be from 1/) });
  }, 60_000);

  it('lists the scenarios with --list alone, and asks for --scenario without it', async () => {
    const listed = await run('node', [BIN, 'simulate', '--list']);
    expect(listed.stdout.split('\n')).toContain('regional-outage-errors');
    expect(listed.stdout).not.toMatch(/^demo$/m);
    await expect(
      run('node', [BIN, 'simulate', '--out', join(dir, 'x.jsonl')]),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/--scenario <name> is required/) });
  }, 60_000);

  it('refuses an unknown scenario with the list of valid ones', async () => {
    await expect(
      run('node', [BIN, 'simulate', '--scenario', 'nope', '--out', join(dir, 'x.jsonl')]),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/unknown scenario "nope".*regional-outage-errors/),
    });
  }, 60_000);
});
