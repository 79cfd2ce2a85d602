import { PANE_COUNTERS, PANE_TICKS_COLUMNS } from '@tillwatch/clickhouse';
import type { ScopeName } from '@tillwatch/core';
import type { RowChunks } from './store';
import { RowBinaryWriter, tsvEscape } from './tsv';

/** The core metric (M index) of each pane_counts counter, in column order. */
const METRICS = Int32Array.from(PANE_COUNTERS.map(([, metric]) => metric));
const NC = METRICS.length;

/** pane_ticks' columns in the order PaneTickWriter encodes them (RowBinary): the table's. */
export const PANE_TICK_COLUMNS: readonly string[] = PANE_TICKS_COLUMNS.map(([column]) => column);

/**
 * A pane row as one TabSeparated line: scope, key, pane start (ms), merchant, region, the
 * counters in pane_counts' order. The readable reference of what PaneTickWriter encodes (tests
 * compare pane rows as these lines; pane-rows.test.ts decodes a tick row and holds it to them).
 */
export function paneLine(
  scope: ScopeName,
  key: string,
  paneStart: number,
  m: Float64Array,
  merchantId = '',
  region = '',
): string {
  let line = `${scope}\t${tsvEscape(key)}\t${paneStart}\t${tsvEscape(merchantId)}\t${tsvEscape(region)}`;
  for (let k = 0; k < NC; k++) line += `\t${m[METRICS[k]!]!}`;
  return `${line}\n`;
}

/**
 * A stage's pane rows as pane_ticks rows: one wide row per closed pane (its keys' columns as
 * arrays), which ClickHouse's materialized view unfolds into pane_counts. A stage closes a pane
 * in one go, so a batch's rows come pane by pane; a row is cut when the pane changes and at the
 * drain. What this saves is per-row work on both sides: one RowBinary row header and one row
 * of insert parsing per pane of a stage instead of per key, at ~1,000 keys per pane live.
 *
 * Nothing is allocated per pane row: keys go into string arrays kept across panes, counts into
 * one Float64Array (checked as UInt32 when encoded).
 */
export class PaneTickWriter {
  private readonly w = new RowBinaryWriter();
  private pane = Number.NaN;
  private n = 0;
  private readonly scopes: string[] = [];
  private readonly keys: string[] = [];
  private readonly merchants: string[] = [];
  private readonly regions: string[] = [];
  private counts = new Float64Array(256 * NC);
  /** pane rows added since the last drain */
  private added = 0;

  /** `clock`: written_ms, the rows' version and what the gateway's live rates poll for */
  constructor(private readonly clock: () => number = Date.now) {}

  add(
    scope: ScopeName,
    key: string,
    paneStart: number,
    m: Float64Array,
    merchantId = '',
    region = '',
  ): void {
    if (paneStart !== this.pane) {
      this.cut();
      this.pane = paneStart;
    }
    const i = this.n++;
    if ((i + 1) * NC > this.counts.length) {
      const grown = new Float64Array(this.counts.length * 2);
      grown.set(this.counts);
      this.counts = grown;
    }
    this.scopes[i] = scope;
    this.keys[i] = key;
    this.merchants[i] = merchantId;
    this.regions[i] = region;
    const c = this.counts;
    const o = i * NC;
    for (let k = 0; k < NC; k++) c[o + k] = m[METRICS[k]!]!;
    this.added++;
  }

  /** The rows so far into `t` (wide rows: t.count grows by the panes); returns the pane rows. */
  drainInto(t: RowChunks): number {
    this.cut();
    this.w.drainInto(t);
    const added = this.added;
    this.added = 0;
    return added;
  }

  /** The pane in hand as one pane_ticks row, in PANE_TICK_COLUMNS order. */
  private cut(): void {
    const n = this.n;
    if (n === 0) return;
    const w = this.w;
    w.u64(this.pane).u64(this.clock());
    for (const list of [this.scopes, this.keys, this.merchants, this.regions]) {
      w.len(n);
      for (let i = 0; i < n; i++) w.str(list[i]!);
    }
    const c = this.counts;
    for (let k = 0; k < NC; k++) {
      w.len(n);
      for (let i = 0; i < n; i++) w.u32(c[i * NC + k]!);
    }
    w.end();
    this.n = 0;
  }
}
