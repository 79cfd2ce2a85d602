import type { RateRow } from '@tillwatch/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from './client';
import { querySeries, querySeriesPoints } from './queries';
import { rateToRow } from './rows';
import { TABLES } from './schema';
import { ident, sql } from './sql';
import { freshDatabase, rate } from './test-fixtures';

/**
 * querySeriesPoints is querySeries with a step, the chart's columns only: the same points, the
 * newest version of a pane written twice, whatever else the table holds.
 */
const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run through vitest.int.config.ts');

let ch: ClickHouse;
let drop: () => Promise<void>;
const T0 = Date.UTC(2026, 3, 1, 23, 0, 0);

function row(key: string, i: number, failures: number, over: Partial<RateRow> = {}): RateRow {
  return {
    ...rate(key, T0 + i * 10_000, 100, failures),
    faultRate: failures / 100,
    ...(i % 7 === 0 ? { volumeRatio: 0.5 + i / 1000 } : {}),
    ...over,
  };
}

beforeAll(async () => {
  ({ ch, drop } = await freshDatabase(url));
  // duplicates must stay duplicates while the test looks
  await ch.command(sql`SYSTEM STOP MERGES ${ident(TABLES.rates)}`);
  // 2 h of T-1's 5m panes every 10 s (across midnight: two day partitions), written once...
  const first = Array.from({ length: 720 }, (_, i) => row('T-1', i, i % 10));
  await ch.insert(
    TABLES.rates,
    first.map((r) => rateToRow(r, 1)),
  );
  // ...then every third pane again with other numbers and a newer version (a replay that
  // counted more), and another key, another window and another merchant's rows around it
  await ch.insert(TABLES.rates, [
    ...first
      .filter((_, i) => i % 3 === 0)
      .map((r) => rateToRow({ ...r, faults: 77, faultRate: 0.77 }, 2)),
    ...Array.from({ length: 720 }, (_, i) => rateToRow(row('T-2', i, 50), 1)),
    ...Array.from({ length: 720 }, (_, i) => rateToRow(row('T-1', i, 60, { window: '1m' }), 1)),
  ]);
});
afterAll(async () => {
  await ch?.command(sql`SYSTEM START MERGES ${ident(TABLES.rates)}`);
  await drop?.();
});

describe('querySeriesPoints', () => {
  it('the points of querySeries with the same step, newest version of each pane', async () => {
    for (const stepMs of [10_000, 60_000, 600_000]) {
      const q = {
        scope: 'terminal' as const,
        key: 'T-1',
        window: '5m',
        from: T0 + 30_000,
        to: T0 + 7_000_000,
        stepMs,
      };
      const full = await querySeries(ch, q);
      const points = await querySeriesPoints(ch, q);
      expect(points).toEqual(
        full.map((r) => ({
          ts: r.ts,
          auths: r.auths,
          failureRate: r.failureRate,
          faultRate: r.faultRate,
          reversalRate: r.reversalRate,
          noSettlementRate: r.noSettlementRate,
          volumeRatio: r.volumeRatio ?? null,
        })),
      );
      expect(points.length).toBe(Math.floor(7_000_000 / stepMs) - Math.floor(30_000 / stepMs) + 1);
    }
    // a 10 s step is every pane: the replayed ones show the replay's numbers
    const each = await querySeriesPoints(ch, {
      scope: 'terminal',
      key: 'T-1',
      window: '5m',
      from: T0,
      to: T0 + 60_000,
      stepMs: 10_000,
    });
    expect(each.map((p) => p.faultRate)).toEqual([0.77, 0.01, 0.02, 0.77, 0.04, 0.05, 0.77]);
    expect(each.map((p) => p.volumeRatio)).toEqual([0.5, null, null, null, null, null, null]);
  });

  it('a merchant bound: nothing of another merchant', async () => {
    const q = {
      scope: 'terminal' as const,
      key: 'T-1',
      window: '5m',
      from: T0,
      to: T0 + 3_600_000,
    };
    expect(await querySeriesPoints(ch, { ...q, stepMs: 60_000, merchantId: 'M-9' })).toEqual([]);
    expect(await querySeriesPoints(ch, { ...q, stepMs: 60_000, merchantId: 'M-0' })).toHaveLength(
      61,
    );
  });
});
