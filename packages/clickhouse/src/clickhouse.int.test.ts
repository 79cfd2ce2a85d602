import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from './client';
import { migrate } from './migrate';
import { MIGRATIONS, PANE_TICKS_VIEW, RETIRED_TABLES, TABLES } from './schema';
import { ident, raw, sql, type SqlValue } from './sql';
import {
  actionToRow,
  alertToRow,
  deadLetterToRow,
  eventToRow,
  type AlertActionInput,
  type DeadLetterInput,
} from './rows';
import {
  deleteSilences,
  insertAlertActions,
  listSilences,
  queryAlertActionsFor,
  queryRateChanges,
  queryRateFreshness,
  queryWindowRates,
  upsertSilences,
  queryAlertActions,
  queryAlerts,
  queryDrillDown,
  queryLatestRates,
  querySeries,
  queryTopRates,
  summarizeDrillDown,
} from './queries';
import { DAY_PARTITIONED_TABLES, dropPartitionsOlderThan } from './retention';
import { ensureDatabase, createClickHouse } from './client';
import { paneToRow, type PaneInput } from './pane-rows';
import { alert, authEvent, freshDatabase } from './test-fixtures';

// Real server: CLICKHOUSE_URL from with-services / global-setup-clickhouse.ts (18.16 here).
const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run through vitest.int.config.ts');

let ch: ClickHouse;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ ch, drop } = await freshDatabase(url));
});
afterAll(() => drop?.());

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);

describe('migrations', () => {
  it('apply once; a second run changes nothing', async () => {
    // freshDatabase() already ran them once.
    const again = await migrate(ch);
    expect(again).toEqual({ applied: [], alreadyApplied: MIGRATIONS.map((m) => m.id) });
    const tables = await ch.query<{ name: string }>(
      sql`SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name`,
    );
    // Migration 1's first webhook tables stay (retired, not dropped: see RETIRED_TABLES).
    // Migration 8's view (pane_ticks into pane_counts) is listed with the tables.
    expect(tables.map((t) => t.name)).toEqual(
      [...Object.values(TABLES), ...Object.values(RETIRED_TABLES), PANE_TICKS_VIEW].sort(),
    );
    const rows = await ch.query<{ n: number }>(
      sql`SELECT count() AS n FROM ${ident(TABLES.migrations)} FINAL`,
    );
    expect(rows[0]?.n).toBe(MIGRATIONS.length);
  });
});

describe('migration 3: the webhook store tables', () => {
  it('adopts the tables the store made itself before, keeping their rows', async () => {
    // A deployment from before migration 3: migrations 1-2 applied, and the notifier's tables
    // made by ClickHouseWebhookStore's own DDL of that time, with a subscription in them.
    const database = `tw_it_m3_${process.pid}`;
    await ensureDatabase({ url }, database);
    const old = createClickHouse({ url, database });
    try {
      expect(await migrate(old, MIGRATIONS.slice(0, 2))).toMatchObject({ applied: [1, 2] });
      const day = (col: string) => `toYYYYMMDD(toDateTime(intDiv(${col}, 1000)))`;
      for (const ddl of [
        `CREATE TABLE IF NOT EXISTS \`notifier_subscriptions\` (
          id String, merchantId String, deleted UInt8, doc String, version UInt64
        ) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
        `CREATE TABLE IF NOT EXISTS \`notifier_deliveries\` (
          id String, merchantId String, subscriptionId String, status String, seq UInt64,
          createdAt UInt64, nextAttemptAt UInt64, doc String, version UInt64
        ) ENGINE = ReplacingMergeTree(version) PARTITION BY ${day('createdAt')} ORDER BY id`,
        `CREATE TABLE IF NOT EXISTS \`notifier_attempts\` (
          deliveryId String, merchantId String, attempt UInt32, startedAt UInt64, doc String
        ) ENGINE = ReplacingMergeTree() PARTITION BY ${day('startedAt')} ORDER BY (deliveryId, attempt)`,
      ])
        await old.command(raw(ddl));
      await old.insert(TABLES.webhookSubscriptions, [
        { id: 's1', merchantId: 'M-1', deleted: 0, doc: '{"id":"s1"}', version: 1 },
      ]);
      const shape = () =>
        old.query<{ name: string; engine_full: string }>(
          sql`SELECT name, engine_full FROM system.tables
              WHERE database = currentDatabase() AND name LIKE 'notifier_%' ORDER BY name`,
        );
      const before = await shape();
      expect(before).toHaveLength(3);

      expect(await migrate(old, MIGRATIONS.slice(0, 3))).toEqual({
        applied: [3],
        alreadyApplied: [1, 2],
      });
      // Same engine, partition key and order (the migration's DDL is the store's), rows kept.
      expect(await shape()).toEqual(before);
      const subs = await old.query<{ id: string }>(
        sql`SELECT id FROM ${ident(TABLES.webhookSubscriptions)} FINAL`,
      );
      expect(subs.map((r) => r.id)).toEqual(['s1']);
      // ...and a fresh database gets the very same tables from migration 3 alone.
      const fresh = await ch.query<{ name: string; engine_full: string }>(
        sql`SELECT name, engine_full FROM system.tables
            WHERE database = currentDatabase() AND name LIKE 'notifier_%' ORDER BY name`,
      );
      expect(fresh).toEqual(before);
    } finally {
      await old.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
      await old.close();
    }
  });

  it('retention drops old day partitions of webhook deliveries and attempts', async () => {
    expect(DAY_PARTITIONED_TABLES).toEqual(
      expect.arrayContaining([TABLES.webhookDeliveries, TABLES.webhookAttempts]),
    );
    // Noon UTC: the same calendar day whatever the server's time zone (toDateTime has none).
    const now = Date.UTC(2026, 6, 20, 12);
    const day = 86_400_000;
    await ch.insert(
      TABLES.webhookAttempts,
      [20, 9, 1].map((d, i) => ({
        deliveryId: `d-${i}`,
        merchantId: 'M-1',
        attempt: 1,
        startedAt: now - d * day,
        doc: '{}',
      })),
    );
    expect(await dropPartitionsOlderThan(ch, TABLES.webhookAttempts, 8, now)).toEqual([
      '20260630',
      '20260711',
    ]);
    const left = await ch.query<{ deliveryId: string }>(
      sql`SELECT deliveryId FROM ${ident(TABLES.webhookAttempts)} ORDER BY deliveryId`,
    );
    expect(left.map((r) => r.deliveryId)).toEqual(['d-2']);
  });
});

describe('escaping', () => {
  const nasty = [
    "it's",
    "\\'; DROP TABLE alerts; --",
    'back\\slash\\\\double',
    'new\nline\r\ttab',
    'nul\u0000byte\u0001\u001f\u007f',
    '终端 ünïcödé ✓ 😀 \u200b',
    '"double" `back` $dollar {brace}',
    '\\x41 \\n not an escape',
    '',
  ];
  it.each(nasty.map((s) => [JSON.stringify(s), s]))('round-trips %s exactly', async (_l, s) => {
    const rows = await ch.query<{ s: string; n: number }>(sql`SELECT ${s} AS s, length(${s}) AS n`);
    expect(rows[0]?.s).toBe(s);
    expect(rows[0]?.n).toBe(Buffer.byteLength(s, 'utf8'));
  });
  it('round-trips numbers, dates and arrays', async () => {
    const values: SqlValue[] = [nasty, [1, -2, 0.5], 'x'];
    const rows = await ch.query<Record<string, unknown>>(
      sql`SELECT ${values[0]!} AS a, ${values[1]!} AS b, ${-9007199254740991} AS big,
                 toUnixTimestamp(${new Date(T0)}) AS d, 1 - ${-1} AS minus`,
    );
    expect(rows[0]).toEqual({
      a: nasty,
      b: [1, -2, 0.5],
      big: -9007199254740991,
      d: T0 / 1000,
      minus: 2,
    });
  });
  it('stores nasty strings through JSONEachRow inserts as well', async () => {
    const ev = authEvent(1, T0, { terminalId: 'T-nasty', region: 'XX-1' });
    const raw = JSON.stringify({ ...ev.event, note: nasty.join('|') });
    await ch.insert(TABLES.events, [eventToRow({ ...ev, raw })]);
    const [got] = await queryDrillDown(ch, { terminalId: 'T-nasty', from: T0, to: T0 });
    expect(got?.raw).toBe(raw);
  });
});

describe('idempotent writes', () => {
  const events = Array.from({ length: 300 }, (_, i) => authEvent(i, T0 + i * 1000));
  // T-<j>: a pane a minute for 3 minutes, 50 auths each, 5 * (j + p) of them the issuer's
  const panes: PaneInput[] = ['T-0', 'T-1', 'T-2'].flatMap((key, j) =>
    [0, 1, 2].map((p) => ({
      scope: 'terminal' as const,
      key,
      merchantId: 'M-0',
      region: 'CN-31',
      paneMs: T0 + p * 60_000,
      counts: { auths: 50, approved: 50 - 5 * (j + p), cat_issuer: 5 * (j + p) },
      writtenMs: 1,
    })),
  );
  /** the newest pane ends at T0 + 125 s: the current 5m window [T0 - 175 s, T0 + 125 s) */
  const NOW = T0 + 200_000;
  const alerts = [
    alert('a-1', 'firing', T0),
    alert('a-1', 'resolved', T0 + 60_000),
    alert('a-2', 'firing', T0),
  ];
  const actions: AlertActionInput[] = [
    { actionId: 'act-1', alertId: 'a-1', kind: 'ack', actor: 'ana', ts: T0 + 1000 },
    {
      actionId: 'act-2',
      alertId: 'a-1',
      kind: 'note',
      actor: 'ana',
      note: "restarted; it's fine\n",
      ts: T0 + 2000,
    },
  ];
  const letters: DeadLetterInput[] = [
    {
      sourceTopic: 'pos.events',
      sourcePartition: 1,
      sourceOffset: 7,
      reason: 'bad',
      raw: Buffer.from([0xff, 0]),
      ts: T0,
    },
  ];

  /** Every set inserted in blocks of `block` rows, all tables at once. */
  async function writeAll(block: number) {
    const put = async <T>(table: string, values: readonly T[], toRow: (v: T) => object) => {
      for (let i = 0; i < values.length; i += block)
        await ch.insert(table, values.slice(i, i + block).map(toRow));
    };
    await Promise.all([
      put(TABLES.events, events, (e) => eventToRow(e)),
      put(TABLES.panes, panes, paneToRow),
      put(TABLES.alerts, alerts, alertToRow),
      put(TABLES.alertActions, actions, actionToRow),
      put(TABLES.deadLetters, letters, deadLetterToRow),
    ]);
  }

  async function observe() {
    const range = { from: T0, to: T0 + 3_600_000 };
    return {
      drill: await summarizeDrillDown(ch, { region: 'CN-31', ...range }),
      t0: (await queryDrillDown(ch, { terminalId: 'T-0', ...range, limit: 10_000 })).length,
      latest: await queryLatestRates(ch, { scope: 'terminal', window: '5m' }, NOW),
      // the 5m window at every minute, each pane once however many copies were written
      series: await querySeries(ch, {
        scope: 'terminal',
        key: 'T-2',
        window: '5m',
        ...range,
        stepMs: 60_000,
      }),
      stepped: await querySeries(ch, {
        scope: 'terminal',
        key: 'T-2',
        window: '5m',
        ...range,
        stepMs: 120_000,
      }),
      alerts: await queryAlerts(ch, {}),
      actions: await queryAlertActions(ch, 'a-1'),
      dlq: await ch.query<{ raw_base64: string }>(
        sql`SELECT raw_base64 FROM ${ident(TABLES.deadLetters)} FINAL ORDER BY source_offset`,
      ),
    };
  }

  it('writing the same batch twice gives the same answers as writing it once', async () => {
    // Merges would collapse duplicates behind our back and make the raw count below meaningless.
    await ch.command(sql`SYSTEM STOP MERGES ${ident(TABLES.events)}`);
    await ch.command(sql`SYSTEM STOP MERGES ${ident(TABLES.panes)}`);
    await writeAll(1000);
    const once = await observe();
    await writeAll(128); // a replay after a crash: same rows, same ids, different blocks
    const twice = await observe();
    expect(twice).toEqual(once);
    // Not vacuous: the rows really are there twice until a merge, and the readers hide it.
    const [stored] = await ch.query<{ n: number }>(
      sql`SELECT count() AS n FROM ${ident(TABLES.events)}`,
    );
    expect(stored?.n).toBe(2 * events.length + 1); // + the nasty-string row
    const [storedPanes] = await ch.query<{ n: number }>(
      sql`SELECT count() AS n FROM ${ident(TABLES.panes)}`,
    );
    expect(Number(storedPanes?.n)).toBe(2 * panes.length);
    await ch.command(sql`SYSTEM START MERGES ${ident(TABLES.events)}`);
    await ch.command(sql`SYSTEM START MERGES ${ident(TABLES.panes)}`);

    expect(once.drill.total).toBe(300);
    expect(once.drill.byCode).toEqual({ '00': 225, '91': 75 });
    expect(once.t0).toBe(100);
    const at = (ms: number) => new Date(T0 + ms).toISOString();
    expect(once.latest.map((r) => [r.key, r.auths, r.failures, r.ts])).toEqual([
      ['T-0', 150, 15, at(125_000)],
      ['T-1', 150, 30, at(125_000)],
      ['T-2', 150, 45, at(125_000)],
    ]);
    // windows ending T0 + 1..7 min: the panes at 0, 1, 2 min come in, then go out
    expect(once.series.map((r) => [r.ts, r.failures])).toEqual([
      [at(60_000), 10],
      [at(120_000), 25],
      [at(180_000), 45],
      [at(240_000), 45],
      [at(300_000), 45],
      [at(360_000), 35],
      [at(420_000), 20],
    ]);
    expect(once.stepped.map((r) => [r.ts, r.failures])).toEqual([
      [at(120_000), 25],
      [at(240_000), 45],
      [at(360_000), 35],
    ]);
    expect(once.stepped[0]).toEqual(once.series[1]);
    expect(once.series[0]?.byCategory).toMatchObject({ issuer: 10, approved: 40, timeout: 0 });
    expect(once.alerts.map((a) => [a.alertId, a.status])).toEqual([
      ['a-1', 'resolved'],
      ['a-2', 'firing'],
    ]);
    expect(once.actions.map((a) => [a.kind, a.note])).toEqual([
      ['ack', ''],
      ['note', "restarted; it's fine\n"],
    ]);
    expect(once.dlq).toHaveLength(1);
    expect(once.dlq[0]?.raw_base64).toBe(Buffer.from([0xff, 0]).toString('base64'));
  });

  it('answers the gateway questions: worst keys, filtered alerts, drill-down by response code', async () => {
    const top = await queryTopRates(
      ch,
      { scope: 'terminal', window: '5m', metric: 'failureRate', limit: 2 },
      NOW,
    );
    expect(top.map((r) => [r.key, r.failureRate])).toEqual([
      ['T-2', 45 / 150],
      ['T-1', 30 / 150],
    ]);
    expect(
      await queryTopRates(ch, { scope: 'terminal', window: '5m', minAuths: 151 }, NOW),
    ).toEqual([]);

    expect((await queryAlerts(ch, { status: 'firing' })).map((a) => a.alertId)).toEqual(['a-2']);
    expect(
      (await queryAlerts(ch, { status: 'resolved', rule: 'terminal_fault_spike' })).map(
        (a) => a.alertId,
      ),
    ).toEqual(['a-1']);
    expect(await queryAlerts(ch, { merchantId: 'M-nobody' })).toEqual([]);

    // a-1 is about T-1 from T0 (first seen; minus the 5m window) to T0 + 60 s (last seen).
    const ev = await queryDrillDown(ch, {
      terminalId: 'T-1',
      from: T0 - 300_000,
      to: T0 + 60_000,
      responseCodes: ['91'],
    });
    expect(ev.every((e) => e.terminalId === 'T-1' && e.responseCode === '91')).toBe(true);
    // i in 0..60 with i % 3 == 1 and i % 4 == 0: 4, 16, 28, 40, 52
    expect(ev.map((e) => e.eventId)).toEqual(['e-4', 'e-16', 'e-28', 'e-40', 'e-52']);
  });
});

describe('retention', () => {
  it('drops whole day partitions older than N days and keeps the rest', async () => {
    const now = Date.UTC(2026, 5, 20, 12);
    const day = 86_400_000;
    const rows = [10, 8, 3, 0].map((d, i) =>
      eventToRow(authEvent(10_000 + i, now - d * day, { terminalId: 'T-ret' })),
    );
    await ch.insert(TABLES.events, rows);
    const dropped = await dropPartitionsOlderThan(ch, TABLES.events, 7, now);
    // The idempotency test's data (January 2026) is older as well and goes too.
    expect(dropped).toEqual(expect.arrayContaining(['20260610', '20260612', '20260110']));
    expect(dropped).not.toContain('20260617');
    const left = await queryDrillDown(ch, { terminalId: 'T-ret', from: now - 30 * day, to: now });
    expect(left.map((e) => new Date(e.ts).toISOString().slice(0, 10))).toEqual([
      '2026-06-17',
      '2026-06-20',
    ]);
    expect(await dropPartitionsOlderThan(ch, TABLES.events, 7, now)).toEqual([]);
  });
});

describe('migration 2 and the gateway helpers', () => {
  it('an interrupted ADD COLUMN runs again without failing (18.16 has no IF NOT EXISTS)', async () => {
    const again = [
      ...MIGRATIONS,
      {
        id: 1000,
        name: 'rerun of migration 2',
        statements: MIGRATIONS.find((m) => m.id === 2)!.statements,
      },
      {
        id: 1002,
        name: 'rerun of migration 4',
        statements: MIGRATIONS.find((m) => m.id === 4)!.statements,
      },
    ];
    expect(await migrate(ch, again)).toMatchObject({ applied: [1000, 1002] });
    const bad = [...again, { id: 1001, name: 'a real error', statements: ['ALTER TABLE nope'] }];
    await expect(migrate(ch, bad)).rejects.toThrow();
  });

  it('silences: latest version wins, tombstones hide, activeAt filters', async () => {
    const s = {
      id: 'sil-1',
      matchers: { merchantId: "M-'1" },
      startsAt: new Date(T0).toISOString(),
      endsAt: new Date(T0 + 60_000).toISOString(),
      comment: 'maintenance',
      createdBy: 'ana',
      createdAt: new Date(T0).toISOString(),
    };
    await upsertSilences(ch, [s, { ...s, id: 'sil-2' }], 1);
    await upsertSilences(ch, [{ ...s, comment: 'v2' }], 2);
    await deleteSilences(ch, [{ ...s, id: 'sil-2' }], 3);
    await upsertSilences(ch, [{ ...s, id: 'sil-2', comment: 'stale write' }], 2);
    expect((await listSilences(ch)).map((x) => [x.id, x.comment])).toEqual([['sil-1', 'v2']]);
    expect(await listSilences(ch, { activeAt: T0 + 60_000 })).toEqual([]);
    expect((await listSilences(ch, { activeAt: T0 + 1 })).map((x) => x.matchers)).toEqual([
      { merchantId: "M-'1" },
    ]);
    expect(await listSilences(ch, { ids: [] })).toEqual([]);
  });

  it('keys with panes written since a time, freshness per scope, windows of keys, author of actions', async () => {
    const T = Date.UTC(2026, 1, 2, 3, 4, 5);
    const p = (key: string, paneMs: number, auths: number, writtenMs: number): PaneInput => ({
      scope: 'terminal',
      key,
      merchantId: 'M-0',
      region: 'CN-31',
      paneMs,
      counts: { auths, approved: auths - 1, cat_issuer: 1 },
      writtenMs,
    });
    await ch.insert(
      TABLES.panes,
      [
        p('T-c1', T, 10, 100),
        p('T-c1', T + 5000, 20, 101),
        p('T-c2', T, 30, 102),
        p('T-c2', T - 300_000, 40, 90),
      ].map(paneToRow),
    );
    const all = await queryRateChanges(ch, { since: T - 1000, afterWritten: 99 });
    expect(all).toEqual([
      { scope: 'terminal', key: 'T-c1', written: 101 },
      { scope: 'terminal', key: 'T-c2', written: 102 },
    ]);
    const later = await queryRateChanges(ch, { since: T - 1000, afterWritten: 101 });
    expect(later.map((c) => c.key)).toEqual(['T-c2']);
    const fresh = await queryRateFreshness(ch, { scope: 'terminal', since: T - 1000 });
    expect(fresh).toEqual([{ scope: 'terminal', newest: T + 10_000 }]);
    const windows = await queryWindowRates(ch, {
      scope: 'terminal',
      end: T + 10_000,
      windows: ['1m', '15m'],
      keys: ['T-c1', 'T-c2', 'T-none'],
    });
    expect(
      windows.map((w) => [w.row.key, w.row.window, w.row.auths, w.row.failures, w.written]),
    ).toEqual([
      ['T-c1', '1m', 30, 2, 101],
      ['T-c1', '15m', 30, 2, 101],
      ['T-c2', '1m', 30, 1, 102],
      // the pane 5 min before T is in the 15m window only
      ['T-c2', '15m', 70, 2, 102],
    ]);
    expect(windows.every((w) => w.row.ts === new Date(T + 10_000).toISOString())).toBe(true);

    await insertAlertActions(ch, [
      { actionId: 'act-au', alertId: 'a-au', kind: 'note', actor: 'k#1', author: 'Li Wei', ts: T },
    ]);
    expect((await queryAlertActionsFor(ch, ['a-au', 'none']))[0]).toMatchObject({
      author: 'Li Wei',
      note: '',
      verdict: '',
    });
    // migration 4: a resolution's verdict
    await insertAlertActions(ch, [
      {
        actionId: 'act-v',
        alertId: 'a-v',
        kind: 'resolve',
        actor: 'k#1',
        verdict: 'expected',
        ts: T,
      },
    ]);
    expect((await queryAlertActionsFor(ch, ['a-v']))[0]).toMatchObject({ verdict: 'expected' });
  });
});
