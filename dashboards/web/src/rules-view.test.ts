import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PARAMS, paramName, setLang } from './i18n';
import { factValue } from './views/rules';

/** The rules screen's settings are named facts in both languages, never raw keys. */
describe('rule settings on the rules screen', () => {
  afterEach(() => setLang('en'));

  it('every setting of the shipped rules has a name in English and Chinese', () => {
    const file = join(import.meta.dirname, '../../../packages/rules/src/default-rules.json');
    const rules = (JSON.parse(readFileSync(file, 'utf8')) as { rules: Record<string, object> })
      .rules;
    const leaves = new Set<string>();
    const walk = (o: object) => {
      for (const [k, v] of Object.entries(o)) {
        if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as object);
        else leaves.add(k);
      }
    };
    for (const r of Object.values(rules)) walk(r);
    // shown apart on the card, not as thresholds
    for (const k of ['severity', 'windows', 'hold']) leaves.delete(k);
    const missing = [...leaves].filter((k) => !PARAMS[k]?.en || !PARAMS[k]?.zh);
    expect(missing).toEqual([]);
  });

  it('names nested settings by their group, in the board’s language', () => {
    expect(paramName('minCount')).toBe('bad events, at least');
    expect(paramName('collapse.ratio')).toBe('Traffic collapse: observed / expected at most');
    setLang('zh');
    expect(paramName('collapse.ratio')).toBe('流量骤降: 实际/预期不高于');
    expect(paramName('someNewKey')).toBe('someNewKey');
  });

  it('reads values as facts: lists, flags, small p-values', () => {
    expect(factValue({ name: 'scopes', value: ['terminal', 'merchant'] })).toBe(
      'terminal, merchant',
    );
    expect(factValue({ name: 'enabled', value: true })).toBe('yes');
    expect(factValue({ name: 'pValue', value: 1e-7 })).toBe('10⁻⁷');
    expect(factValue({ name: 'pValue', value: 2.5e-5 })).toBe('2.5×10⁻⁵');
    expect(factValue({ name: 'z', value: 3.09 })).toBe('3.09');
    expect(factValue({ name: 'criticalRate', value: 0 })).toBe('0');
    setLang('zh');
    expect(factValue({ name: 'enabled', value: false })).toBe('否');
  });
});
