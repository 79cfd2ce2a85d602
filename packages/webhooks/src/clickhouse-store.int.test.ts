import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES, createClickHouse, ident, sql } from '@tillwatch/clickhouse';
import { ClickHouseWebhookStore } from './clickhouse-store';
import { BASE, behaves, nd, sub } from './store-contract';

const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run through vitest.int.config.ts');
// A database of its own per run (the server may be shared with other suites); open() creates
// it and applies @tillwatch/clickhouse's migrations in it.
const database = `tw_it_wh_${process.pid}`;
let store: ClickHouseWebhookStore;

beforeAll(async () => {
  store = await ClickHouseWebhookStore.open({ clickhouse: { url, database } });
});
afterAll(async () => {
  await store.close();
  const admin = createClickHouse({ url, database: 'default' });
  await admin.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  await admin.close();
});

describe('ClickHouseWebhookStore (real ClickHouse)', () => {
  it('meets the store contract', async () => {
    await behaves(store);
  });

  it('is shared across instances (gateway and notifier processes) and survives reopening', async () => {
    const other = await ClickHouseWebhookStore.open({ clickhouse: { url, database } });
    expect((await other.getSubscription(sub.id))?.language).toBe('zh');
    expect((await other.listDeliveries({})).map((d) => [d.id, d.status])).toEqual([
      ['d1', 'delivered'],
      ['d2', 'pending'],
      ['d3', 'cancelled'],
    ]);
    expect(await other.listAttempts('d1')).toHaveLength(1);
    // the same delivery id enqueued from the other instance is a no-op
    expect(await other.enqueue([nd('d2', 'A')])).toEqual([]);
    const d2 = (await other.getDelivery('d2'))!;
    await other.updateDeliveries([{ ...d2, status: 'dead', nextAttemptAt: undefined }]);
    expect((await store.getDelivery('d2'))?.status).toBe('dead');
    expect(await store.due(BASE + 60_000, 10)).toEqual([]);
    await other.close();
  });

  it('keeps its rows in the tables the migrations own', async () => {
    const ch = createClickHouse({ url, database });
    try {
      const applied = await ch.query<{ id: number }>(
        sql`SELECT id FROM ${ident(TABLES.migrations)} FINAL ORDER BY id`,
      );
      expect(applied.map((r) => Number(r.id))).toContain(3);
      const n = await ch.query<{ n: string }>(
        sql`SELECT count() AS n FROM ${ident(TABLES.webhookAttempts)} WHERE deliveryId = 'd1'`,
      );
      expect(Number(n[0]?.n)).toBeGreaterThan(0);
    } finally {
      await ch.close();
    }
  });

  it('escapes hostile values instead of running them', async () => {
    const evil = "x' OR 1=1 --\\";
    expect(await store.listDeliveries({ merchantId: evil })).toEqual([]);
    expect(await store.getSubscription(evil)).toBeUndefined();
    await store.putSubscription({ ...sub, id: evil, merchantId: evil });
    expect((await store.getSubscription(evil))?.merchantId).toBe(evil);
  });
});
