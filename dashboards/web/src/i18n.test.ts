import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRICS } from './i18n';

describe('metric names', () => {
  it('every metric id a rule reports has a name in English and Chinese', () => {
    const dir = join(import.meta.dirname, '../../../packages/rules/src/rules');
    const ids = new Set<string>();
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/metric: '([a-z_]+)'/g)) {
        ids.add(m[1]!);
      }
    }
    expect(ids.size).toBeGreaterThan(10);
    const missing = [...ids].filter((id) => !METRICS[id]?.en || !METRICS[id]?.zh);
    expect(missing).toEqual([]);
  });
});
