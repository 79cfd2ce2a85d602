import { M, type MetricName } from '@tillwatch/core';
import { describe, expect, it } from 'vitest';
import { STATS_COLUMNS, STAT_COUNTERS } from './store';

describe('STAT_COUNTERS', () => {
  // @tillwatch/clickhouse writes the metric indices as numbers (it does not depend on the
  // engine): each column must hold the engine metric its name says, cat_<c> the category c.
  it('each counter column holds the core metric of its name', () => {
    for (const [column, metric] of STAT_COUNTERS) {
      const name = column
        .replace(/^cat_/, '')
        .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as MetricName;
      expect(M[name], column).toBe(metric);
    }
  });

  it('auths and approved come first, then the derived failures and faults in the columns', () => {
    expect(STAT_COUNTERS.slice(0, 2).map(([c]) => c)).toEqual(['auths', 'approved']);
    const at = STATS_COLUMNS.indexOf('auths');
    expect(STATS_COLUMNS.slice(at, at + 5)).toEqual([
      'auths',
      'approved',
      'failures',
      'faults',
      STAT_COUNTERS[2]![0],
    ]);
  });
});
