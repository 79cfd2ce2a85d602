import { afterEach, describe, expect, it } from 'vitest';
import { TwClickHouseError, type SqlFragment } from '@tillwatch/clickhouse';
import type { KafkaMessage } from '@tillwatch/kafka';
import { TRADING_MONDAY, tradingDays } from '@tillwatch/simulator';
import { partitionerFor, type StageMemory } from '@tillwatch/stream';
import { loadProcessorConfig } from './config';
import type { ProcessorContext } from './context';
import { createMetrics } from './metrics';
import { PartitionStages } from './partition-stages';
import { Recovery } from './recovery';
import { createStore, type Store } from './store';
import { warmUp } from './warmup';

const H = 3_600_000;
const PARTITIONS = 4;
const PARTITION = 0;
/** where the group resumes: 3 h of stored history before it */
const T = TRADING_MONDAY + 3 * H;
const C = 500;

/** What the client throws for a pooled socket the server closed (wrap() over Node's error). */
function socketHangUp(): TwClickHouseError {
  const cause = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  return new TwClickHouseError('TW_CH_INSERT', 'ClickHouse insert failed: socket hang up', true, {
    cause,
  });
}

/** Partition 0's stored events of the 3 h before T, as events_raw rows in (ts_ms, offset) order. */
function storedEvents() {
  const route = partitionerFor(PARTITIONS);
  const rows: { raw: string; ts_ms: string; kafka_offset: string }[] = [];
  for (const e of tradingDays(3).events()) {
    const ev = e as { merchantId: string; ts: number };
    if (route(ev.merchantId) !== PARTITION || ev.ts >= T) continue;
    rows.push({ raw: JSON.stringify(e), ts_ms: String(ev.ts), kafka_offset: String(rows.length) });
  }
  return rows.sort((a, b) => Number(a.ts_ms) - Number(b.ts_ms));
}

/**
 * A ClickHouse double behind a real store (createStore: its write and retry are what is under
 * test): events_raw holds partition 0's history, rules_memory what was inserted; the first
 * `failInserts` inserts reject as a stale keep-alive socket does.
 */
function setup(failInserts: number) {
  const store: Store = createStore({ url: 'http://127.0.0.1:9/tw_unit' });
  const events = storedEvents();
  const memories: Record<string, unknown>[] = [];
  let inserts = 0;
  Object.assign(store.ch, {
    insert: async (table: string, rows: readonly object[]) => {
      if (!rows.length) return;
      inserts++;
      if (inserts <= failInserts) throw socketHangUp();
      expect(table).toBe(store.tables.rulesMemory);
      memories.push(...(rows as Record<string, unknown>[]));
    },
    query: async (q: SqlFragment) => {
      const text = q.text;
      const p = Number(/partition = (\d+)/.exec(text)?.[1] ?? -1);
      const mine = memories.filter((m) => m.partition === p);
      if (text.includes('SELECT body')) {
        // loadMemory: the latest memory before C
        return mine
          .filter((m) => Number(m.source_offset) < C)
          .map((m) => ({ body: m.body }))
          .slice(-1);
      }
      if (text.includes('count() AS n')) return [{ n: mine.length, at: 0, off: -1, minOff: -1 }];
      if (text.includes('SELECT raw, ts_ms, kafka_offset')) {
        // one page: the warm-up's keyset query, first page only (fewer rows than its PAGE)
        return text.includes('kafka_offset > 9007199254740991') ? events : [];
      }
      if (text.includes('SELECT raw FROM')) return []; // primeSettlements
      throw new Error(`unexpected query: ${text}`);
    },
  });
  const log = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };
  const ctx = {
    cfg: loadProcessorConfig({
      KAFKA_BROKERS: 'k:9092',
      CLICKHOUSE_URL: 'http://127.0.0.1:9/tw_unit',
      RULES_WARMUP: '3h',
    }),
    log,
    metrics: createMetrics(),
    store,
    sourcePartitions: PARTITIONS,
    rollupPartitions: PARTITIONS,
    admin: {
      fetchTopicOffsetsByTimestamp: async () => [{ partition: PARTITION, offset: '0' }],
    },
    stopping: false,
  } as unknown as ProcessorContext;
  const stages = new PartitionStages(ctx);
  return { ctx, stages, store, memories, events, inserts: () => inserts };
}

const first = { offset: String(C), timestamp: String(T) } as KafkaMessage;

describe('warm-up: its rules memory is written through the store, retry included', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('a stale keep-alive socket on the first insert: redone, the memory row is written', async () => {
    const s = setup(1);
    store = s.store;
    expect(s.events.length).toBeGreaterThan(100);
    const m = await warmUp(s.ctx, s.stages, 'events', PARTITION, T, C);
    expect(m).toBeDefined();
    expect(s.inserts()).toBe(2);
    expect(s.memories).toHaveLength(1);
    const row = s.memories[0]!;
    expect(row).toMatchObject({
      stage: 'events',
      partition: PARTITION,
      partitions: PARTITIONS,
      at_ms: m!.at,
      source_offset: C - 1,
    });
    expect((JSON.parse(row.body as string) as StageMemory).at).toBe(m!.at);
    expect(m!.at).toBeLessThanOrEqual(T);
  });

  it('a recovery whose warm-up write failed warms up again when retried after another partition committed', async () => {
    // both attempts fail (the store's one redo included): the recovery throws
    const s = setup(2);
    store = s.store;
    const recovery = new Recovery(s.ctx, s.stages);
    await expect(recovery.recover(s.ctx.cfg.TOPIC_EVENTS, PARTITION, first)).rejects.toThrow(
      /socket hang up/,
    );
    expect(s.memories).toHaveLength(0);
    recovery.started = true; // another partition's batch committed meanwhile
    const st = await recovery.recover(s.ctx.cfg.TOPIC_EVENTS, PARTITION, first);
    expect(st.memory).toBeDefined();
    expect(s.memories).toHaveLength(1);
    // a partition that first recovers after the first commit still does not warm up
    const other = await recovery.recover(s.ctx.cfg.TOPIC_EVENTS, PARTITION + 1, first);
    expect(other.memory).toBeUndefined();
    expect(s.memories).toHaveLength(1);
  });
});
