import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from './client';
import { DAY_PARTITIONED_TABLES } from './retention';
import { toClickHouseDateTime } from './migrate';
import {
  parseRetentionPolicy,
  startRetention,
  type RetentionPass,
  type RetentionTable,
} from './retention-schedule';
import {
  actionToRow,
  alertToRow,
  deadLetterToRow,
  eventToRow,
  rateToRow,
  rulesMemoryToRow,
} from './rows';
import { TABLES } from './schema';
import { sql } from './sql';
import { alert, authEvent, freshDatabase, rate } from './test-fixtures';

// Real server: CLICKHOUSE_URL from with-services / global-setup-clickhouse.ts (18.16 here).
const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run through vitest.int.config.ts');

const DAY = 86_400_000;
// Noon UTC: whole-day offsets land on the same calendar day in the server's zone too (the
// webhook tables partition by toDateTime without a zone).
const NOW = Date.UTC(2026, 6, 20, 12);
const AGES = [200, 40, 20, 14, 10, 1, 0];

const dayId = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');

/** One row per table at `ts`, through the package's own row mappers where there is one. */
function rowsAt(ts: number, i: number): Record<RetentionTable, object> {
  return {
    [TABLES.events]: eventToRow(authEvent(i, ts)),
    [TABLES.rates]: rateToRow(rate(`T-${i}`, ts, 10, 1), 1),
    [TABLES.panes]: {
      scope: 'terminal',
      key: `T-${i}`,
      pane_ms: ts,
      ts: toClickHouseDateTime(ts),
      auths: 10,
      approved: 9,
      written_ms: 1,
    },
    [TABLES.alerts]: alertToRow(alert(`a-${i}`, 'firing', ts)),
    [TABLES.alertActions]: actionToRow({
      actionId: `act-${i}`,
      alertId: `a-${i}`,
      kind: 'ack',
      actor: 'ana',
      ts,
    }),
    [TABLES.deadLetters]: deadLetterToRow({
      sourceTopic: 'pos.events',
      sourcePartition: 0,
      sourceOffset: i,
      reason: 'bad',
      raw: Buffer.from('x'),
      ts,
    }),
    [TABLES.webhookDeliveries]: {
      id: `d-${i}`,
      merchantId: 'M-1',
      subscriptionId: 's-1',
      status: 'pending',
      seq: i,
      createdAt: ts,
      nextAttemptAt: ts,
      doc: '{}',
      version: 1,
    },
    [TABLES.rulesMemory]: rulesMemoryToRow({
      stage: 'events',
      partition: i,
      partitions: 4,
      at: ts,
      body: '{}',
    }),
    [TABLES.webhookAttempts]: {
      deliveryId: `d-${i}`,
      merchantId: 'M-1',
      attempt: 1,
      startedAt: ts,
      doc: '{}',
    },
  };
}

async function insertAt(ch: ClickHouse, ts: number, i: number, only?: RetentionTable[]) {
  const rows = rowsAt(ts, i);
  for (const table of only ?? DAY_PARTITIONED_TABLES) await ch.insert(table, [rows[table]]);
}

async function activePartitions(ch: ClickHouse): Promise<Record<string, string[]>> {
  const parts = await ch.query<{ table: string; partition: string }>(
    sql`SELECT DISTINCT table, partition FROM system.parts
        WHERE database = currentDatabase() AND active
        ORDER BY table, partition`,
  );
  const out: Record<string, string[]> = {};
  for (const { table, partition } of parts) (out[table] ??= []).push(partition);
  return out;
}

/** Partitions of AGES that a retention of `days` keeps (age <= days), as YYYYMMDD. */
const kept = (days: number | undefined, ages = AGES) =>
  ages
    .filter((a) => days === undefined || a <= days)
    .map((a) => dayId(NOW - a * DAY))
    .sort();

/** Resolves with the passes seen so far once `n` have finished. */
function passes() {
  const seen: RetentionPass[] = [];
  let waiters: (() => void)[] = [];
  return {
    seen,
    onPass(p: RetentionPass) {
      seen.push(p);
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    },
    async until(n: number) {
      while (seen.length < n) await new Promise<void>((r) => waiters.push(r));
      return seen;
    },
  };
}

describe('startRetention (scheduled partition drops)', () => {
  let ch: ClickHouse;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ ch, drop } = await freshDatabase(url));
  });
  afterAll(() => drop?.());

  it('drops old day partitions of every table at start and again each interval, keeps recent ones', async () => {
    for (const [i, age] of AGES.entries()) await insertAt(ch, NOW - age * DAY, i);
    const before = await activePartitions(ch);
    for (const table of DAY_PARTITIONED_TABLES) expect(before[table]).toEqual(kept(undefined));

    const policy = parseRetentionPolicy(
      'events_raw=30d,window_stats=14d,dead_letters=5d,notifier_deliveries=8d,notifier_attempts=8d',
    );
    let clock = NOW;
    const p = passes();
    const stop = startRetention(ch, { policy, everyMs: 100, now: () => clock, onPass: p.onPass });
    try {
      // The pass at start.
      const [first] = await p.until(1);
      expect(first!.failed).toEqual({});
      const after = await activePartitions(ch);
      for (const table of DAY_PARTITIONED_TABLES) {
        expect(after[table], table).toEqual(kept(policy[table]));
        expect([...(first!.dropped[table] ?? [])].sort(), table).toEqual(
          kept(undefined).filter((d) => !kept(policy[table]).includes(d)),
        );
      }
      // alerts and alert_actions: 180 days by default, so only the 200-day-old row went.
      expect(after[TABLES.alerts]).not.toContain(dayId(NOW - 200 * DAY));
      expect(after[TABLES.alerts]).toContain(dayId(NOW - 40 * DAY));

      // Later passes: a day on, the 14-day-old stats partition is past 14 days; and a row that
      // arrives late into an old day (a replayed event) goes on the next pass, not at restart.
      await insertAt(ch, NOW - 50 * DAY, 100, [TABLES.events]);
      clock = NOW + DAY;
      const n = p.seen.length;
      await p.until(n + 2); // one pass may have started before the clock moved
      const later = await activePartitions(ch);
      expect(later[TABLES.events]).toEqual(kept(29));
      expect(later[TABLES.rates]).toEqual(kept(13));
      expect(later[TABLES.events]).not.toContain(dayId(NOW - 50 * DAY));
    } finally {
      await stop();
    }
    // Stopped: no pass runs any more.
    const n = p.seen.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(p.seen.length).toBe(n);
  });

  it('a table that fails is logged and retried; the others still run and nothing throws', async () => {
    await insertAt(ch, NOW - 60 * DAY, 200, [TABLES.events, TABLES.deadLetters]);
    let failing = true;
    // The same server, except that listing dead_letters' parts fails while `failing`.
    const flaky: ClickHouse = {
      ...ch,
      query: <T>(q: Parameters<ClickHouse['query']>[0]) =>
        failing && q.text.includes(`'${TABLES.deadLetters}'`)
          ? Promise.reject(new Error('server gone'))
          : ch.query<T>(q),
    };
    const warnings: unknown[] = [];
    const logger = {
      info: () => {},
      debug: () => {},
      warn: (o: unknown) => warnings.push(o),
    } as unknown as Parameters<typeof startRetention>[1]['logger'];
    const p = passes();
    const stop = startRetention(flaky, {
      policy: { [TABLES.events]: 30, [TABLES.deadLetters]: 30 },
      everyMs: 50,
      now: () => NOW,
      logger,
      onPass: p.onPass,
    });
    try {
      const [first] = await p.until(1);
      expect(Object.keys(first!.failed)).toEqual([TABLES.deadLetters]);
      expect(first!.dropped[TABLES.events]).toEqual([dayId(NOW - 60 * DAY)]);
      expect(warnings).toEqual([
        expect.objectContaining({ table: TABLES.deadLetters, err: expect.stringMatching(/gone/) }),
      ]);
      expect((await activePartitions(ch))[TABLES.deadLetters]).toContain(dayId(NOW - 60 * DAY));
      failing = false;
      const seen = await p.until(p.seen.length + 1);
      expect(seen.at(-1)!.failed).toEqual({});
      expect((await activePartitions(ch))[TABLES.deadLetters]).not.toContain(dayId(NOW - 60 * DAY));
    } finally {
      await stop();
    }
  });
});
