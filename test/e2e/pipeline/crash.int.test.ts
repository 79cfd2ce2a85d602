import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '@tillwatch/clickhouse';
import { createSimulation } from '@tillwatch/simulator';
import {
  alertSig,
  bundleProcessor,
  chClient,
  checkAgainstTruth,
  committedCount,
  count,
  createTopics,
  describeMissing,
  duplicatedEpisodes,
  expectedAlerts,
  makeStream,
  pipelineLosses,
  pipelineSuite,
  processorVars,
  produce,
  readAlerts,
  reportChaos,
  seeded,
  sleep,
  spawnProcessor,
  streamOf,
  streamRecords,
  waitProcessed,
  type ChildProcessor,
  type Stream,
} from './harness';

/**
 * TILLWATCH_CHAOS_NIGHTLY=1: issue 16's nightly size, 10 kills over 1 M events, spread over the
 * stream (kill k once k/11 of it is committed). The CI size stays 6 kills over 200k events.
 */
const NIGHTLY = process.env.TILLWATCH_CHAOS_NIGHTLY === '1';
const EVENTS = NIGHTLY ? 1_000_000 : 200_000;
const KILLS = NIGHTLY ? 10 : 6;
/** makeStream's simulation, 10 h long instead of 6 (6 h hold ~690k events): 1 M events. */
function nightlyStream(): Stream {
  const start = Date.UTC(2026, 2, 2, 1, 0, 0);
  const early = (scenario: 'card-testing' | 'terminal-fault' | 'failed-but-charged') => ({
    scenario,
    start: start + 8 * 60_000,
    durationMs: 15 * 60_000,
  });
  const sim = createSimulation({
    seed: 11,
    scenario: 'all',
    start,
    durationMs: 10 * 3_600_000,
    incidents: [early('card-testing'), early('terminal-fault'), early('failed-but-charged')],
  });
  return streamOf(sim, EVENTS);
}
const TITLE = `every count equals the ground truth after ${KILLS} SIGKILLs during ${EVENTS / 1000}k events`;

/**
 * kill -9 at random points: the processor runs as a real child process and is SIGKILLed at
 * least 5 times while a stream of 200k events goes through it, restarted each time. Afterwards
 * every count in ClickHouse equals the ground truth (0 missing, 0 double-counted) and no alert
 * episode appears twice on pos.alerts. The oracle is core's fast Engine: ReferenceEngine would take
 * over 10 min here (it rescans ~100k pending settlements per step), and core's property tests
 * hold the two equal; the 40k-event end-to-end suite uses ReferenceEngine itself.
 */
describe('crash recovery', () => {
  const suite = pipelineSuite('crash');
  const { topics, db, groupId, kafka } = suite;
  const ch = chClient();
  const stream = NIGHTLY ? nightlyStream() : makeStream(11, EVENTS);
  const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'tw-crash-')), 'processor.log');
  let bundle = '';
  let child: ChildProcessor | undefined;
  const childEnv = () =>
    processorVars(suite, {
      // Same instance id after every restart: its transactional id fences the killed one.
      instance: 'crashy',
      logLevel: 'info',
      extra: { PROCESSOR_SESSION_TIMEOUT: '6s' },
    });

  beforeAll(async () => {
    await createTopics(kafka, Object.values(topics));
    bundle = await bundleProcessor();
  }, 120_000);
  afterAll(async () => {
    await child?.kill('SIGTERM');
    await ch.close();
  });

  it('refuses a bad configuration at start, naming the variable (exit 78)', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [bundle], {
      env: { PATH: process.env.PATH ?? '', ...childEnv(), CLICKHOUSE_URL: 'clickhouse:8123' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/CLICKHOUSE_URL/);
  });

  it(TITLE, { timeout: NIGHTLY ? 3_600_000 : 900_000 }, async () => {
    const rand = seeded(20260302);
    const t0 = performance.now();
    const producing = produce(kafka, topics.TOPIC_EVENTS, streamRecords(stream), 1000);
    const kills: string[] = [];
    const admin = kafka.admin();
    await admin.connect();
    const progress = () => committedCount(admin, groupId, topics.TOPIC_EVENTS);
    for (let k = 0; k < KILLS; k++) {
      child = await spawnProcessor(bundle, childEnv(), logFile);
      const share = ((k + 1) / (KILLS + 1)) * stream.events.length;
      while (NIGHTLY && !child.exited && (await progress().catch(() => 0)) < share)
        await sleep(1000);
      // A random point: 4 to 12 s after start (start-up, rebalance, replay or steady work).
      const wait = 4000 + Math.floor(rand() * 8000);
      await sleep(wait);
      expect(child.exited, `processor died on its own; see ${logFile}`).toBe(false);
      const before = await progress();
      await child.kill('SIGKILL');
      kills.push(`kill ${k + 1} after ${wait} ms (committed ${before})`);
    }
    await producing;
    child = await spawnProcessor(bundle, childEnv(), logFile);
    await waitProcessed(suite, {
      timeoutMs: NIGHTLY ? 3_000_000 : 600_000,
      alive: () => {
        if (child?.exited) throw new Error(`processor died; see ${logFile}`);
      },
    });
    await admin.disconnect();
    const elapsed = performance.now() - t0;

    const tc = performance.now();
    const truth = await checkAgainstTruth(stream.events, ch, `${db}.${TABLES.panes}`, 'fast');
    const checkMs = performance.now() - tc;
    const stored = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.events} FINAL`);
    const dead = await count(ch, `SELECT count() AS n FROM ${db}.${TABLES.deadLetters} FINAL`);
    const alerts = await readAlerts(kafka, topics.TOPIC_ALERTS);
    const dups = duplicatedEpisodes(alerts);
    const want = expectedAlerts(stream);
    const got = new Set(alerts.map(alertSig));
    const exp = new Set(want.map(alertSig));
    const missingAlerts = [...exp].filter((s) => !got.has(s));
    const extraAlerts = [...got].filter((s) => !exp.has(s));
    console.log(
      [
        `[crash] ${stream.events.length} events, ${kills.length} SIGKILLs, done in ${Math.round(elapsed / 1000)} s (log: ${logFile})`,
        ...kills.map((k) => `  ${k}`),
        `  raw events stored ${stored} (expected ${stream.events.length}), dead letters ${dead}`,
        `  pane rows ${truth.rows} ${JSON.stringify(truth.byScope)}: ${truth.checked} held to the oracle with ${truth.windowsChecked} window sums, ` +
          `${truth.mismatched.length} differ (double-counted or short), ${truth.missing.length} of ${truth.expectedRows} missing ` +
          `(oracle: core Engine, property-tested equal to ReferenceEngine; check took ${Math.round(checkMs / 1000)} s)`,
        `  alert transitions ${alerts.length} (uncrashed run: ${want.length}); duplicated episodes ${dups.length}; ` +
          `vs uncrashed run: ${missingAlerts.length} missing, ${extraAlerts.length} extra`,
      ].join('\n'),
    );
    reportChaos({
      fault: 'processor kill -9 (child process, restarted)',
      injected: `${kills.length} x SIGKILL, 4-12 s apart`,
      events: stream.events.length,
      ...pipelineLosses(truth, stored, stream.events.length),
      duplicatedEpisodes: dups.length,
    });
    if (truth.mismatched.length) console.log(JSON.stringify(truth.mismatched.slice(0, 3)));
    if (dups.length) console.log(dups.slice(0, 10));
    if (missingAlerts.length || extraAlerts.length)
      console.log({
        missingAlerts: missingAlerts.slice(0, 5),
        extraAlerts: extraAlerts.slice(0, 5),
      });

    expect(kills.length).toBe(KILLS);
    expect(stored).toBe(stream.events.length);
    expect(dead).toBe(0);
    expect(truth.mismatched.length).toBe(0);
    expect(truth.missing.length, describeMissing(truth.missing)).toBe(0);
    expect(truth.rows).toBeGreaterThan(0);
    expect(alerts.length).toBeGreaterThan(0);
    expect(dups).toEqual([]);
  });
});
