import { PANE_COUNTERS } from '@tillwatch/clickhouse';
import type { PaneRow } from './types';

/**
 * The core metrics of a pane row's counters, in pane_counts' column order (@tillwatch/clickhouse
 * PANE_COUNTERS). Tests of the stages compare pane rows as text lines of these figures. The
 * table's package is a devDependency only: this helper is test code, and the stream does no I/O.
 */
export const PANE_METRICS: readonly number[] = PANE_COUNTERS.map(([, metric]) => metric);

/** scope, key, pane start (ms), merchant, region, then the counters of PANE_METRICS */
export function paneText(...[scope, key, start, m, merchantId = '', region = '']: PaneRow): string {
  const cols: (string | number)[] = [scope, key, start, merchantId, region];
  for (const i of PANE_METRICS) cols.push(m[i]!);
  return cols.join('\t') + '\n';
}

/** Parsed paneText lines. */
export interface PaneLine {
  scope: string;
  key: string;
  start: number;
  counts: number[];
}

export function parsePane(line: string): PaneLine {
  const c = line.trimEnd().split('\t');
  return { scope: c[0]!, key: c[1]!, start: Number(c[2]), counts: c.slice(5).map(Number) };
}

/** A window's counters (PANE_METRICS order) as a reader builds it: its panes in [from, to) summed. */
export function windowOf(
  lines: readonly string[],
  scope: string,
  key: string,
  from: number,
  to: number,
): number[] {
  const sum = PANE_METRICS.map(() => 0);
  for (const l of lines) {
    const p = parsePane(l);
    if (p.scope !== scope || p.key !== key || p.start < from || p.start >= to) continue;
    for (let i = 0; i < sum.length; i++) sum[i]! += p.counts[i]!;
  }
  return sum;
}
