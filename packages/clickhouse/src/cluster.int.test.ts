import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '@tillwatch/testkit/cluster';
import { createClickHouse, ensureDatabase, type ClickHouse } from './client';
import { migrate } from './migrate';
import { PANE_COUNTERS } from './pane-counts';
import { MIGRATIONS, TABLES } from './schema';
import { eventToRow } from './rows';
import { paneToRow } from './pane-rows';
import { queryTopRates } from './queries';
import { dropPartitionsOlderThan } from './retention';
import { ident, sql } from './sql';
import { authEvent } from './test-fixtures';

/**
 * The cluster layout on a real cluster: ZooKeeper and two ClickHouse 18.16 servers, the two
 * replicas of one shard (deploy/local; packages/testkit/src/cluster.ts). The migrations create
 * replicated tables under Distributed ones from the same description as the single-server
 * layout; a batch written twice is stored once; retention drops a day on both. (A replica
 * killed under the pipeline: test/e2e/pipeline/cluster.int.test.ts.)
 */
describe('ClickHouse cluster layout (1 shard x 2 replicas, ZooKeeper)', () => {
  let cluster: TestCluster;
  let a: ClickHouse;
  let b: ClickHouse;
  const database = `tw_cl_${randomUUID().replaceAll('-', '').slice(0, 10)}`;

  beforeAll(async () => {
    cluster = await startTestCluster({ log: (m) => process.stderr.write(`[cluster] ${m}\n`) });
    const [ua, ub] = cluster.urls(database);
    await ensureDatabase({ url: ua! }, database);
    a = createClickHouse({ url: ua! });
    b = createClickHouse({ url: ub! });
  }, 240_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cluster?.stop();
  }, 60_000);

  const count = async (ch: ClickHouse, table: string, final = true) =>
    Number(
      (
        await ch.query<{ n: number }>(
          sql`SELECT count() AS n FROM ${ident(table)}${final ? sql` FINAL` : sql``}`,
        )
      )[0]!.n,
    );
  /** Replication is asynchronous: a replica converges within moments, so read it until it has. */
  const eventually = async <T>(read: () => Promise<T>, want: T, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let got = await read();
    while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      got = await read();
    }
    return got;
  };
  const engines = async (ch: ClickHouse) =>
    Object.fromEntries(
      (
        await ch.query<{ name: string; engine: string }>(
          sql`SELECT name, engine FROM system.tables WHERE database = ${database}`,
        )
      ).map((r) => [r.name, r.engine]),
    );

  it('migrates both servers from one description: replicated tables under Distributed ones', async () => {
    expect(a.cluster).toBe('tillwatch');
    const first = await migrate(a);
    expect(first.applied).toEqual(MIGRATIONS.map((m) => m.id));
    // the bookkeeping is replicated too: the other server has nothing left to do
    const second = await migrate(b);
    expect(second.applied).toEqual([]);
    for (const ch of [a, b]) {
      const e = await engines(ch);
      for (const t of [TABLES.events, TABLES.panes, TABLES.alerts, TABLES.rulesMemory]) {
        expect(e[t], `${t} on ${ch.url}`).toBe('Distributed');
        expect(e[`${t}_local`]).toMatch(/^Replicated\w*MergeTree$/);
      }
    }
    // a column added by a later migration is on the Distributed table as well
    const cols = await b.query<{ name: string }>(
      sql`SELECT name FROM system.columns WHERE database = ${database} AND table = ${TABLES.rulesMemory}`,
    );
    expect(cols.map((c) => c.name)).toContain('source_offset');
  }, 180_000);

  it('stores a batch written twice once, on both replicas', async () => {
    const t0 = Date.UTC(2026, 2, 2, 2, 0, 0);
    const rows = Array.from({ length: 500 }, (_, i) => eventToRow(authEvent(i, t0 + i * 1000)));
    await a.insert(TABLES.events, rows);
    await a.insert(TABLES.events, rows); // the retried batch: the same block
    await b.insert(TABLES.events, rows.slice(0, 100)); // re-batched through the other server
    expect(await count(a, TABLES.events)).toBe(500);
    expect(await eventually(() => count(b, `${TABLES.events}_local`), 500)).toBe(500);
    expect(await count(b, TABLES.events)).toBe(500);
    // identical blocks are dropped by the replicated table itself, not only at merge time
    expect(await count(a, `${TABLES.events}_local`, false)).toBeLessThanOrEqual(600);
    const panes = Array.from({ length: 50 }, (_, i) =>
      paneToRow({
        scope: 'terminal',
        key: `T-${i}`,
        merchantId: 'M-0',
        paneMs: t0,
        counts: { auths: 10 + i, approved: 10, cat_issuer: i },
        writtenMs: 1,
      }),
    );
    await a.insert(TABLES.panes, panes);
    const top = () =>
      queryTopRates(b, { scope: 'terminal', window: '5m', limit: 5 }, t0 + 60_000).then((rs) =>
        rs.map((r) => r.key),
      );
    const want = ['T-49', 'T-48', 'T-47', 'T-46', 'T-45'];
    expect(await eventually(top, want)).toEqual(want);
  }, 60_000);

  it('a pane tick row written on one server is unfolded into pane rows both replicas hold', async () => {
    // what the processor writes: one wide row per stage and pane into the Null table, whose
    // view on the server written to inserts the pane rows into the Distributed table
    const pane = Date.UTC(2026, 2, 2, 10, 0, 0);
    const counters = PANE_COUNTERS.map(([c]) => c);
    await a.insert(TABLES.paneTicks, [
      {
        pane_ms: pane,
        written_ms: 7,
        scope: ['terminal', 'merchant'],
        key: ['T-ticks', 'M-ticks'],
        merchant_id: ['M-ticks', 'M-ticks'],
        region: ['CN-31', ''],
        ...Object.fromEntries(counters.map((c, i) => [c, [i + 1, 2 * (i + 1)]])),
      },
    ]);
    const read = (ch: ClickHouse) =>
      ch
        .query<{ scope: string; key: string; auths: number; heartbeats: number; region: string }>(
          sql`SELECT scope, key, auths, heartbeats, region FROM ${ident(`${TABLES.panes}_local`)}
              WHERE pane_ms = ${pane} ORDER BY scope`,
        )
        .then((rs) => rs.map((r) => `${r.scope} ${r.key} ${r.auths} ${r.heartbeats} ${r.region}`));
    const want = [
      `merchant M-ticks 2 ${2 * counters.length} `,
      `terminal T-ticks 1 ${counters.length} CN-31`,
    ];
    expect(await eventually(() => read(a), want)).toEqual(want);
    expect(await eventually(() => read(b), want)).toEqual(want);
  }, 60_000);

  it('retention drops a day on both replicas', async () => {
    const now = Date.UTC(2026, 2, 11); // 7 days: 2 March is older
    const dropped = await dropPartitionsOlderThan(a, TABLES.events, 7, now);
    expect(dropped).toEqual(['20260302']);
    expect(await eventually(() => count(b, `${TABLES.events}_local`), 0)).toBe(0);
    expect(await count(a, TABLES.events)).toBe(0);
  }, 60_000);
});
