import { randomUUID } from 'node:crypto';
import {
  TABLES,
  createClickHouse,
  ensureDatabase,
  eventToRow,
  ident,
  migrate,
  sql,
  type ClickHouse,
} from '@tillwatch/clickhouse';
import { afterAll, beforeAll } from 'vitest';
import { ClickHouseStore } from './clickhouse-store';
import { alertLedgerContract } from './store-contract';

/**
 * The alert-ledger contract (store-contract.ts) against ClickHouseStore on a real ClickHouse
 * (18.16 here): the same cases MemoryStore passes in memory-store.test.ts. One private
 * database for the file; the contract keeps its ids unique per case.
 */
const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL not set: use test:int');

const database = `tw_gw_ledger_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
let ch: ClickHouse;

beforeAll(async () => {
  await ensureDatabase({ url }, database);
  ch = createClickHouse({ url, database });
  await migrate(ch);
});

afterAll(async () => {
  await ch?.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  await ch?.close();
});

alertLedgerContract('ClickHouseStore', async ({ now, maxAuditPerAlert }) => {
  const store = await ClickHouseStore.open({
    ch,
    now,
    ratesPollMs: 0,
    silencesRefreshMs: 0,
    ...(maxAuditPerAlert ? { maxAuditPerAlert } : {}),
  });
  return {
    store,
    pushAlert: async (a) => {
      const r = await store.ingestAlerts([a]);
      if (r.accepted !== 1) throw new Error(`alert ${a.alertId} rejected`);
    },
    pushEvents: (events) =>
      ch.insert(
        TABLES.events,
        events.map((event, offset) =>
          eventToRow({ event, raw: JSON.stringify(event), partition: 0, offset }),
        ),
      ),
    close: () => store.close(),
  };
});
