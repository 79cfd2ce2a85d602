import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from './client';
import { paneToRow, type PaneInput } from './pane-rows';
import { querySeries, querySeriesPoints } from './queries';
import { TABLES } from './schema';
import { ident, sql } from './sql';
import { freshDatabase } from './test-fixtures';

/**
 * querySeriesPoints is querySeries with a step, the chart's fields only: the same points, each
 * a window summed from its panes, a pane written twice counted once, whatever else the table
 * holds.
 */
const url = process.env.CLICKHOUSE_URL;
if (!url) throw new Error('CLICKHOUSE_URL is not set: run through vitest.int.config.ts');

let ch: ClickHouse;
let drop: () => Promise<void>;
const T0 = Date.UTC(2026, 3, 1, 23, 0, 0);

function pane(key: string, i: number, over: Partial<PaneInput> = {}): PaneInput {
  const auths = 10 + (i % 5);
  return {
    scope: 'terminal',
    key,
    merchantId: 'M-0',
    region: 'CN-31',
    paneMs: T0 + i * 5000,
    counts: { auths, approved: auths - (i % 10), cat_issuer: i % 10 },
    writtenMs: 1_000 + i,
    ...over,
  };
}

/** T-1's panes: 2 h of them, across midnight (two day partitions) */
const first = Array.from({ length: 1440 }, (_, i) => pane('T-1', i));

beforeAll(async () => {
  ({ ch, drop } = await freshDatabase(url));
  // duplicates must stay duplicates while the test looks
  await ch.command(sql`SYSTEM STOP MERGES ${ident(TABLES.panes)}`);
  await ch.insert(TABLES.panes, first.map(paneToRow));
  // ...then every third pane again, as a replay after a crash writes it (same counts, a later
  // written_ms), and another key and a pane of T-1 in another scope around it
  await ch.insert(TABLES.panes, [
    ...first
      .filter((_, i) => i % 3 === 0)
      .map((p) => paneToRow({ ...p, writtenMs: p.writtenMs + 10_000 })),
    ...Array.from({ length: 1440 }, (_, i) => paneToRow(pane('T-2', i, { counts: { auths: 99 } }))),
    paneToRow(pane('T-1', 5, { scope: 'merchant', counts: { auths: 1000 } })),
  ]);
});
afterAll(async () => {
  await ch?.command(sql`SYSTEM START MERGES ${ident(TABLES.panes)}`);
  await drop?.();
});

/** The 5m window ending at `end`, summed the plain way from T-1's panes, each once. */
function window5m(end: number) {
  const ps = first.filter((p) => p.paneMs >= end - 300_000 && p.paneMs < end);
  const auths = ps.reduce((n, p) => n + p.counts.auths!, 0);
  const failures = ps.reduce((n, p) => n + p.counts.cat_issuer!, 0);
  return { ts: new Date(end).toISOString(), auths, failureRate: failures / auths };
}

describe('querySeriesPoints', () => {
  it('the points of querySeries with the same step, each pane once', async () => {
    const [stored] = await ch.query<{ n: string }>(
      sql`SELECT count() AS n FROM ${ident(TABLES.panes)} WHERE scope = 'terminal' AND key = 'T-1'`,
    );
    expect(Number(stored!.n)).toBe(1440 + 480);
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
          volumeRatio: null,
        })),
      );
      // a window ending at every step boundary of the range: every one holds panes
      const ends = [];
      for (let t = Math.ceil(q.from / stepMs) * stepMs; t <= q.to; t += stepMs) ends.push(t);
      expect(points.map((p) => ({ ts: p.ts, auths: p.auths, failureRate: p.failureRate }))).toEqual(
        ends.map(window5m),
      );
    }
  });

  it('no point where the window holds no pane; the range’s edges', async () => {
    const points = await querySeriesPoints(ch, {
      scope: 'terminal',
      key: 'T-1',
      window: '1m',
      from: T0 - 120_000,
      to: T0 + 7_320_000,
      stepMs: 60_000,
    });
    // the first window with a pane ends a minute after T0... the last one a minute after the last pane
    expect(points[0]!.ts).toBe(new Date(T0 + 60_000).toISOString());
    expect(points.at(-1)!.ts).toBe(new Date(T0 + 7_200_000).toISOString());
    expect(points).toHaveLength(120);
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
      60,
    );
  });
});
