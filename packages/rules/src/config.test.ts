import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RULES_CONFIG,
  DEFAULT_RULES_PATH,
  RulesConfigError,
  loadRulesFile,
  parseRulesConfig,
} from './config';
import { createMonitor } from './monitor';

describe('rules configuration', () => {
  it('ships valid defaults as a file', () => {
    expect(loadRulesFile(DEFAULT_RULES_PATH)).toEqual(DEFAULT_RULES_CONFIG);
    expect(DEFAULT_RULES_CONFIG.rules.terminal_fault_spike.windows).toEqual(['15m', '1h']);
  });

  it('merges a partial file over the defaults', () => {
    const c = parseRulesConfig({ rules: { input_errors: { minCount: 9, enabled: false } } });
    expect(c.rules.input_errors.minCount).toBe(9);
    expect(c.rules.input_errors.enabled).toBe(false);
    expect(c.rules.input_errors.z).toBe(DEFAULT_RULES_CONFIG.rules.input_errors.z);
    expect(c.rules.card_testing).toEqual(DEFAULT_RULES_CONFIG.rules.card_testing);
  });

  it('refuses a bad value naming the field', () => {
    expect(() => parseRulesConfig({ rules: { card_testing: { minDistinctCards: 1 } } })).toThrow(
      /rules\.card_testing\.minDistinctCards/,
    );
    expect(() => parseRulesConfig({ hold: 'ten minutes' })).toThrow(/hold: a duration/);
    expect(() => parseRulesConfig({ rules: { nope: {} } })).toThrow(RulesConfigError);
    expect(() => parseRulesConfig({ rules: { input_errors: { minCont: 3 } } })).toThrow(/minCont/);
    expect(() => parseRulesConfig({ inhibit: { regional_outage: ['regional_outage'] } })).toThrow(
      /cannot inhibit itself/,
    );
    expect(() => parseRulesConfig([1])).toThrow(/object/);
  });

  it('loads YAML and JSON files and says which file is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-rules-'));
    const yaml = join(dir, 'rules.yaml');
    writeFileSync(yaml, 'hold: 20m\nrules:\n  terminal_silent:\n    minGap: 20m\n');
    const c = loadRulesFile(yaml);
    expect(c.hold).toBe('20m');
    expect(c.rules.terminal_silent.minGap).toBe('20m');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"hold": ');
    expect(() => loadRulesFile(bad)).toThrow(/bad\.json: cannot parse/);
    expect(() => loadRulesFile(join(dir, 'missing.json'))).toThrow(/cannot read/);
  });

  it('setRules keeps the old rules when the new ones are refused', () => {
    const mon = createMonitor();
    mon.setRules({ rules: { input_errors: { minCount: 11 } } });
    expect(mon.rules.rules.input_errors.minCount).toBe(11);
    expect(() => mon.setRules({ rules: { input_errors: { minCount: -1 } } })).toThrow(
      /input_errors\.minCount/,
    );
    // A window the engine does not keep is refused too.
    expect(() => mon.setRules({ rules: { input_errors: { windows: ['2m'] } } })).toThrow(
      /window 2m is not one of the engine's windows/,
    );
    expect(mon.rules.rules.input_errors.minCount).toBe(11);
    expect(mon.rules.rules.input_errors.windows).toEqual(['1h']);
  });
});
