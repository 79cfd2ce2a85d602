import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES, createClickHouse, ident, sql } from '@tillwatch/clickhouse';
import { ClickHouseWebhookStore } from './clickhouse-store';
import { SecretKeyring, generateSecretKey } from './secret-box';
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

  it('seals secrets at rest with the configured key; rows in clear are read and resealed', async () => {
    const k1 = generateSecretKey();
    const keyed = await ClickHouseWebhookStore.open({
      clickhouse: { url, database },
      secretKeys: SecretKeyring.of(k1),
    });
    const ch = createClickHouse({ url, database });
    const rawDoc = async (id: string) =>
      (
        await ch.query<{ doc: string }>(
          sql`SELECT argMax(doc, version) AS doc FROM ${ident(TABLES.webhookSubscriptions)} WHERE id = ${id} GROUP BY id`,
        )
      )[0]?.doc ?? '';
    try {
      const secret = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
      const s = { ...sub, id: 'sub_sealed', secrets: [{ secret, createdAt: sub.createdAt }] };
      await keyed.putSubscription(s);
      expect(await rawDoc('sub_sealed')).not.toContain(secret);
      expect(await rawDoc('sub_sealed')).toMatch(/"secret":"v1:/);
      expect((await keyed.getSubscription('sub_sealed'))?.secrets[0]?.secret).toBe(secret);
      // a process without the key refuses, naming the variable
      await expect(store.getSubscription('sub_sealed')).rejects.toThrow(/WEBHOOK_SECRET_KEY/);
      // sub_1 was written in clear (the keyless store): read as is, then resealed
      expect(await rawDoc('sub_1')).toContain('whsec_');
      expect((await keyed.getSubscription('sub_1'))?.secrets[0]?.secret).toBe('whsec_x');
      expect(await keyed.resealSecrets()).toBeGreaterThanOrEqual(1);
      expect(await rawDoc('sub_1')).not.toContain('whsec_');
      expect((await keyed.getSubscription('sub_1'))?.secrets[0]?.secret).toBe('whsec_x');
      expect(await keyed.resealSecrets()).toBe(0);
      // back to clear for the other tests' keyless store
      await store.putSubscription((await keyed.getSubscription('sub_1'))!);
      await keyed.deleteSubscription('sub_sealed');
    } finally {
      await ch.close();
      await keyed.close();
    }
  });
});
