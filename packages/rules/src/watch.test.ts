import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMonitor } from './monitor';
import { watchRulesFile } from './watch';

function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const t = setInterval(() => {
      if (cond()) {
        clearInterval(t);
        resolve();
      } else if (Date.now() - start > ms) {
        clearInterval(t);
        reject(new Error('timed out waiting for the rules file to be applied'));
      }
    }, 20);
  });
}

describe('watchRulesFile', () => {
  it('applies a changed file without restart and refuses a bad one, keeping the old rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-watch-'));
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify({ rules: { input_errors: { minCount: 7 } } }));
    const mon = createMonitor();
    const errors: Error[] = [];
    let reloads = 0;
    const w = watchRulesFile(file, mon, (e) => errors.push(e), {
      debounceMs: 50,
      onReload: () => reloads++,
    });
    try {
      writeFileSync(file, JSON.stringify({ rules: { input_errors: { minCount: 8 } } }));
      await waitFor(() => mon.rules.rules.input_errors.minCount === 8);

      writeFileSync(file, JSON.stringify({ rules: { input_errors: { minCount: 'many' } } }));
      await waitFor(() => errors.length > 0);
      expect(errors[0]!.message).toMatch(/rules\.json: rules\.input_errors\.minCount/);
      expect(mon.rules.rules.input_errors.minCount).toBe(8);

      // Editors replace the file (write a temp, rename over): still picked up.
      const tmp = join(dir, 'rules.json.tmp');
      writeFileSync(tmp, 'not json at all');
      writeFileSync(join(dir, 'other.json'), '{}');
      writeFileSync(tmp, JSON.stringify({ rules: { input_errors: { minCount: 9 } } }));
      renameSync(tmp, file);
      await waitFor(() => mon.rules.rules.input_errors.minCount === 9);
      expect(reloads).toBeGreaterThanOrEqual(2);
    } finally {
      w.close();
    }
  });
});
