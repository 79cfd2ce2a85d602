import { describe, expect, it } from 'vitest';
import { EpisodeBook, type AlertRecord, type Signal } from './episodes';
import { SilenceSet } from './silences';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 2, 2, 0, 0);

function book(): EpisodeBook {
  return new EpisodeBook(
    {
      lang: 'en',
      holdMs: () => 5 * MIN,
      reopenGuardMs: 30 * MIN,
      unfoldAfterMs: () => 15 * MIN,
      updateGapMs: 5 * MIN,
    },
    new SilenceSet(),
  );
}

function signal(over: Partial<Signal>): Signal {
  return {
    rule: 'failed_but_charged',
    scope: 'terminal',
    key: 'T1',
    fire: false,
    clear: false,
    severity: 'warning',
    window: '1h',
    metric: 'unreversed',
    value: 1,
    threshold: 1,
    baseline: 0,
    count: 1,
    merchantId: 'M1',
    region: 'R1',
    evidence: () => ({}),
    ...over,
  };
}

describe('EpisodeBook', () => {
  it('resolves with the severity and confidence it last sent, not a verdict that never fired', () => {
    const b = book();
    const out: AlertRecord[] = [];
    b.apply(signal({ fire: true, severity: 'warning', confidence: 'medium' }), T0, out);
    // Neither firing nor clearing, but judged critical and sure: kept as the last verdict,
    // never sent (only a firing evaluation sends an escalation).
    b.apply(signal({ severity: 'critical', confidence: 'high', count: 2 }), T0 + MIN, out);
    expect(b.active().map((a) => [a.severity, a.confidence])).toEqual([['warning', 'medium']]);
    b.apply(signal({ clear: true, severity: 'critical', count: 0 }), T0 + 2 * MIN, out);
    b.apply(signal({ clear: true, severity: 'critical', count: 0 }), T0 + 8 * MIN, out);
    expect(out.map((a) => [a.status, a.severity, a.confidence])).toEqual([
      ['firing', 'warning', 'medium'],
      ['resolved', 'warning', 'medium'],
    ]);
    expect(out[0]!.alertId).toBe(out[1]!.alertId);
  });

  it('an escalation that fires is sent, and the resolve then carries it', () => {
    const b = book();
    const out: AlertRecord[] = [];
    b.apply(signal({ fire: true, severity: 'warning' }), T0, out);
    b.apply(signal({ fire: true, severity: 'critical', count: 2 }), T0 + MIN, out);
    b.apply(signal({ clear: true, severity: 'warning', count: 0 }), T0 + 2 * MIN, out);
    b.apply(signal({ clear: true, severity: 'warning', count: 0 }), T0 + 8 * MIN, out);
    expect(out.map((a) => [a.status, a.severity])).toEqual([
      ['firing', 'warning'],
      ['firing', 'critical'],
      ['resolved', 'critical'],
    ]);
  });

  it('a thin warning after a critical keeps the critical whole: never critical of medium confidence', () => {
    const b = book();
    const out: AlertRecord[] = [];
    b.apply(signal({ fire: true, severity: 'warning', confidence: 'medium' }), T0, out);
    b.apply(signal({ fire: true, severity: 'critical', count: 2 }), T0 + MIN, out);
    // the evidence thins again (a warning said early) while it grows fourfold: an update
    b.apply(
      signal({ fire: true, severity: 'warning', confidence: 'medium', count: 8 }),
      T0 + 7 * MIN,
      out,
    );
    b.apply(signal({ clear: true, count: 0 }), T0 + 8 * MIN, out);
    b.apply(signal({ clear: true, count: 0 }), T0 + 14 * MIN, out);
    expect(out.map((a) => [a.status, a.severity, a.confidence])).toEqual([
      ['firing', 'warning', 'medium'],
      ['firing', 'critical', undefined],
      ['firing', 'critical', undefined],
      ['resolved', 'critical', undefined],
    ]);
  });
});
