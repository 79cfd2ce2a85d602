import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PANE_COUNTERS, TABLES } from '@tillwatch/clickhouse';
import {
  alertStreamFaults,
  validateEvent,
  type Alert,
  type TerminalEvent,
} from '@tillwatch/contracts';
import { createSimulation } from '@tillwatch/simulator';
import { CROSS_PARTITION_RULES } from '@tillwatch/rules';
import { partitionerFor, replay, type PaneRow } from '@tillwatch/stream';
import { startAllInOne } from '@tillwatch/tillwatch';
import {
  PARTITIONS,
  bundleProcessor,
  chClient,
  committedCount,
  createTopics,
  pipelineSuite,
  processorVars,
  produce,
  readAlerts,
  sleep,
  spawnProcessor,
  waitProcessed,
  type ChildProcessor,
} from './harness';

/**
 * Same input, same alerts, whichever driver runs the topology. One event file (a 1,500-terminal
 * fleet for 50 minutes of trading, with terminal, merchant and cross-partition incidents) goes
 *  - through `tillwatch replay` (the library call the CLI makes), with its pane rows;
 *  - through real Kafka into the processor: 4 partitions, 2 instances as child processes, one
 *    of them killed with SIGKILL in the middle and restarted;
 *  - through the embedded all-in-one (`tillwatch start`'s driver, fed the file instead of the
 *    simulated fleet).
 * The alert transitions must be the same (rule, scope, key, status, severity, firstSeen, ts,
 * alertId), and the processor's pane_counts rows the same as replay's pane rows, row for row:
 * every counter, the merchant and the region.
 *
 * The stream is shorter than the processor's replay span on recovery (1 h + lateness + a pane +
 * margin), so the restarted instance rebuilds its state from the start of the stream, and the
 * rules' memory (baselines, open episodes) is whole again. Idle-source ticks are off in the
 * processor (ROLLUP_IDLE_AFTER 1h): which instance goes quiet first at the end of the input
 * depends on timing, and a quiet partition's windows are not the subject here
 * (cross-partition.int.test.ts covers them).
 */
describe('one topology: replay, the processor and the embedded start agree', () => {
  const suite = pipelineSuite('equiv');
  const { topics, db, groupId, kafka } = suite;
  const ch = chClient();
  const dir = mkdtempSync(path.join(tmpdir(), 'tw-equiv-'));
  const file = path.join(dir, 'events.jsonl');
  const start = Date.UTC(2026, 2, 2, 1, 0, 0); // 09:00 in the fleet's UTC+8
  const at = (min: number) => start + min * 60_000;
  const sim = createSimulation({
    seed: 23,
    scenario: 'healthy',
    start,
    durationMs: 50 * 60_000,
    fleet: { terminals: 1500, merchants: 150 },
    incidents: [
      { scenario: 'card-testing', start: at(8), durationMs: 15 * 60_000 },
      { scenario: 'terminal-fault', start: at(8), durationMs: 20 * 60_000 },
      { scenario: 'failed-but-charged', start: at(10), durationMs: 15 * 60_000 },
      { scenario: 'regional-outage-errors', start: at(18), durationMs: 12 * 60_000 },
      { scenario: 'issuer-outage', start: at(34), durationMs: 12 * 60_000 },
    ],
  });
  const events: TerminalEvent[] = [];
  const lines: string[] = [];
  for (const raw of sim.events()) {
    const text = JSON.stringify(raw);
    const r = validateEvent(JSON.parse(text));
    if (!r.ok) throw new Error(`simulator produced an invalid event: ${r.reason}`);
    events.push(r.event);
    lines.push(text);
  }
  const route = partitionerFor(PARTITIONS);
  /** Events [from, to) to the topic, to their merchant's partition. */
  const produceEvents = (from: number, to: number) =>
    produce(
      kafka,
      topics.TOPIC_EVENTS,
      events.slice(from, to).map((e, i) => ({
        partition: route(e.merchantId),
        key: e.merchantId,
        value: lines[from + i]!,
        ts: e.ts,
      })),
    );
  const firstPart = Math.floor(events.length * 0.6);
  const logFile = path.join(dir, 'processor.log');
  const children: ChildProcessor[] = [];
  const childEnv = (instance: string) =>
    processorVars(suite, {
      instance,
      logLevel: 'info',
      extra: { PROCESSOR_SESSION_TIMEOUT: '6s', ROLLUP_IDLE_AFTER: '1h' },
    });

  beforeAll(async () => {
    writeFileSync(file, lines.join('\n') + '\n');
    await createTopics(kafka, Object.values(topics));
    // the first part now, the rest after the kill: the kill always lands mid-stream
    await produceEvents(0, firstPart);
  }, 300_000);
  afterAll(async () => {
    for (const c of children) await c.kill('SIGTERM');
    await ch.close();
  });

  /** What is compared of a transition. */
  const sig = (a: Alert) =>
    [a.alertId, a.rule, a.scope, a.key, a.status, a.severity, a.firstSeen, a.ts].join('|');
  const paneKey = (scope: string, key: string, paneMs: number) => `${scope}|${key}|${paneMs}`;
  /** What is compared of a pane row: its merchant, its region and every counter. */
  const paneValue = (merchantId: string, region: string, counts: number[]) =>
    [merchantId, region, ...counts].join(',');

  let replayed: Alert[] = [];
  const replayRows = new Map<string, string>();
  /** pane rows replay gave twice (one identity, one row: the processor's table keeps one) */
  let replayTwice = 0;

  it('replay: the file through the topology, alerts and pane rows', async () => {
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        cb();
      },
    });
    const result = await replay(createReadStream(file), out, {
      // m is the stage's scratch: read at once
      panes: (...[scope, key, paneStart, m, merchantId, region]: PaneRow) => {
        const k = paneKey(scope, key, paneStart);
        if (replayRows.has(k)) replayTwice++;
        replayRows.set(
          k,
          paneValue(
            merchantId ?? '',
            region ?? '',
            PANE_COUNTERS.map(([, metric]) => m[metric]!),
          ),
        );
      },
    });
    replayed = chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Alert);
    console.log(
      `replay: ${result.events} events, ${replayed.length} transitions, ${replayRows.size} pane rows` +
        (replayTwice ? `, ${replayTwice} given twice` : ''),
    );
    expect(result.events).toBe(events.length);
    // The stream raises both kinds: partition-local and cross-partition rules.
    const cross = new Set<string>(CROSS_PARTITION_RULES);
    expect(replayed.some((a) => cross.has(a.rule))).toBe(true);
    expect(replayed.some((a) => !cross.has(a.rule))).toBe(true);
    expect(replayRows.size).toBeGreaterThan(10_000);
    expect(replayTwice).toBe(0);
    // each episode fires first, resolves once as it was last sent, ... (the drivers below must
    // give these same transitions, so they keep the same promises)
    expect(alertStreamFaults(replayed)).toEqual([]);
  }, 300_000);

  it('the processor (4 partitions, 2 instances, one kill -9) gives the same alerts and rows', async () => {
    const bundle = await bundleProcessor();
    children.push(await spawnProcessor(bundle, childEnv('equiv-a'), logFile));
    children.push(await spawnProcessor(bundle, childEnv('equiv-b'), logFile));
    // kill -9 instance a once the group has committed 40 % of the events (of the 60 % on the
    // topic so far), then restart it under the same instance id (its transactional id fences
    // the killed one's transaction) and produce the rest.
    const admin = kafka.admin();
    await admin.connect();
    const deadline = Date.now() + 600_000;
    // the group has no coordinator until its first members join: ask again until it answers
    const committed = () => committedCount(admin, groupId, topics.TOPIC_EVENTS).catch(() => 0);
    let killedAt = 0;
    while ((killedAt = await committed()) < events.length * 0.4) {
      if (Date.now() > deadline) throw new Error('the processors did not get to 40 %');
      await sleep(200);
    }
    await admin.disconnect();
    await children[0]!.kill('SIGKILL');
    children[0] = await spawnProcessor(bundle, childEnv('equiv-a'), logFile);
    await produceEvents(firstPart, events.length);
    console.log(`killed instance a at ${killedAt} of ${events.length} committed events`);
    expect(killedAt).toBeLessThanOrEqual(firstPart);

    await waitProcessed(suite, {
      timeoutMs: 600_000,
      alive: () => {
        for (const c of children)
          if (c.exited) throw new Error(`a processor exited; see ${logFile}`);
      },
    });

    const got = await readAlerts(kafka, topics.TOPIC_ALERTS);
    const mine = got.map(sig).sort();
    const want = replayed.map(sig).sort();
    const missing = want.filter((s) => !mine.includes(s));
    const extra = mine.filter((s) => !want.includes(s));
    console.log(
      `processor: ${got.length} transitions on pos.alerts; missing ${missing.length}, extra ${extra.length}` +
        (missing.length || extra.length
          ? `\n missing: ${missing.slice(0, 10).join('\n  ')}\n extra: ${extra.slice(0, 10).join('\n  ')}`
          : ''),
    );
    expect(mine).toEqual(want);
    // Not only the compared fields: the whole transition, evidence and guidance included.
    const full = (list: Alert[]) => list.map((a) => JSON.stringify(a)).sort();
    expect(full(got)).toEqual(full(replayed));

    const cols = PANE_COUNTERS.map(([c]) => c);
    const rs = await ch.query({
      query: `SELECT scope, key, pane_ms, merchant_id, region, ${cols.join(', ')} FROM ${db}.${TABLES.panes} FINAL`,
      format: 'JSONEachRow',
    });
    let rows = 0;
    let differ = 0;
    const firstDiffs: string[] = [];
    const seen = new Set<string>();
    for await (const batch of rs.stream()) {
      for (const raw of batch) {
        const r = raw.json<Record<string, string | number>>();
        const k = paneKey(String(r.scope), String(r.key), Number(r.pane_ms));
        rows++;
        seen.add(k);
        const v = paneValue(
          String(r.merchant_id),
          String(r.region),
          cols.map((c) => Number(r[c])),
        );
        if (replayRows.get(k) !== v && differ++ < 3)
          firstDiffs.push(`${k}: ${v} (replay ${replayRows.get(k) ?? 'none'})`);
      }
    }
    const missingRows = [...replayRows.keys()].filter((k) => !seen.has(k)).length;
    console.log(
      `pane_counts: ${rows} rows, ${differ} differ from replay's, ${missingRows} missing` +
        (firstDiffs.length
          ? `\n first differing (merchant, region, counters): ${firstDiffs.join('\n  ')}`
          : ''),
    );
    expect(rows).toBe(replayRows.size);
    expect(differ).toBe(0);
    expect(missingRows).toBe(0);
  }, 900_000);

  it('the embedded all-in-one, fed the same file, gives the same alerts', async () => {
    const alerts: Alert[] = [];
    const app = await startAllInOne({
      port: 0,
      events,
      onAlert: (a) => alerts.push(a),
      env: {
        TILLWATCH_STATE_DIR: 'off', // no state from an earlier test run
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        NOTIFIER_JOURNAL_PATH: path.join(dir, 'webhooks.journal'),
      },
    });
    try {
      const deadline = Date.now() + 300_000;
      while (app.topology.stats().events < events.length && Date.now() < deadline) await sleep(200);
      expect(app.topology.stats().events).toBe(events.length);
      console.log(`embedded: ${alerts.length} transitions`);
      // Same order too: the same topology, the same events in the same order.
      expect(alerts.map((a) => JSON.stringify(a))).toEqual(replayed.map((a) => JSON.stringify(a)));
    } finally {
      await app.stop();
    }
  }, 600_000);
});
