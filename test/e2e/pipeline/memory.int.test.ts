import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '@tillwatch/clickhouse';
import { validateEvent, type Alert, type TerminalEvent } from '@tillwatch/contracts';
import { TRADING_MONDAY, tradingDays } from '@tillwatch/simulator';
import { partitionerFor, replay } from '@tillwatch/stream';
import {
  PARTITIONS,
  bundleProcessor,
  chClient,
  createTopics,
  pipelineSuite,
  processorVars,
  produce,
  readAlerts,
  spawnProcessor,
  waitProcessed,
  type ChildProcessor,
} from './harness';

/**
 * A monitor that remembers. A fleet trades for a day and a half (Monday 00:00 to Tuesday
 * 12:00, UTC+8); the processor is killed with SIGKILL at 02:20 on Tuesday, after it has
 * committed everything up to then, and started again. The rules' memory (calendar profiles,
 * baselines, open episodes) comes back from rules_memory, taken at 02:00: the alerts of the
 * whole run, before and after the kill, are the uninterrupted replay's, byte for byte —
 * including a till that stops selling at 09:00 on Tuesday, which only its Monday profile says
 * should be selling (packages/stream/src/memory.test.ts shows the same replay without the
 * memory judging differently).
 */
describe('rules memory: the processor killed in the middle of a trading day', () => {
  const suite = pipelineSuite('memory');
  const { topics, db, kafka } = suite;
  const ch = chClient();
  const dir = mkdtempSync(path.join(tmpdir(), 'tw-memory-'));
  const file = path.join(dir, 'events.jsonl');
  const H = 3_600_000;
  const start = TRADING_MONDAY;
  const kill = start + 26 * H + 20 * 60_000;
  const sim = tradingDays(36, [{ scenario: 'terminal-silent', start: start + 33 * H }]);
  const events: TerminalEvent[] = [];
  const lines: string[] = [];
  for (const raw of sim.events()) {
    const text = JSON.stringify(raw);
    const r = validateEvent(JSON.parse(text));
    if (!r.ok) throw new Error(`simulator produced an invalid event: ${r.reason}`);
    events.push(r.event);
    lines.push(text);
  }
  const cut = events.findIndex((e) => e.ts >= kill);
  const route = partitionerFor(PARTITIONS);
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
  const logFile = path.join(dir, 'processor.log');
  const children: ChildProcessor[] = [];
  // Idle-source ticks off (wall clock): which partition goes quiet first depends on timing.
  const vars = processorVars(suite, {
    instance: 'mem-a',
    logLevel: 'info',
    extra: { ROLLUP_IDLE_AFTER: '1h', RULES_MEMORY_RESTORE: 'on' },
  });

  beforeAll(async () => {
    writeFileSync(file, lines.join('\n') + '\n');
    await createTopics(kafka, Object.values(topics));
    await produceEvents(0, cut);
  }, 300_000);
  afterAll(async () => {
    for (const c of children) await c.kill('SIGTERM');
    await ch.close();
  });

  it('alerts before and after a kill -9 are the uninterrupted run’s; the memory came back', async () => {
    // the uninterrupted run: replay, as the processor would (no idle partitions either)
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        cb();
      },
    });
    await replay(createReadStream(file), out, { idleAfterMs: Number.POSITIVE_INFINITY });
    const want = chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Alert);
    const after = want.filter((a) => Date.parse(a.ts) > kill);
    expect(after.some((a) => a.rule === 'terminal_silent')).toBe(true);

    const bundle = await bundleProcessor();
    const alive = () => {
      for (const c of children) if (c.exited) throw new Error(`a processor exited; see ${logFile}`);
    };
    children.push(await spawnProcessor(bundle, vars, logFile));
    await waitProcessed(suite, { timeoutMs: 600_000, alive });
    const taken = await ch.query({
      query: `SELECT stage, count() AS n, max(at_ms) AS at FROM ${db}.${TABLES.rulesMemory} GROUP BY stage ORDER BY stage`,
      format: 'JSONEachRow',
    });
    const memories = (await taken.json()) as { stage: string; n: string; at: string }[];
    console.log(`rules memory before the kill: ${JSON.stringify(memories)}`);
    expect(memories.map((m) => m.stage)).toEqual(['events', 'rollup']);
    expect(Number(memories[0]!.at)).toBe(Math.floor(kill / H) * H);

    await children[0]!.kill('SIGKILL');
    children.length = 0;
    await produceEvents(cut, events.length);
    children.push(await spawnProcessor(bundle, vars, logFile));
    await waitProcessed(suite, { timeoutMs: 600_000, alive });

    const restored = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('partition assigned: rebuilding state'))
      .map((l) => JSON.parse(l) as { topic: string; memoryAt: string | null })
      .filter((l) => l.memoryAt !== null);
    console.log(`partitions restored from memory: ${restored.length}`);
    expect(restored.length).toBeGreaterThanOrEqual(PARTITIONS);
    expect(new Set(restored.map((l) => l.memoryAt))).toEqual(
      new Set([new Date(Math.floor(kill / H) * H).toISOString()]),
    );

    const got = await readAlerts(kafka, topics.TOPIC_ALERTS);
    const full = (list: Alert[]) => list.map((a) => JSON.stringify(a)).sort();
    console.log(
      `alerts: ${got.length} transitions from the processor (killed once), ${want.length} from the uninterrupted replay, ${after.length} of them after the kill`,
    );
    expect(full(got)).toEqual(full(want));
  }, 1_200_000);
});
