import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { M, METRIC_COUNT } from '@tillwatch/core';
import { categorize, decodeEvent, type TerminalEvent } from '@tillwatch/contracts';
import { createSimulation } from '@tillwatch/simulator';
import { writeEvent } from './event-rows';
import { STATS_COLUMNS, emptyRows } from './store';
import { statLine, writeStat } from './stat-rows';
import { RowBinaryWriter, TsvWriter, tsvEscape } from './tsv';

const text = (w: TsvWriter) => {
  const rows = emptyRows();
  w.drainInto(rows.stats);
  return { text: Buffer.concat(rows.stats.chunks).toString('utf8'), count: rows.stats.count };
};

/** RowBinary window_stats rows decoded into statLine's TabSeparated text. */
function decodeStats(buf: Buffer): string {
  let p = 0;
  const str = () => {
    let len = 0;
    let shift = 0;
    for (;;) {
      const b = buf[p++]!;
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    const v = buf.toString('utf8', p, p + len);
    p += len;
    return tsvEscape(v);
  };
  const u32 = () => String(((p += 4), buf.readUInt32LE(p - 4)));
  const u64 = () => String(((p += 8), buf.readUInt32LE(p - 8) + buf.readUInt32LE(p - 4) * 2 ** 32));
  const f64 = () => String(((p += 8), buf.readDoubleLE(p - 8)));
  const types: Record<string, () => string> = {
    scope: str,
    key: str,
    window: str,
    ts: u32,
    ts_ms: u64,
    merchant_id: str,
    region: str,
    failure_rate: f64,
    fault_rate: f64,
    reversal_rate: f64,
    no_settlement_rate: f64,
    version: u64,
  };
  let out = '';
  while (p < buf.length) {
    const row = STATS_COLUMNS.map((c) => {
      if (c === 'volume_ratio') return buf[p++] === 1 ? '\\N' : f64();
      return (types[c] ?? u32)();
    });
    out += `${row.join('\t')}\n`;
  }
  return out;
}

describe('RowBinaryWriter', () => {
  it('window_stats rows carry the figures of statLine, in STATS_COLUMNS order', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,32}$/);
    const free = fc.string({ maxLength: 200, unit: 'binary' });
    const count = fc.nat({ max: 2_000_000 });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            scope: fc.constantFrom('terminal', 'merchant', 'region', 'firmware', 'issuer'),
            key: fc.oneof(id, free),
            end: fc.integer({ min: 0, max: 4_102_444_800_000 }),
            // auths = approved + cardholder + the other non-approved: the counters' invariant
            split: fc.tuple(count, count, count),
            rest: fc.array(fc.oneof(count, fc.nat({ max: 3 })), {
              minLength: METRIC_COUNT,
              maxLength: METRIC_COUNT,
            }),
            merchant: fc.oneof(fc.constant(''), id),
            region: fc.oneof(fc.constant(''), free),
          }),
          { maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 300 }),
        (rows, chunk) => {
          const w = new RowBinaryWriter(chunk); // small chunks: rows cross chunk boundaries
          let want = '';
          for (const r of rows) {
            const m = Float64Array.from(r.rest);
            const [approved, cardholder, other] = r.split;
            m[M.approved] = approved;
            m[M.cardholder] = cardholder;
            m[M.auths] = approved + cardholder + other;
            const args = [r.scope, r.key, '5m', r.end, m, r.merchant, r.region] as const;
            want += statLine(...args);
            writeStat(w, ...args);
          }
          const out = emptyRows();
          w.drainInto(out.stats);
          expect(out.stats.count).toBe(rows.length);
          expect(decodeStats(Buffer.concat(out.stats.chunks))).toBe(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('TsvWriter', () => {
  it('numbers as String(x), raw bytes escaped as tsvEscape escapes their text', () => {
    const w = new TsvWriter(8);
    const nums = [0, 7, 10, 99, 1_764_000_000_000, 0.1, 1 / 3, -2, 2 ** 53, 1e21, Number.NaN];
    for (const n of nums) w.num(n).tab();
    const raw = Buffer.from('{"a":"x\\ty"}\t\n\r\\');
    w.bytes(raw).end();
    expect(text(w).text).toBe(`${nums.map(String).join('\t')}\t${tsvEscape(raw.toString())}\n`);
    // not ASCII, and not even UTF-8: as the string Buffer#toString makes of it
    const odd = Buffer.concat([
      Buffer.from('{"n":"冲正\t'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const w2 = new TsvWriter(8);
    w2.bytes(odd).end();
    expect(text(w2).text).toBe(`${tsvEscape(odd.toString('utf8'))}\n`);
  });
});

/** The events_raw row as the processor built it before TsvWriter (template strings). */
function eventLine(ev: TerminalEvent, partition: number, offset: string, raw: Buffer, at: number) {
  const txn = ev.type === 'heartbeat' ? '' : ev.txnId;
  const code = ev.type === 'auth' ? ev.responseCode : '';
  const category = ev.type === 'auth' ? categorize(code) : '';
  const amount = ev.type === 'auth' || ev.type === 'settlement' ? String(ev.amount) : '\\N';
  const currency = ev.type === 'auth' ? ev.currency : '';
  const firmware =
    (ev.type === 'auth' || ev.type === 'heartbeat') && ev.firmware ? ev.firmware : '';
  const issuer = ev.type === 'auth' && ev.issuerId ? ev.issuerId : '';
  const sec = Math.floor(ev.ts / 1000);
  return `${tsvEscape(ev.eventId)}\t${ev.type}\t${sec}\t${ev.ts}\t${ev.terminalId}\t${ev.merchantId}\t${ev.region}\t${tsvEscape(txn)}\t${code}\t${category}\t${amount}\t${tsvEscape(currency)}\t${tsvEscape(firmware)}\t${tsvEscape(issuer)}\t${tsvEscape(raw.toString('utf8'))}\t${partition}\t${offset}\t${at}\n`;
}

describe('writeEvent', () => {
  it('writes the events_raw row the template strings gave, for every simulated event type', () => {
    const sim = createSimulation({ seed: 3, scenario: 'all', durationMs: 20 * 60_000 });
    const w = new TsvWriter(512);
    let want = '';
    let n = 0;
    for (const e of sim.events()) {
      // odd raw bytes too: escapes in the JSON, a tab between tokens, non-ASCII text
      const json = JSON.stringify({
        ...e,
        note: n % 3 === 0 ? 'a\\b\t"c"\n' : n % 3 === 1 ? '冲正' : 'x',
      });
      const raw = Buffer.from(n % 5 === 0 ? json.replace(':', ':\t') : json);
      const d = decodeEvent(raw.toString());
      if (!d.ok) throw new Error(d.reason);
      want += eventLine(d.event, n % 4, String(1000 + n), raw, 1_796_000_000);
      writeEvent(w, d.event, n % 4, String(1000 + n), raw, 1_796_000_000);
      if (++n === 3000) break;
    }
    expect(text(w)).toEqual({ text: want, count: n });
  });
});

describe('tsvEscape', () => {
  it('escapes what ClickHouse TabSeparated reads as separators', () => {
    expect(tsvEscape('plain')).toBe('plain');
    expect(tsvEscape('a\tb\nc\\d\re')).toBe('a\\tb\\nc\\\\d\\re');
  });
});
