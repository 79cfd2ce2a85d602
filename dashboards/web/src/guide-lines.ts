import type { RulesReport } from './types';

/**
 * The lines a terminal's fault-rate chart draws beside it: terminal_fault_spike's reference and
 * threshold. The rule compares a terminal with its own learned baseline when it has one, else
 * with the fleet's rate in the same window (packages/rules/src/rules/rate-rule.ts); the board
 * has the fleet's series, so it draws that (named so in the legend), and the rule's threshold
 * over it: max(baseline × factor, baseline + minExcess). The rule fires on the lower bound of
 * the rate (z), so a point above the line is not yet an alert by itself.
 */
export interface SpikeParams {
  factor: number;
  minExcess: number;
}

/** terminal_fault_spike's factor and minExcess from GET /api/rules, when it runs. */
export function spikeParams(r: RulesReport): SpikeParams | undefined {
  const rule = r.rules.find((x) => x.rule === 'terminal_fault_spike');
  if (!rule?.enabled) return undefined;
  const num = (name: string) => {
    const v = rule.thresholds.find((f) => f.name === name)?.value;
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const factor = num('factor');
  const minExcess = num('minExcess');
  return factor !== undefined && minExcess !== undefined ? { factor, minExcess } : undefined;
}

/**
 * Per x (epoch ms, ascending), the fleet's rate at the newest fleet point not after it (the
 * first one before the fleet's first point), and the threshold over it. Undefined without
 * fleet points.
 */
export function spikeLines(
  xs: readonly number[],
  fleet: readonly { ts: number; rate: number }[],
  p: SpikeParams,
): { baseline: number[]; threshold: number[] } | undefined {
  if (fleet.length === 0) return undefined;
  const baseline: number[] = [];
  let j = 0;
  for (const x of xs) {
    while (j + 1 < fleet.length && fleet[j + 1]!.ts <= x) j++;
    baseline.push(fleet[j]!.rate);
  }
  return {
    baseline,
    threshold: baseline.map((b) => Math.max(b * p.factor, b + p.minExcess)),
  };
}
