import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES, createClickHouse, ensureDatabase, migrate } from '@tillwatch/clickhouse';
import { categorize, validateEvent, type Alert, type TerminalEvent } from '@tillwatch/contracts';
import type { RulesMemory } from '@tillwatch/rules';
import { TRADING_MONDAY, tradingDays } from '@tillwatch/simulator';
import { partitionerFor, replay, type StageMemory } from '@tillwatch/stream';
import {
  PARTITIONS,
  bundleProcessor,
  chClient,
  createTopics,
  env,
  pipelineSuite,
  processorVars,
  produce,
  readAlerts,
  spawnProcessor,
  waitProcessed,
  type ChildProcessor,
} from './harness';

/**
 * Warm-up from stored history. ClickHouse holds Monday's events (UTC+8) of a 120-terminal fleet,
 * as a processor would have written them, and no rules memory; Kafka holds Tuesday's, for a
 * processor that starts for the first time. With RULES_WARMUP it learns each partition's
 * Monday from events_raw before Tuesday's first record: its terminals' calendar profiles at
 * 06:00 on Tuesday are those `tillwatch replay` learns over Monday and Tuesday, and a till that
 * stops at 13:00 on Tuesday, which only its Monday profile says should be selling, is raised on
 * that profile. Replayed over Tuesday alone (blind), the profiles and alerts differ.
 */
describe('rules warm-up: a first start against a ClickHouse with history', () => {
  const suite = pipelineSuite('warmup');
  const { topics, db, kafka } = suite;
  const ch = chClient();
  const dir = mkdtempSync(path.join(tmpdir(), 'tw-warmup-'));
  const H = 3_600_000;
  const start = TRADING_MONDAY;
  const live = start + 24 * H; // Tuesday 00:00
  const sim = tradingDays(38, [{ scenario: 'terminal-silent', start: start + 37 * H }]);
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
  const history = events.map((e, i) => ({ e, i })).filter(({ e }) => e.ts < live);
  const logFile = path.join(dir, 'processor.log');
  const children: ChildProcessor[] = [];
  const vars = processorVars(suite, {
    instance: 'warm-a',
    logLevel: 'info',
    extra: { ROLLUP_IDLE_AFTER: '1h', RULES_WARMUP: '3d' },
  });

  beforeAll(async () => {
    // the history as the processor writes it (offsets per partition, in order)
    await ensureDatabase({ url: env('CLICKHOUSE_URL') }, db);
    const store = createClickHouse({ url: env('CLICKHOUSE_URL'), database: db });
    await migrate(store);
    await store.close();
    const offsets = new Array<number>(PARTITIONS).fill(0);
    const dt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
    const rows = history.map(({ e, i }) => {
      const p = route(e.merchantId);
      const auth = e.type === 'auth';
      return {
        event_id: e.eventId,
        type: e.type,
        ts: dt(e.ts),
        ts_ms: e.ts,
        terminal_id: e.terminalId,
        merchant_id: e.merchantId,
        region: e.region,
        txn_id: e.type === 'heartbeat' ? '' : e.txnId,
        response_code: auth ? e.responseCode : '',
        category: auth ? categorize(e.responseCode) : '',
        amount: auth || e.type === 'settlement' ? e.amount : null,
        currency: auth ? e.currency : '',
        firmware: (auth || e.type === 'heartbeat') && e.firmware ? e.firmware : '',
        issuer_id: auth && e.issuerId ? e.issuerId : '',
        raw: lines[i]!,
        kafka_partition: p,
        kafka_offset: offsets[p]!++,
        inserted_at: dt(e.ts),
      };
    });
    for (let i = 0; i < rows.length; i += 20_000) {
      await ch.insert({
        table: `${db}.${TABLES.events}`,
        values: rows.slice(i, i + 20_000),
        format: 'JSONEachRow',
      });
    }
    await createTopics(kafka, Object.values(topics));
    const from = events.findIndex((e) => e.ts >= live);
    await produce(
      kafka,
      topics.TOPIC_EVENTS,
      events.slice(from).map((e, i) => ({
        partition: route(e.merchantId),
        key: e.merchantId,
        value: lines[from + i]!,
        ts: e.ts,
      })),
    );
  }, 300_000);
  afterAll(async () => {
    for (const c of children) await c.kill('SIGTERM');
    await ch.close();
  });

  /** replay as the processor runs (no idle partitions), with its memories */
  async function replayed(keep: (e: TerminalEvent) => boolean) {
    const chunks: string[] = [];
    const memories: StageMemory[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        cb();
      },
    });
    const text = lines.filter((_, i) => keep(events[i]!)).join('\n') + '\n';
    await replay(Readable.from([text]), out, {
      idleAfterMs: Number.POSITIVE_INFINITY,
      memory: (m) => memories.push(m),
    });
    const alerts = chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Alert);
    return { alerts, memories };
  }
  /** what the events stages' rules learnt of each terminal at `at`: profile and days seen */
  const profiles = (ms: readonly StageMemory[], at: number) =>
    Object.fromEntries(
      ms
        .filter((m) => m.stage === 'events' && m.at === at)
        .flatMap((m) => (m.memory as RulesMemory).terminals)
        .map((t) => [t.id, [t.profile, t.profileDays]]),
    );

  it('learns Monday from events_raw: Tuesday is judged on its profiles, as an uninterrupted run', async () => {
    const whole = await replayed(() => true);
    const blind = await replayed((e) => e.ts >= live);
    const bundle = await bundleProcessor();
    const alive = () => {
      for (const c of children) if (c.exited) throw new Error(`a processor exited; see ${logFile}`);
    };
    children.push(await spawnProcessor(bundle, vars, logFile));
    await waitProcessed(suite, { timeoutMs: 600_000, alive });

    const warm = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('rules warm-up from stored events'))
      .map(
        (l) => JSON.parse(l) as { partition: number; events: number; ms: number; memoryAt: string },
      );
    console.log(`warm-up: ${JSON.stringify(warm)}`);
    expect(warm.map((w) => w.partition).sort()).toEqual([...Array(PARTITIONS).keys()]);
    expect(warm.reduce((n, w) => n + w.events, 0)).toBe(history.length);
    expect(new Set(warm.map((w) => w.memoryAt))).toEqual(new Set([new Date(live).toISOString()]));

    // the processor's rules memory at 06:00 on Tuesday: replay's over both days, not the blind one's
    const at = live + 6 * H;
    const res = await ch.query({
      query: `SELECT body FROM ${db}.${TABLES.rulesMemory} WHERE stage = 'events' AND at_ms = ${at}`,
      format: 'JSONEachRow',
    });
    const stored = ((await res.json()) as { body: string }[]).map(
      (r) => JSON.parse(r.body) as StageMemory,
    );
    expect(stored.length).toBe(PARTITIONS);
    const got = profiles(stored, at);
    expect(Object.keys(got).length).toBeGreaterThan(100);
    expect(got).toEqual(profiles(whole.memories, at));
    expect(got).not.toEqual(profiles(blind.memories, at));
    // the warm-up's memory was kept when it was made, as the record before the first one took
    // it: a recovery before the stage took a memory of its own (a rebalance) restores it
    const kept = await ch.query({
      query: `SELECT partition, body FROM ${db}.${TABLES.rulesMemory}
        WHERE stage = 'events' AND at_ms = ${live} AND source_offset = -1 ORDER BY partition`,
      format: 'JSONEachRow',
    });
    const keptRows = (await kept.json()) as { partition: number; body: string }[];
    expect(keptRows.map((r) => r.partition)).toEqual([...Array(PARTITIONS).keys()]);
    for (const r of keptRows) {
      const m = JSON.parse(r.body) as StageMemory;
      expect((m.memory as RulesMemory).episodes.open).toEqual([]);
      expect((m.memory as RulesMemory).terminals.length).toBeGreaterThan(10);
    }

    // Tuesday's alerts: the terminals' as the uninterrupted replay's; the blind replay's differ
    const alerts = await readAlerts(kafka, topics.TOPIC_ALERTS);
    const terminal = (as: Alert[]) =>
      as
        .filter((a) => a.scope === 'terminal' && Date.parse(a.ts) >= live)
        .map((a) => JSON.stringify(a))
        .sort();
    console.log(
      `Tuesday's terminal alerts: processor ${terminal(alerts).length}, uninterrupted replay ${terminal(whole.alerts).length}, blind replay ${terminal(blind.alerts).length}`,
    );
    const silent = (as: Alert[]) =>
      as.find(
        (a) =>
          a.rule === 'terminal_silent' && a.status === 'firing' && Date.parse(a.ts) > live + 13 * H,
      );
    expect(silent(alerts)?.evidence.basis).toBe('calendar_profile');
    expect(terminal(alerts)).toEqual(terminal(whole.alerts));
    expect(terminal(blind.alerts)).not.toEqual(terminal(whole.alerts));
  }, 1_200_000);
});
