import { describe, expect, it } from 'vitest';
import { alertStreamFaults, type AlertTransition } from './alert-stream';

const t = (min: number) => new Date(Date.UTC(2026, 2, 2, 2, min)).toISOString();

function alert(over: Partial<AlertTransition> & { at: number }): AlertTransition {
  const { at, ...rest } = over;
  return {
    alertId: 'a1',
    rule: 'failed_but_charged',
    severity: 'warning',
    status: 'firing',
    scope: 'terminal',
    key: 'T1',
    merchantId: 'M1',
    region: 'R1',
    firstSeen: t(0),
    lastSeen: t(at),
    ts: t(at),
    ...rest,
  };
}

describe('alertStreamFaults', () => {
  it('passes an episode that fires, escalates and resolves as it was last sent', () => {
    expect(
      alertStreamFaults([
        alert({ at: 0, confidence: 'medium' }),
        alert({ at: 2, severity: 'critical' }),
        alert({ at: 9, status: 'resolved', severity: 'critical' }),
        // the same key may open again once the first episode is over
        alert({ at: 20, alertId: 'a2', firstSeen: t(20) }),
      ]),
    ).toEqual([]);
  });

  it('names each breach of the contract', () => {
    const faults = alertStreamFaults([
      alert({ at: 0, alertId: 'r', status: 'resolved' }),
      alert({ at: 0, confidence: 'medium' }),
      alert({ at: 1, alertId: 'a2' }),
      alert({ at: 2, severity: 'critical', confidence: 'low' }),
      alert({ at: 3, severity: 'warning' }),
      alert({ at: 4, status: 'resolved', severity: 'critical' }),
      alert({ at: 5, severity: 'critical' }),
      alert({ at: 1, alertId: 'a3', key: 'T9', merchantId: undefined }),
      alert({ at: 1, alertId: 'a4', key: 'T8', rule: 'firmware_regression' }),
      alert({ at: 2, alertId: 'a4', key: 'T7', rule: 'firmware_regression' }),
      alert({ at: 1, alertId: 'a4', key: 'T7', rule: 'firmware_regression' }),
    ]);
    const notOnTerminal = /firmware_regression is not raised on terminal/;
    expect(faults.map((f) => f.replace(/ \(.*\) at \S+:/, ':'))).toEqual(
      [
        [1, /an episode that begins with a resolve/],
        [3, /opens while a1 is still open for the same key/],
        [4, /critical with low confidence/],
        [5, /severity lowered from critical to warning/],
        [6, /resolves as critical, last sent as warning/],
        [7, /a transition after the resolve/],
        [8, /a terminal alert without its merchant and region/],
        [9, notOnTerminal],
        [10, notOnTerminal],
        [10, /key changed within the episode \(T8 → T7\)/],
        [11, notOnTerminal],
        [11, /key changed within the episode \(T8 → T7\)/],
        [11, /ts goes back from /],
      ].map(([n, re]) =>
        expect.stringMatching(
          new RegExp(`^#${n} [a-z_]+ [a-z_]+ [a-z]+/T\\d: ${(re as RegExp).source}`),
        ),
      ),
    );
  });

  it('a resolve that carries a severity or confidence never sent is a fault', () => {
    const faults = alertStreamFaults([
      alert({ at: 0, confidence: 'medium' }),
      alert({ at: 9, status: 'resolved', severity: 'critical' }),
    ]);
    expect(faults).toEqual([
      expect.stringMatching(/^#2 .*resolves as critical, last sent as warning/),
      expect.stringMatching(/^#2 .*resolves with high confidence, last sent with medium/),
    ]);
  });

  it('figures that JSON cannot carry, a lastSeen after ts, and alerts without advice are faults', () => {
    const faults = alertStreamFaults([
      { ...alert({ at: 0 }), value: Number.NaN, threshold: 1, baseline: Infinity },
      { ...alert({ at: 1, alertId: 'b', key: 'T2' }), probableCauses: [], actions: ['x'] },
      { ...alert({ at: 2, alertId: 'c', key: 'T3' }), ts: t(1) },
    ]);
    expect(faults).toEqual([
      expect.stringMatching(/^#1 .*: value is NaN$/),
      expect.stringMatching(/^#1 .*: baseline is Infinity$/),
      expect.stringMatching(/^#2 .*: no probableCauses$/),
      expect.stringMatching(/^#3 .*: lastSeen after ts$/),
    ]);
  });
});
