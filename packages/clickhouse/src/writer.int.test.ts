import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickHouse, type LocalClickHouse } from '../../../deploy/local/clickhouse/start.mjs';
import type { ClickHouse } from './client';
import { eventToRow } from './rows';
import { TABLES } from './schema';
import { ident, sql } from './sql';
import { tableWriter, type PressureState } from './writer';
import { authEvent, freshDatabase } from './test-fixtures';

// This test takes the server away, so it runs its own private one (deploy/local, ~0.3 s to
// start) whatever CLICKHOUSE_URL points at: stopping a shared server would break other suites.
let server: LocalClickHouse;
let ch: ClickHouse;
beforeAll(async () => {
  server = await startClickHouse();
  ({ ch } = await freshDatabase(server.url));
});
afterAll(async () => {
  await ch?.close();
  await server?.stop();
});

const T0 = Date.UTC(2026, 0, 10, 12);

describe('BatchWriter against a server that goes away', () => {
  it('holds rows while ClickHouse is down, writes them once it is back, each exactly once', async () => {
    const states: PressureState[] = [];
    const writer = tableWriter(ch, TABLES.events, eventToRow, {
      maxRows: 100,
      maxDelayMs: 20,
      minRetryMs: 100,
      maxRetryMs: 500,
    });
    writer.onPressure((s) => states.push(s));
    const batch = (from: number) =>
      Array.from({ length: 250 }, (_, i) => authEvent(from + i, T0 + (from + i) * 10));

    await writer.add(batch(0)); // durable before the outage

    await server.kill(); // SIGKILL: as a crash would
    let durable = false;
    const during = Promise.all([writer.add(batch(250)), writer.add(batch(500))]).then(
      () => (durable = true),
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(durable).toBe(false); // nothing claims durability while the server is gone
    expect(writer.state).toBe('failing');

    await server.restart();
    await during;
    expect(durable).toBe(true);
    expect(states).toEqual(['failing', 'ok']);

    const [r] = await ch.query<{ n: number; ids: number }>(
      sql`SELECT count() AS n, uniqExact(event_id) AS ids FROM ${ident(TABLES.events)} FINAL`,
    );
    expect(r).toEqual({ n: 750, ids: 750 });
  });
});
