import { describe, expect, it } from 'vitest';
import type { Alert } from '@tillwatch/contracts';
import { LocalTopology } from './topology';

describe('LocalTopology.setRules', () => {
  it('puts a rule set in force in every stage, or in none', () => {
    const t = new LocalTopology(
      { alert: (_a: Alert) => {} },
      { partitions: 3, rollupPartitions: 2 },
    );
    const updateEvery = () => [
      ...t.eventStages.map(
        (s) =>
          (s.monitor as unknown as { rules: { baseline: { updateEvery: string } } }).rules.baseline
            .updateEvery,
      ),
      ...t.rollupStages.map(
        (s) =>
          (s.monitor as unknown as { rules: { baseline: { updateEvery: string } } }).rules.baseline
            .updateEvery,
      ),
    ];
    expect(updateEvery()).toEqual(['5m', '5m', '5m', '5m', '5m']);

    t.setRules({ baseline: { updateEvery: '15m' } });
    expect(updateEvery()).toEqual(['15m', '15m', '15m', '15m', '15m']);

    // 5s is the event stages' one-pane window, which the rollup stages do not keep: the event
    // stages would take it, the rollup stages refuse it, so nobody keeps it
    expect(() => t.setRules({ baseline: { updateEvery: '5s' } })).toThrow(
      /not one of the engine's windows/,
    );
    expect(updateEvery()).toEqual(['15m', '15m', '15m', '15m', '15m']);
    expect(() => t.setRules({ rules: { no_such_rule: {} } } as never)).toThrow();
    expect(updateEvery()).toEqual(['15m', '15m', '15m', '15m', '15m']);
  });
});
