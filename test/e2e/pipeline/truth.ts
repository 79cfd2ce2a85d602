import type { ClickHouseClient } from '@clickhouse/client';
import type { TerminalEvent } from '@tillwatch/contracts';
import {
  DEFAULT_ENGINE_CONFIG,
  METRIC_COUNT,
  ReferenceEngine,
  SCOPE,
  createEngine,
  type ScopeName,
  type WindowEngine,
} from '@tillwatch/core';
import { STAT_COUNTERS } from '@tillwatch/processor';

const WINDOW_LABEL: Record<string, number> = { '1m': 0, '5m': 1, '15m': 2, '1h': 3 };

/**
 * The ground truth of the pipeline suites: ReferenceEngine (the executable definition of the
 * window semantics) over the same events in the same order, stepping pane boundaries as the
 * stages do, holding every window-stats row in ClickHouse to it.
 */

export interface StatRowOut {
  scope: string;
  key: string;
  window: string;
  ts: number;
  counts: number[];
}

export async function count(ch: ClickHouseClient, sql: string): Promise<number> {
  const rs = await ch.query({ query: sql, format: 'JSONEachRow' });
  const [row] = await rs.json<{ n: string | number }>();
  return Number(row?.n ?? 0);
}

export interface Truth {
  rows: number;
  checked: number;
  mismatched: { row: StatRowOut; expected: number[] }[];
  missing: string[];
  expectedRows: number;
  byScope: Record<string, number>;
}

/**
 * Hold ClickHouse's rows to ReferenceEngine over the same events (global order): every row's
 * 22 counters must equal the reference's window at that end, and every (scope, key, window, end)
 * whose closed pane held an event of the key must have a row (terminal, merchant, region and
 * issuer; firmware keys depend on a terminal's remembered version and are held by the counts).
 * Rows stream from ClickHouse in end order (FINAL: one row per identity), so 2M rows cost no
 * more memory than the reference engine itself.
 */
export async function checkAgainstTruth(
  events: readonly TerminalEvent[],
  ch: ClickHouseClient,
  table: string,
  oracle: 'reference' | 'fast' = 'reference',
): Promise<Truth> {
  const cfg = DEFAULT_ENGINE_CONFIG;
  const labels = ['1m', '5m', '15m', '1h'];
  const expected = new Set<string>();
  const p0 = Math.min(...cfg.panesMs);
  for (const e of events) {
    // The sentinels are the last events: their own panes never close.
    if (e.type === 'settlement' || e.eventId.startsWith('sentinel-')) continue;
    const keys: [ScopeName, string][] = [
      ['terminal', e.terminalId],
      ['merchant', e.merchantId],
      ['region', e.region],
    ];
    if (e.type === 'auth' && e.issuerId !== undefined) keys.push(['issuer', e.issuerId]);
    cfg.panesMs.forEach((pane, i) => {
      const end = (Math.floor(e.ts / pane) + 1) * pane;
      for (const [sc, k] of keys) expected.add(`${sc}|${k}|${labels[i]}|${end}`);
    });
  }
  const expectedRows = expected.size;

  // ReferenceEngine re-scans every pending settlement on each advance: ~O(events x pending),
  // minutes at 200k events. The fast engine is held equal to it by core's property tests, so
  // long streams may use it as the oracle (the test says which it used).
  const ref: WindowEngine = oracle === 'reference' ? new ReferenceEngine({}) : createEngine({});
  const out = new Float64Array(METRIC_COUNT);
  const truth: Truth = {
    rows: 0,
    checked: 0,
    mismatched: [],
    missing: [],
    expectedRows,
    byScope: {},
  };
  let next = Number.NaN;
  let i = 0;
  /** Move the reference to boundary b as the processor closes it: just before the first event whose time (less the lateness) reaches b. False if the stream never closes b. */
  const reach = (b: number): boolean => {
    while (i < events.length) {
      const e = events[i]!;
      if (Number.isNaN(next)) next = (Math.floor(e.ts / p0) + 1) * p0;
      if (next <= e.ts - cfg.allowedLatenessMs) {
        if (next > b) return false;
        ref.advance(next);
        const hit = next === b;
        next += p0;
        if (hit) return true;
        continue;
      }
      ref.ingest(e);
      i++;
    }
    return false;
  };
  const cols = ['failures', 'faults', ...STAT_COUNTERS.map(([c]) => c)];
  const rs = await ch.query({
    query: `SELECT scope, key, window, toUInt32(ts) AS t, ${cols.join(', ')} FROM ${table} FINAL ORDER BY t`,
    format: 'JSONEachRow',
  });
  let at = Number.NaN;
  let closed = false;
  for await (const batch of rs.stream()) {
    for (const raw of batch) {
      const r = raw.json<Record<string, string | number>>();
      const row: StatRowOut = {
        scope: r.scope as string,
        key: r.key as string,
        window: r.window as string,
        ts: Number(r.t) * 1000,
        counts: cols.map((c) => Number(r[c])),
      };
      truth.rows++;
      truth.byScope[row.scope] = (truth.byScope[row.scope] ?? 0) + 1;
      expected.delete(`${row.scope}|${row.key}|${row.window}|${row.ts}`);
      if (row.ts !== at) {
        at = row.ts;
        closed = reach(row.ts);
      }
      if (!closed) {
        // A row for a boundary the stream never closes cannot be right.
        truth.mismatched.push({ row, expected: [] });
        continue;
      }
      if (!ref.read(SCOPE[row.scope as ScopeName], row.key, WINDOW_LABEL[row.window]!, out))
        out.fill(0);
      truth.checked++;
      // failures, faults, then STAT_COUNTERS' columns, as selected
      const failures = out[0]! - out[1]!;
      const want = [
        failures,
        failures - out[2]!,
        ...STAT_COUNTERS.map(([, metric]) => out[metric]!),
      ];
      if (row.counts.some((v, k) => v !== want[k])) {
        truth.mismatched.push({ row, expected: truth.mismatched.length < 100 ? want : [] });
      }
    }
  }
  truth.missing = [...expected];
  return truth;
}
