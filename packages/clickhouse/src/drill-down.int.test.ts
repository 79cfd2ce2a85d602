import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from './client';
import { queryDrillDown, summarizeDrillDown } from './queries';
import { eventToRow, type EventInput } from './rows';
import { TABLES } from './schema';
import { ident, sql, type SqlFragment } from './sql';
import { authEvent, freshDatabase } from './test-fixtures';

/**
 * queryDrillDown reads FINAL only from the `limit`-th event on (a probe without FINAL finds its
 * time), and the whole range when duplicates leave that narrower range short: the answers are
 * those of FINAL over the whole range, whichever path gave them.
 */
const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run through vitest.int.config.ts');

let ch: ClickHouse;
let drop: () => Promise<void>;
/** the SQL of every query since the last reset */
let seen: string[] = [];
let counted: ClickHouse;

const T0 = Date.UTC(2026, 2, 1, 22, 0, 0);
const N = 500;
// 500 events of T-D over ~3.5 days (several day partitions), two at each time: ties at the edge
const events: EventInput[] = Array.from({ length: N }, (_, i) =>
  authEvent(i, T0 + Math.floor(i / 2) * 1_200_000, { terminalId: 'T-D', eventId: `d-${i}` }),
);
const range = { terminalId: 'T-D', from: T0 - 60_000, to: T0 + 4 * 86_400_000 };

/** what FINAL over the whole range returns: ts_ms then event_id, one row per event */
function expected(order: 'asc' | 'desc', limit: number, from = range.from, to = range.to) {
  const ids = events
    .map((e) => e.event)
    .filter((e) => e.ts >= from && e.ts <= to)
    .sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : 1))
    .map((e) => e.eventId);
  return (order === 'asc' ? ids : ids.reverse()).slice(0, limit);
}

beforeAll(async () => {
  ({ ch, drop } = await freshDatabase(url));
  counted = {
    ...ch,
    query: <T>(q: SqlFragment) => {
      seen.push(q.text);
      return ch.query<T>(q);
    },
  };
  // duplicates must stay duplicates while the tests look
  await ch.command(sql`SYSTEM STOP MERGES ${ident(TABLES.events)}`);
  await ch.insert(
    TABLES.events,
    events.map((e) => eventToRow(e)),
  );
});
afterAll(async () => {
  await ch?.command(sql`SYSTEM START MERGES ${ident(TABLES.events)}`);
  await drop?.();
});

const finals = () => seen.filter((s) => / FINAL /.test(s)).length;

describe('drill-down: the newest or oldest `limit` events of a range', () => {
  it('narrows FINAL to the range from the limit-th event on, ties at that time included', async () => {
    for (const order of ['desc', 'asc'] as const) {
      for (const limit of [1, 199, 200, 201]) {
        seen = [];
        const got = await queryDrillDown(counted, { ...range, order, limit });
        expect(got.map((e) => e.eventId)).toEqual(expected(order, limit));
        // the probe, then one FINAL over the narrowed range
        expect(finals()).toBe(1);
        const bound = order === 'desc' ? /ts_ms >= (\d+)/ : /ts_ms <= (\d+)/;
        const final = seen.find((s) => / FINAL /.test(s))!;
        const edge = Number(bound.exec(final)?.[1]);
        expect(edge).not.toBe(order === 'desc' ? range.from : range.to);
      }
    }
  });

  it('a range with fewer events than the limit: all of them', async () => {
    const from = T0 + 86_400_000;
    const to = from + 6 * 3_600_000;
    const got = await queryDrillDown(ch, { ...range, from, to, order: 'desc', limit: 200 });
    expect(got.map((e) => e.eventId)).toEqual(expected('desc', 200, from, to));
    expect(got).toHaveLength(38); // 19 times in 6 h, both ends included, two events each
  });

  it('duplicates among the newest events: the whole range, each event once', async () => {
    // the newest 100 written again (a redelivery): the probe's 200th row is now far too new
    await ch.insert(
      TABLES.events,
      events.slice(-100).map((e) => eventToRow(e)),
    );
    seen = [];
    const got = await queryDrillDown(counted, { ...range, order: 'desc', limit: 200 });
    expect(got.map((e) => e.eventId)).toEqual(expected('desc', 200));
    expect(finals()).toBe(2);
    // the oldest are not duplicated: narrowed, one FINAL
    seen = [];
    const old = await queryDrillDown(counted, { ...range, order: 'asc', limit: 200 });
    expect(old.map((e) => e.eventId)).toEqual(expected('asc', 200));
    expect(finals()).toBe(1);

    // the summary counts each event once, as FINAL did
    const s = await summarizeDrillDown(ch, range);
    expect(s.total).toBe(N);
    expect(s.byCode).toEqual({ '00': N - N / 4, '91': N / 4 });
    expect(s.from).toBe(T0);
    expect(s.to).toBe(events[N - 1]!.event.ts);
    const [stored] = await ch.query<{ n: number }>(
      sql`SELECT count() AS n FROM ${ident(TABLES.events)} WHERE terminal_id = 'T-D'`,
    );
    expect(stored?.n).toBe(N + 100);
  });
});
