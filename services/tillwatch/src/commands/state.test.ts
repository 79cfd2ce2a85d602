import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@tillwatch/config';
import type { Alert } from '@tillwatch/contracts';
import { describe, expect, it } from 'vitest';
import type { StageMemory } from '@tillwatch/stream';
import { SentTransitions, StateDir, replayFrom } from './state';
import { capturingLogger } from './test-logger';

type T = Pick<Alert, 'alertId' | 'status' | 'severity' | 'confidence' | 'ts'>;
const t = (
  alertId: string,
  status: Alert['status'],
  severity: Alert['severity'],
  ts: string,
  confidence?: Alert['confidence'],
): T => ({ alertId, status, severity, ts, ...(confidence ? { confidence } : {}) });

describe('the journal of sent transitions (a restart does not send one twice)', () => {
  it('knows a transition raised again at another event time, and takes each one once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-journal-'));
    const state = StateDir.open(dir, createLogger('test', { level: 'silent' }), 8);
    // sent before the stop: a firing, its escalation, an update whose evidence grew (same
    // severity as the escalation), an early firing of another episode
    const before = [
      t('A', 'firing', 'warning', '2026-03-03T11:17:00.000Z'),
      t('A', 'firing', 'critical', '2026-03-03T11:18:00.000Z'),
      t('A', 'firing', 'critical', '2026-03-03T11:25:00.000Z'),
      t('B', 'firing', 'warning', '2026-03-03T11:19:00.000Z', 'medium'),
    ];
    for (const a of before) state.sent(a as Alert);
    const sent = state.read().sent;
    expect(sent.size).toBe(4);

    // the replay raises them again, 10 s later than the run before did
    const later = (a: T): T => ({ ...a, ts: new Date(Date.parse(a.ts) + 10_000).toISOString() });
    expect(before.map((a) => sent.take(later(a)))).toEqual([true, true, true, true]);
    expect(sent.size).toBe(0);
    // what the run before never sent goes out: a third update, the confidence rising, the end
    expect(sent.take(t('A', 'firing', 'critical', '2026-03-03T11:40:00.000Z'))).toBe(false);
    expect(sent.take(t('B', 'firing', 'warning', '2026-03-03T11:21:00.000Z', 'high'))).toBe(false);
    expect(sent.take(t('A', 'resolved', 'critical', '2026-03-03T11:50:00.000Z'))).toBe(false);
  });

  it('counts each kind: two updates of the same severity sent, a third raised is new', () => {
    const s = new SentTransitions();
    s.add(t('A', 'firing', 'critical', '2026-03-03T11:18:00.000Z'));
    s.add(t('A', 'firing', 'critical', '2026-03-03T11:25:00.000Z'));
    expect(s.take(t('A', 'firing', 'critical', '2026-03-03T11:18:05.000Z'))).toBe(true);
    expect(s.take(t('A', 'firing', 'critical', '2026-03-03T11:25:05.000Z'))).toBe(true);
    expect(s.take(t('A', 'firing', 'critical', '2026-03-03T11:32:05.000Z'))).toBe(false);
    // another episode of the same rule and key has another alertId
    s.add(t('A', 'resolved', 'critical', '2026-03-03T11:50:00.000Z'));
    expect(s.take(t('A2', 'resolved', 'critical', '2026-03-03T11:50:00.000Z'))).toBe(false);
  });
});

describe('the journal kept against the memories', () => {
  const H = Date.parse('2026-03-03T11:00:00.000Z');
  const memory = (stage: StageMemory['stage'], partition: number, at: number) =>
    ({
      stage,
      partition,
      partitions: 4,
      at,
      memory: { v: 1, at, terminals: [] },
    }) as unknown as StageMemory;
  const journal = (dir: string) => StateDir.open(dir, createLogger('test', { level: 'silent' }), 8);

  it('keeps what a stage without a memory judges again: from the replay start until every stage has one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-journal-'));
    const state = journal(dir);
    // an hour before the memory, within the replay; and after it
    const early = t('E', 'firing', 'warning', new Date(H - 30 * 60_000).toISOString());
    const late = t('L', 'firing', 'warning', new Date(H + 5 * 60_000).toISOString());
    const ancient = t('X', 'firing', 'warning', new Date(H - 5 * 3_600_000).toISOString());
    for (const a of [ancient, early, late]) state.sent(a as Alert);

    // two partitions crossed 11:00, six stages have no memory yet: they judge again from the
    // replay's start, so what they sent since then stays
    state.take(memory('events', 0, H));
    state.take(memory('events', 1, H));
    state.flush();
    expect(replayFrom([memory('events', 0, H)])).toBeLessThan(Date.parse(early.ts));
    const partial = state.read().sent;
    expect([partial.take(ancient), partial.take(early), partial.take(late)]).toEqual([
      false,
      true,
      true,
    ]);

    // every stage has one: a restart judges nothing at or before 11:00
    for (let p = 2; p < 4; p++) state.take(memory('events', p, H));
    for (let p = 0; p < 4; p++) state.take(memory('rollup', p, H));
    state.flush();
    const whole = state.read().sent;
    expect([whole.take(early), whole.take(late)]).toEqual([false, true]);
  });
});

describe("the board's settings (board.json)", () => {
  it('are written 0600 and read back; an unreadable file is set aside with a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-board-'));
    const lines: { level: number; msg: string }[] = [];
    const log = capturingLogger(lines);
    const state = StateDir.open(dir, log, 8);
    expect(state.readBoard()).toBeUndefined();
    const board = {
      silences: [
        {
          id: 's1',
          matchers: { rule: 'terminal_silent' as const, region: 'CN-GD-SZ' },
          startsAt: '2026-03-03T01:00:00.000Z',
          endsAt: '2026-03-04T01:00:00.000Z',
          comment: 'mall closed for works',
          createdBy: 'admin',
          createdAt: '2026-03-03T00:59:00.000Z',
        },
      ],
      keys: [
        {
          key: {
            id: 'k1',
            role: 'analyst' as const,
            name: 'night shift',
            fingerprint: 'a1b2c3d4',
            createdBy: 'admin',
            createdAt: '2026-03-03T00:59:00.000Z',
          },
          digest: 'ab'.repeat(32),
        },
      ],
    };
    state.writeBoard(board);
    expect(statSync(join(dir, 'board.json')).mode & 0o777).toBe(0o600);
    expect(state.readBoard()).toEqual(board);

    // a digest that is not one: the whole file is refused, not half of it taken
    writeFileSync(
      join(dir, 'board.json'),
      JSON.stringify({ ...board, keys: [{ ...board.keys[0], digest: 'secret' }] }),
    );
    expect(state.readBoard()).toBeUndefined();
    expect(existsSync(join(dir, 'board.json.unreadable'))).toBe(true);
    expect(existsSync(join(dir, 'board.json'))).toBe(false);
    expect(lines.some((l) => l.level === 40 && /board settings unreadable/.test(l.msg))).toBe(true);
  });
});
