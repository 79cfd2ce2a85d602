import { describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { PANE_COUNTERS, PANE_MS } from '@tillwatch/clickhouse';
import { LocalTopology } from '@tillwatch/stream';
import { makeStream, type Stream } from './streams';
import { checkAgainstTruth, describeMissing } from './truth';

/**
 * The ground truth itself, without Kafka or ClickHouse: the pane rows the topology makes (what
 * the processor writes to pane_counts) pass it, and each way a table can be wrong is caught.
 */

type Row = Record<string, string | number>;

/** The topology's pane rows as pane_counts holds them, in the order the truth asks for. */
function paneRows(s: Stream): Row[] {
  const rows: Row[] = [];
  const topology = new LocalTopology(
    {
      alert: () => {},
      panes: (scope, key, paneStart, m, merchantId, region) => {
        const row: Row = {
          scope,
          key,
          // UInt64 comes quoted in JSONEachRow
          pane_ms: String(paneStart),
          merchant_id: merchantId ?? '',
          region: region ?? '',
        };
        for (const [c, metric] of PANE_COUNTERS) row[c] = m[metric]!;
        rows.push(row);
      },
    },
    { idleAfterMs: Number.POSITIVE_INFINITY },
  );
  s.events.forEach((e, i) => topology.push(e, s.partitions[i]));
  return rows.sort((a, b) => Number(a.pane_ms) - Number(b.pane_ms));
}

/** A client that answers any query with these rows, a few at a time. */
function fakeClickHouse(rows: readonly Row[]): ClickHouseClient {
  return {
    query: async () => ({
      async *stream() {
        for (let i = 0; i < rows.length; i += 1000)
          yield rows.slice(i, i + 1000).map((r) => ({ json: () => r }));
      },
    }),
  } as unknown as ClickHouseClient;
}

describe('checkAgainstTruth', () => {
  const stream = makeStream(11, 6_000);
  const rows = paneRows(stream);
  const check = (table: readonly Row[], oracle: 'reference' | 'fast' = 'fast') =>
    checkAgainstTruth(stream.events, fakeClickHouse(table), 'pane_counts', oracle);

  it.each(['reference', 'fast'] as const)(
    'passes the topology’s pane rows (%s oracle)',
    async (oracle) => {
      const truth = await check(rows, oracle);
      expect(truth.mismatched.slice(0, 3)).toEqual([]);
      expect(truth.missing.slice(0, 5)).toEqual([]);
      expect(truth.rows).toBe(rows.length);
      expect(truth.checked).toBe(rows.length);
      expect(truth.expectedRows).toBe(rows.filter((r) => r.scope !== 'firmware').length);
      expect(new Set(Object.keys(truth.byScope))).toEqual(
        new Set(['terminal', 'merchant', 'region', 'firmware', 'issuer', 'fleet']),
      );
      // every row's 1m window, and the longer ones on their own boundaries
      expect(truth.windowsChecked).toBeGreaterThan(rows.length);
    },
  );

  it('catches a wrong counter, in the pane and in the windows over it', async () => {
    const i = rows.findIndex((r) => r.scope === 'region' && Number(r.auths) > 0);
    const table = rows.map((r, j) => (j === i ? { ...r, auths: Number(r.auths) + 1 } : r));
    const truth = await check(table);
    expect(truth.missing).toEqual([]);
    expect(truth.mismatched.filter((m) => m.what === 'pane')).toHaveLength(1);
    expect(truth.mismatched.find((m) => m.what === 'pane')?.row.key).toBe(rows[i]!.key);
    expect(truth.mismatched.some((m) => m.what === 'window' && m.window === '1m')).toBe(true);
  });

  it('catches a missing row', async () => {
    const i = rows.findIndex((r) => r.scope === 'issuer');
    const truth = await check(rows.filter((_, j) => j !== i));
    const r = rows[i]!;
    expect(truth.missing).toEqual([`issuer|${r.key}|${r.pane_ms}`]);
    // the stored panes of the key no longer sum to its windows
    expect(truth.mismatched.every((m) => m.what === 'window')).toBe(true);
  });

  it('catches a row twice, a row for a pane the stream never closes, and wrong labels', async () => {
    const last = Number(rows.at(-1)!.pane_ms);
    const t = rows.findIndex((r) => r.scope === 'terminal');
    const table = [
      ...rows.slice(0, t + 1),
      rows[t]!,
      { ...rows[t + 1]!, ...(rows[t + 1]!.scope === 'terminal' ? { region: 'ELSEWHERE' } : {}) },
      ...rows.slice(t + 2),
      // past the sentinels, whose own panes never close
      { ...rows.at(-1)!, pane_ms: String(last + 3 * 3_600_000) },
    ];
    const truth = await check(table);
    const what = truth.mismatched.map((m) => m.what);
    expect(what).toContain('duplicate');
    expect(what).toContain('unclosed');
    if (rows[t + 1]!.scope === 'terminal') expect(what).toContain('labels');
    expect(truth.missing).toEqual([]);
  });

  it('holds pane starts to the 5 s panes the stages close', () => {
    expect(rows.every((r) => Number(r.pane_ms) % PANE_MS === 0)).toBe(true);
  });
});

describe('describeMissing', () => {
  it('tells the missing rows apart by scope, with their keys and first and last pane', () => {
    const p = Date.UTC(2026, 2, 2, 10, 5);
    const text = describeMissing([
      `merchant|m1|${p}`,
      `merchant|m1|${p + 300_000}`,
      `merchant|m2|${p + 900_000}`,
      `terminal|T|1|${p}`,
    ]);
    expect(text).toBe(
      'merchant 3 rows / 2 keys, panes 2026-03-02 10:05 to 2026-03-02 10:20; ' +
        'terminal 1 rows / 1 keys, panes 2026-03-02 10:05 to 2026-03-02 10:05',
    );
    expect(describeMissing([])).toBe('');
  });
});
