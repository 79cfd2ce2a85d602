import { describe, expect, it } from 'vitest';
import { spikeLines, spikeParams } from './guide-lines';
import type { RulesReport } from './types';

const report = (enabled: boolean, thresholds: { name: string; value: unknown }[]) =>
  ({
    rules: [{ rule: 'terminal_fault_spike', enabled, thresholds }],
  }) as unknown as RulesReport;

describe('terminal_fault_spike lines', () => {
  it('reads factor and minExcess from the rules in force, nothing when the rule is off', () => {
    const t = [
      { name: 'factor', value: 4 },
      { name: 'minExcess', value: 0.05 },
    ];
    expect(spikeParams(report(true, t))).toEqual({ factor: 4, minExcess: 0.05 });
    expect(spikeParams(report(false, t))).toBeUndefined();
    expect(spikeParams(report(true, [{ name: 'factor', value: '4' }]))).toBeUndefined();
  });

  it('takes the fleet rate in force at each x and the larger of the two thresholds', () => {
    const fleet = [
      { ts: 100, rate: 0.01 },
      { ts: 200, rate: 0.03 },
    ];
    const lines = spikeLines([50, 100, 150, 200, 300], fleet, { factor: 4, minExcess: 0.05 })!;
    expect(lines.baseline).toEqual([0.01, 0.01, 0.01, 0.03, 0.03]);
    // 0.01: 0.01 + 0.05 beats 4 × 0.01; 0.03: 4 × 0.03 = 0.12 beats 0.08
    expect(lines.threshold.map((v) => Math.round(v * 1000) / 1000)).toEqual([
      0.06, 0.06, 0.06, 0.12, 0.12,
    ]);
    expect(spikeLines([1], [], { factor: 4, minExcess: 0.05 })).toBeUndefined();
  });
});
