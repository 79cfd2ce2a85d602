import { PANE_COUNTERS, PANE_TICKS_COLUMNS } from '@tillwatch/clickhouse';
import { M, METRIC_COUNT, type MetricName, type ScopeName } from '@tillwatch/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PANE_TICK_COLUMNS, PaneTickWriter, paneLine } from './pane-rows';
import { emptyRows } from './store';
import { tsvEscape } from './tsv';

describe('PANE_COUNTERS', () => {
  // @tillwatch/clickhouse writes the metric indices as numbers (it does not depend on the
  // engine): each column must hold the engine metric its name says, cat_<c> the category c.
  it('each counter column holds the core metric of its name', () => {
    for (const [column, metric] of PANE_COUNTERS) {
      const name = column
        .replace(/^cat_/, '')
        .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as MetricName;
      expect(M[name], column).toBe(metric);
    }
  });
});

/**
 * pane_ticks rows (RowBinary) decoded into paneLine's lines, one per array element: what the
 * materialized view's ARRAY JOIN makes of them. Also returns each tick row's pane and version.
 */
function decodeTicks(buf: Buffer): { lines: string; ticks: [pane: number, written: number][] } {
  let p = 0;
  const varint = () => {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = buf[p++]!;
      n += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return n;
    }
  };
  const str = () => {
    const len = varint();
    const v = buf.toString('utf8', p, p + len);
    p += len;
    return v;
  };
  const u32 = () => ((p += 4), buf.readUInt32LE(p - 4));
  const u64 = () => ((p += 8), buf.readUInt32LE(p - 8) + buf.readUInt32LE(p - 4) * 2 ** 32);
  let lines = '';
  const ticks: [number, number][] = [];
  while (p < buf.length) {
    const pane = u64();
    const written = u64();
    ticks.push([pane, written]);
    const cols: (string | number)[][] = [];
    for (const [, type] of PANE_TICKS_COLUMNS.slice(2)) {
      const n = varint();
      const read: () => string | number = type === 'Array(String)' ? str : u32;
      cols.push(Array.from({ length: n }, read));
    }
    for (let i = 0; i < cols[0]!.length; i++) {
      const [scope, key, merchant, region, ...counts] = cols.map((c) => c[i]!);
      lines += `${scope}\t${tsvEscape(String(key))}\t${pane}\t${tsvEscape(String(merchant))}\t${tsvEscape(String(region))}\t${counts.join('\t')}\n`;
    }
  }
  return { lines, ticks };
}

describe('PaneTickWriter', () => {
  it('columns: the pane and version, then scope, key, merchant, region and the counters as arrays', () => {
    expect(PANE_TICK_COLUMNS).toEqual([
      'pane_ms',
      'written_ms',
      'scope',
      'key',
      'merchant_id',
      'region',
      ...PANE_COUNTERS.map(([c]) => c),
    ]);
  });

  it("one tick row per pane holds every pane row of it, with paneLine's figures", () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,32}$/);
    const free = fc.string({ maxLength: 200, unit: 'binary' });
    const count = fc.oneof(fc.nat({ max: 2_000_000 }), fc.nat({ max: 3 }));
    const row = fc.record({
      scope: fc.constantFrom<ScopeName>('terminal', 'merchant', 'region', 'firmware', 'issuer'),
      key: fc.oneof(id, free),
      counts: fc.array(count, { minLength: METRIC_COUNT, maxLength: METRIC_COUNT }),
      merchant: fc.oneof(fc.constant(''), id),
      region: fc.oneof(fc.constant(''), free),
    });
    fc.assert(
      fc.property(
        // panes in order, as a stage closes them; a drain may come between any two
        fc.array(fc.tuple(fc.array(row, { minLength: 1, maxLength: 30 }), fc.boolean()), {
          maxLength: 12,
        }),
        (panes) => {
          let clock = 1_000;
          const w = new PaneTickWriter(() => clock++);
          const out = emptyRows();
          let want = '';
          let pane = 1_772_000_000_000;
          let rows = 0;
          let added = 0;
          for (const [list, drain] of panes) {
            for (const r of list) {
              const m = Float64Array.from(r.counts);
              want += paneLine(r.scope, r.key, pane, m, r.merchant, r.region);
              w.add(r.scope, r.key, pane, m, r.merchant, r.region);
              rows++;
            }
            if (drain) added += w.drainInto(out.panes);
            pane += 5_000;
          }
          added += w.drainInto(out.panes);
          expect(added).toBe(rows);
          // one wide row per pane, whatever the drains
          expect(out.panes.count).toBe(panes.length);
          const got = decodeTicks(Buffer.concat(out.panes.chunks));
          expect(got.lines).toBe(want);
          expect(got.ticks.map(([p]) => p)).toEqual(
            panes.map((_, i) => 1_772_000_000_000 + i * 5_000),
          );
          // written_ms: the writer's clock when the row was cut
          expect(new Set(got.ticks.map(([, v]) => v)).size).toBe(panes.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a count that is not a UInt32 rather than write a wrong one', () => {
    const w = new PaneTickWriter();
    const m = new Float64Array(METRIC_COUNT);
    m[M.auths] = 1.5;
    w.add('terminal', 'T1', 0, m);
    expect(() => w.drainInto(emptyRows().panes)).toThrow(/not a UInt32/);
  });
});
