import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@tillwatch/config';
import { validateEvent, type Alert, type TerminalEvent } from '@tillwatch/contracts';
import { TRADING_MONDAY, createSimulation, tradingDays } from '@tillwatch/simulator';
import { parseMemoryFile } from '@tillwatch/stream';
import { execFileSync } from 'node:child_process';
import { loadStartConfig } from '../config';
import { describe, expect, it } from 'vitest';
import { startAllInOne, type AllInOne, type RestartInfo } from './start';
import { transitionId } from './state';
import { capturingLogger } from './test-logger';

/**
 * The embedded start stopped in the middle of a trading day and started again with the same
 * state directory: the alerts of both runs together are those of one uninterrupted run, byte for
 * byte, none sent twice. A fleet trades from Monday 00:00 to Tuesday 14:00 (UTC+8); a till
 * fails at 11:03 on Tuesday (its alert fires at 11:17, before the stop at 11:20, and resolves
 * after it) and another till stops selling at 13:00, which only its Monday profile says it
 * should be doing. Started without the state, on the same events from the same point, the
 * all-in-one judges Tuesday differently.
 */
const H = 3_600_000;
const start = TRADING_MONDAY;
const stopAt = start + 35 * H + 20 * 60_000; // Tuesday 11:20
const sim = tradingDays(38, [
  { scenario: 'terminal-fault', start: start + 35 * H + 3 * 60_000, durationMs: 40 * 60_000 },
  { scenario: 'terminal-silent', start: start + 37 * H },
]);
const events: TerminalEvent[] = [];
for (const raw of sim.events()) {
  const r = validateEvent(JSON.parse(JSON.stringify(raw)));
  if (!r.ok) throw new Error(r.reason);
  events.push(r.event);
}
const silentTill = sim.labels.find((l) => l.scenario === 'terminal-silent')!.key;

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `tw-state-${name}-`));
const env = () => ({
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  NOTIFIER_JOURNAL_PATH: join(tmp('journal'), 'webhooks.journal'),
});

/** One all-in-one over `evs` until every event is consumed, then stopped. */
async function run(
  evs: readonly TerminalEvent[],
  stateDir: string,
  logLines: { level: number; msg: string }[] = [],
  /** called with every event consumed, before the stop: what a kill -9 then would leave */
  beforeStop?: () => void,
  /** called once the all-in-one has started (its board answering) */
  started?: (app: AllInOne) => Promise<void>,
): Promise<{ alerts: Alert[]; restart: RestartInfo }> {
  const alerts: Alert[] = [];
  const logger = capturingLogger(logLines);
  const app: AllInOne = await startAllInOne({
    port: 0,
    events: evs,
    onAlert: (a) => alerts.push(a),
    stateDir,
    env: env(),
    logger,
  });
  try {
    await started?.(app);
    const consumed = () => app.topology.stats().events + app.restart.primed + app.restart.skipped;
    while (consumed() < evs.length) await new Promise((r) => setTimeout(r, 100));
    beforeStop?.();
  } finally {
    await app.stop();
  }
  return { alerts, restart: app.restart };
}

const json = (as: readonly Alert[]) => as.map((a) => JSON.stringify(a));

describe('tillwatch start: a restart with the same state directory', () => {
  it('continues from its rules memory: the alerts are the uninterrupted run’s, none sent twice', async () => {
    const whole = await run(events, 'off');
    const fault = whole.alerts.find((a) => a.rule === 'terminal_fault_spike')!;
    expect(Date.parse(fault.ts)).toBeGreaterThan(Math.floor(stopAt / H) * H);
    expect(Date.parse(fault.ts)).toBeLessThan(stopAt);
    const silent = whole.alerts.find((a) => a.rule === 'terminal_silent' && a.key === silentTill);
    expect(silent?.evidence.basis).toBe('calendar_profile');

    const dir = tmp('dir');
    const first = await run(
      events.filter((e) => e.ts < stopAt),
      dir,
    );
    const memory = JSON.parse(readFileSync(join(dir, 'memory.json'), 'utf8')) as {
      memories: { at: number }[];
    };
    expect(memory.memories.length).toBe(8); // 4 events + 4 rollup partitions
    // a file `tillwatch replay --profiles` reads
    expect(parseMemoryFile(readFileSync(join(dir, 'memory.json'), 'utf8')).length).toBe(8);
    expect(Math.min(...memory.memories.map((m) => m.at))).toBe(Math.floor(stopAt / H) * H);

    // the same events again, as a source would give them: the state says where to go on from
    const second = await run(events, dir);
    expect(second.restart.resumed).toBe(true);
    expect(second.restart.memoryAt).toBe(Math.floor(stopAt / H) * H);
    // the fault's firing at 11:17 was judged again and not sent again
    expect(second.restart.suppressed).toBeGreaterThanOrEqual(1);
    expect(second.alerts.every((a) => Date.parse(a.ts) > second.restart.memoryAt!)).toBe(true);
    expect(json(second.alerts)).not.toContain(JSON.stringify(fault));
    console.log(
      `uninterrupted: ${whole.alerts.length} transitions; stopped at 11:20: ${first.alerts.length} + ${second.alerts.length} after the restart (${second.restart.suppressed} judged again, not sent again; ${second.restart.primed} events primed settlements, ${second.restart.skipped} skipped)`,
    );
    expect(json([...first.alerts, ...second.alerts])).toEqual(json(whole.alerts));

    // Without the state, on the same events from the same replay point: judged blind.
    const blind = await run(
      events.filter((e) => e.ts >= second.restart.replayFrom!),
      tmp('blind'),
    );
    expect(blind.restart.resumed).toBe(false);
    const after = (as: readonly Alert[]) => json(as.filter((a) => Date.parse(a.ts) > stopAt));
    expect(after(blind.alerts)).not.toEqual(after(whole.alerts));
  }, 600_000);

  it('stopped as the partitions take their first memories, a few seconds apart: nothing sent twice, nothing lost', async () => {
    // A fleet's first hours; the memories of 11:00 are taken as each stage's clock passes it,
    // a few seconds of event time apart. Two fleets: a card testing at a merchant at 10:20,
    // and the same with a till failing at 10:10 and another losing its network at 10:15 (the
    // card testing's resolve comes after 11:00 there, and tells its evidence then).
    const from = TRADING_MONDAY + 10 * H;
    const cardTesting = {
      scenario: 'card-testing',
      start: from + 20 * 60_000,
      durationMs: 30 * 60_000,
    } as const;
    const fleets = [
      [cardTesting],
      [
        { scenario: 'terminal-fault', start: from + 10 * 60_000, durationMs: 30 * 60_000 } as const,
        {
          scenario: 'terminal-network',
          start: from + 15 * 60_000,
          durationMs: 30 * 60_000,
        } as const,
        cardTesting,
      ],
    ];
    const seen = { none: 0, some: 0, all: 0, heldBack: 0, handedBack: 0 };
    for (const [f, incidents] of fleets.entries()) {
      const fleet = createSimulation({
        seed: 41,
        scenario: 'healthy',
        start: from,
        durationMs: 2 * H,
        fleet: { terminals: 120, merchants: 24 },
        incidents,
      });
      const evs: TerminalEvent[] = [];
      for (const raw of fleet.events()) {
        const r = validateEvent(JSON.parse(JSON.stringify(raw)));
        if (r.ok) evs.push(r.event);
      }
      const firstHour = Math.ceil(evs[0]!.ts / H) * H;
      const until = firstHour + 30 * 60_000;
      const whole = await run(
        evs.filter((e) => e.ts < until),
        'off',
      );
      // Stopped every 2 s past 11:00: none of the stages has a memory, some have (the
      // merchant's or not), all have. At each stop the two runs together are the uninterrupted
      // one, byte for byte.
      for (let past = 12_000; past <= 34_000; past += 2000) {
        const dir = tmp('partial');
        // the state directory as a kill -9 would have left it, just before the stop
        const killed = tmp('killed');
        const first = (
          await run(
            evs.filter((e) => e.ts < firstHour + past),
            dir,
            [],
            () => cpSync(dir, killed, { recursive: true }),
          )
        ).alerts;
        const file = join(dir, 'memory.json');
        const memories = existsSync(file) ? parseMemoryFile(readFileSync(file, 'utf8')).length : 0;
        const second = await run(
          evs.filter((e) => e.ts < until),
          dir,
        );
        const afterKill = await run(
          evs.filter((e) => e.ts < until),
          killed,
        );
        const at = `fleet ${f}, stopped ${past / 1000} s past the hour with ${memories} of 8 memories`;
        const firstIds = new Set(first.map(transitionId));
        expect(
          second.alerts.map(transitionId).filter((x) => firstIds.has(x)),
          at,
        ).toEqual([]);
        expect(json([...first, ...second.alerts]), at).toEqual(json(whole.alerts));
        // killed instead of stopped: the same, from the state of its last memory
        expect(json([...first, ...afterKill.alerts]), `${at}, killed`).toEqual(json(whole.alerts));
        if (memories === 0) seen.none++;
        else if (memories < 8) {
          seen.some++;
          expect(second.restart.restored, at).toEqual({ stages: memories, of: 8 });
        } else seen.all++;
        // a stage without a memory judged firings of the hour again: the journal held them back
        if (memories > 0 && memories < 8 && second.restart.suppressed > 0) seen.heldBack++;
        // a resolve raised before 11:00 by a stage with the memory of 11:00, waiting in the
        // rollup stage for the other partitions at the stop: handed back, sent once
        if ((second.restart.reinjected ?? 0) > 0) seen.handedBack++;
      }
    }
    expect(seen.none).toBeGreaterThanOrEqual(1);
    expect(seen.some).toBeGreaterThanOrEqual(1);
    expect(seen.all).toBeGreaterThanOrEqual(1);
    expect(seen.heldBack).toBeGreaterThanOrEqual(1);
    expect(seen.handedBack).toBeGreaterThanOrEqual(1);
  }, 300_000);

  it('the simulated fleet: the same fleet goes on after a restart; another seed starts afresh', async () => {
    const dir = tmp('sim');
    const simEnv = (seed: string) => ({
      ...env(),
      TILLWATCH_SEED: seed,
      TILLWATCH_TERMINALS: '60',
      TILLWATCH_MERCHANTS: '12',
      TILLWATCH_SPEED: '50',
      TILLWATCH_HISTORY_MIN: '5',
      TILLWATCH_FIRST_INCIDENT_S: '0',
    });
    const source = () =>
      JSON.parse(readFileSync(join(dir, 'source.json'), 'utf8')) as {
        seed: number;
        start: number;
        firstAt: number;
        position: number;
      };
    const sent: Alert[] = [];
    const a = await startAllInOne({
      port: 0,
      stateDir: dir,
      env: simEnv('7'),
      onAlert: (x) => sent.push(x),
    });
    while (a.topology.stats().events < 1_500) await new Promise((r) => setTimeout(r, 100));
    const seen = a.topology.stats().events;
    await a.stop();
    const s1 = source();
    expect(a.restart.resumed).toBe(false);

    const again: Alert[] = [];
    const b = await startAllInOne({
      port: 0,
      stateDir: dir,
      env: simEnv('7'),
      onAlert: (x) => again.push(x),
    });
    // the same simulation, regenerated up to where it stopped before the board opens
    expect(b.restart.resumed).toBe(true);
    expect(b.topology.stats().events).toBeGreaterThanOrEqual(seen);
    // What came after the rules memory (kept at each full hour of event time; none if the run
    // did not reach one) is judged again and not sent again; what came before it is in the
    // memory, not judged twice. No transition the first run sent is sent again (a webhook per
    // transition: a merchant would get it twice), also when the replay raises it at another
    // event time: the first run closed some boundaries on the fleet's clock, the replay on
    // events (state.ts, transitionId). A transition the first run raised just before it
    // stopped may come a boundary later here, after this look: at most all of them are taken.
    // from the memory's time, or, if some stage had none yet, from the replay's start
    const since =
      (b.restart.restored?.stages === b.restart.restored?.of
        ? b.restart.memoryAt
        : b.restart.replayFrom) ?? Number.NEGATIVE_INFINITY;
    const after = sent.filter((x) => Date.parse(x.ts) > since);
    expect(b.restart.suppressed).toBeGreaterThanOrEqual(Math.min(1, after.length));
    expect(b.restart.suppressed).toBeLessThanOrEqual(after.length);
    const firstIds = new Set(sent.map(transitionId));
    const twice = again.filter((x) => firstIds.has(transitionId(x)));
    // on a failure: when each run sent them, against the memory's time
    const when = (as: readonly Alert[]) =>
      as
        .filter((x) => twice.some((t) => transitionId(t) === transitionId(x)))
        .map((x) => `${transitionId(x)} ${x.ts}`);
    expect(
      twice.map(transitionId),
      `memory at ${Number.isFinite(since) ? new Date(since).toISOString() : 'none'}; first run: ${when(sent).join(', ')}; ` +
        `after the restart: ${when(again).join(', ')}`,
    ).toEqual([]);
    await b.stop();
    const s2 = source();
    expect([s2.seed, s2.start, s2.firstAt]).toEqual([s1.seed, s1.start, s1.firstAt]);
    expect(s2.position).toBeGreaterThanOrEqual(s1.position);

    const c = await startAllInOne({ port: 0, stateDir: dir, env: simEnv('8') });
    await c.stop();
    expect(c.restart.resumed).toBe(false);
    expect(source().seed).toBe(8);
  }, 300_000);

  it('TILLWATCH_STATE_DIR defaults to .data/tillwatch; tillwatch start takes --state-dir', () => {
    expect(loadStartConfig({}).TILLWATCH_STATE_DIR).toBe('.data/tillwatch');
    const help = execFileSync('npx', ['tsx', 'src/cli.ts', 'start', '--help'], {
      encoding: 'utf8',
    });
    expect(help).toContain('--state-dir <dir>');
  });

  it('a state directory that cannot be written is a configuration error naming the variable', async () => {
    const file = join(tmp('file'), 'a-file');
    writeFileSync(file, 'x');
    const err = await startAllInOne({
      port: 0,
      events: [],
      env: env(),
      stateDir: join(file, 'state'),
    })
      .then(async (app) => {
        await app.stop();
        return undefined;
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(
      /TILLWATCH_STATE_DIR: cannot write the state directory/,
    );
  });

  it('silences and API keys made on the board come back after a restart; a silence mutes the replay', async () => {
    // the fault alert of the uninterrupted run fires at 11:17 on Tuesday (the first test)
    const stopEarly = start + 34 * H + 30 * 60_000; // Tuesday 10:30, before the fault
    const dir = tmp('board');
    const api = async (app: AllInOne, key: string, method: string, path: string, body?: object) => {
      const res = await fetch(`${app.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const admin = (app: AllInOne) => app.keys.find((k) => k.role === 'admin')!.key;
    let silenceId = '';
    let kept = '';
    let revoked = '';
    await run(
      events.filter((e) => e.ts < stopEarly),
      dir,
      [],
      undefined,
      async (app) => {
        const silence = await api(app, admin(app), 'POST', '/api/silences', {
          matchers: { rule: 'terminal_fault_spike' },
          startsAt: new Date(start).toISOString(),
          endsAt: new Date(start + 7 * 24 * H).toISOString(),
          comment: 'terminal swap all week',
        });
        expect(silence.status).toBe(201);
        silenceId = String(silence.body.id);
        const a = await api(app, admin(app), 'POST', '/api/keys', {
          role: 'analyst',
          name: 'night shift',
        });
        const b = await api(app, admin(app), 'POST', '/api/keys', { role: 'sre', name: 'temp' });
        expect([a.status, b.status]).toEqual([201, 201]);
        kept = String(a.body.key);
        revoked = String(b.body.key);
        expect(
          (await api(app, admin(app), 'DELETE', `/api/keys/${String(b.body.id)}`)).status,
        ).toBe(200);
      },
    );
    const file = join(dir, 'board.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // the keys as digests only
    expect(readFileSync(file, 'utf8')).not.toContain(kept);
    expect(readFileSync(file, 'utf8')).not.toContain(revoked);

    // (a copy of the state as the first run left it, without the board's file: the control below)
    const bare = tmp('board-bare');
    cpSync(dir, bare, { recursive: true });
    rmSync(join(bare, 'board.json'));

    let listed: unknown[] = [];
    const statuses: number[] = [];
    const second = await run(events, dir, [], undefined, async (app) => {
      const got = await api(app, kept, 'GET', '/api/silences');
      statuses.push(got.status, (await api(app, revoked, 'GET', '/api/silences')).status);
      listed = (got.body.silences as { id: string }[]).map((x) => x.id);
    });
    expect(second.restart.board).toEqual({ silences: 1, keys: 2 });
    // the key made before the restart works after it (the demo keys are new), the revoked one not
    expect(statuses).toEqual([200, 401]);
    expect(listed).toEqual([silenceId]);
    // the fault's alert (11:17, after the memory of 10:00 the replay judges again from) is muted
    expect(second.restart.memoryAt).toBe(start + 34 * H);
    expect(second.alerts.filter((a) => a.rule === 'terminal_fault_spike')).toEqual([]);
    expect(second.alerts.length).toBeGreaterThan(0);

    // The same second run with the board's file gone: the fault is paged (the test can fail).
    const third = await run(events, bare);
    expect(third.restart.board).toBeUndefined();
    expect(third.alerts.some((a) => a.rule === 'terminal_fault_spike')).toBe(true);
  }, 600_000);

  it('an unreadable memory file is set aside with a warning; the run rebuilds from its source', async () => {
    const dir = tmp('corrupt');
    const morning = events.filter((e) => e.ts < start + 3 * H);
    const first = await run(morning, dir);
    expect(existsSync(join(dir, 'memory.json'))).toBe(true);
    writeFileSync(join(dir, 'memory.json'), '{"v":1,"memories":[{"stage":');
    const logLines: { level: number; msg: string }[] = [];
    const second = await run(morning, dir, logLines);
    expect(logLines.some((l) => l.level === 40 && /rules memory unreadable/.test(l.msg))).toBe(
      true,
    );
    expect(existsSync(join(dir, 'memory.json.unreadable'))).toBe(true);
    expect(second.restart.resumed).toBe(true);
    expect(second.restart.memoryAt).toBeUndefined();
    // every event judged again from the start; what the first run sent is not sent again
    expect(second.restart.suppressed).toBe(first.alerts.length);
    expect(second.alerts).toEqual([]);
    expect(existsSync(join(dir, 'memory.json'))).toBe(true);
  }, 300_000);
});
