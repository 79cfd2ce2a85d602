import { describe, expect, it } from 'vitest';
import { silenceMatches, type TerminalEvent } from '@tillwatch/contracts';
import type { AlertRecord } from './episodes';
import { createMonitor } from './monitor';
import { SilenceSet, fromStoredSilence, type SilenceInput } from './silences';
import { smallFleet, stream, T0 } from './testing';

const t = { rule: 'terminal_fault_spike', scope: 'terminal', key: 'T0042' } as const;
const at = (iso: string) => Date.parse(iso);

describe('silence matching', () => {
  it('by rule, scope, exact or glob key and absolute range', () => {
    const s = new SilenceSet([
      {
        id: 'a',
        rule: 'terminal_*',
        key: 'T00*',
        from: '2026-03-02T00:00:00Z',
        until: '2026-03-03T00:00:00Z',
      },
    ]);
    expect(s.match(t, at('2026-03-02T10:00:00Z'))?.id).toBe('a');
    expect(s.match(t, at('2026-03-03T00:00:00Z'))).toBeUndefined(); // until is exclusive
    expect(s.match({ ...t, key: 'T1042' }, at('2026-03-02T10:00:00Z'))).toBeUndefined();
    expect(
      s.match(
        { ...t, rule: 'regional_outage', scope: 'region', key: 'T00' },
        at('2026-03-02T10:00:00Z'),
      ),
    ).toBeUndefined();
    const exact = new SilenceSet([{ scope: 'region', key: 'CN-44-SZ' }]);
    expect(
      exact.match({ rule: 'regional_outage', scope: 'region', key: 'CN-44-SZ' }, 0),
    ).toBeDefined();
    expect(
      exact.match({ rule: 'regional_outage', scope: 'region', key: 'CN-44-GZ' }, 0),
    ).toBeUndefined();
  });

  it('recurring nightly maintenance 02:00-04:00 at +08:00 on weekdays', () => {
    const s = new SilenceSet([
      {
        rule: 'terminal_silent',
        recurring: {
          start: '02:00',
          end: '04:00',
          utcOffset: '+08:00',
          days: ['mon', 'tue', 'wed', 'thu', 'fri'],
        },
      },
    ]);
    const silent = { rule: 'terminal_silent', scope: 'terminal', key: 'T1' } as const;
    // Monday 2026-03-02 02:30 local = Sunday 18:30 UTC.
    expect(s.match(silent, at('2026-03-01T18:30:00Z'))).toBeDefined();
    expect(s.match(silent, at('2026-03-01T20:00:00Z'))).toBeUndefined(); // 04:00 local: over
    expect(s.match(silent, at('2026-03-01T17:59:00Z'))).toBeUndefined(); // 01:59 local
    // Sunday 2026-03-08 02:30 local: not a weekday.
    expect(s.match(silent, at('2026-03-07T18:30:00Z'))).toBeUndefined();
  });

  it('a window across midnight belongs to the day it starts', () => {
    const s = new SilenceSet([{ recurring: { start: '23:00', end: '01:00', days: ['fri'] } }]);
    expect(s.match(t, at('2026-03-06T23:30:00Z'))).toBeDefined(); // Friday 23:30 UTC
    expect(s.match(t, at('2026-03-07T00:30:00Z'))).toBeDefined(); // Saturday 00:30, started Friday
    expect(s.match(t, at('2026-03-08T00:30:00Z'))).toBeUndefined(); // Sunday 00:30, started Saturday
  });

  it('refuses a bad silence with the reason', () => {
    expect(() => new SilenceSet([{ recurring: { start: '25:00', end: '01:00' } }])).toThrow(
      /recurring\.start/,
    );
    expect(() => new SilenceSet([{ rule: 'no_such_rule' }])).toThrow(/matches no rule/);
    expect(() => new SilenceSet([{ from: 10, until: 5 }])).toThrow(/from must be before until/);
  });
});

describe('silenced alerts are recorded, not sent', () => {
  const H = 3_600_000;
  const fleet = smallFleet({ rate: 2 });
  const evs = stream(fleet, T0, T0 + 4 * H, (ev, term, rnd): TerminalEvent =>
    term.id === 'T3_0' &&
    ev.type === 'auth' &&
    ev.ts >= T0 + 2 * H &&
    ev.ts < T0 + 3 * H &&
    rnd() < 0.4
      ? { ...ev, responseCode: '58' }
      : ev,
  );
  const run = (silences: SilenceInput[]) => {
    const mon = createMonitor({ silences });
    const sent: AlertRecord[] = [];
    const heard: AlertRecord[] = [];
    mon.on('alert', (a) => heard.push(a));
    const quiet: AlertRecord[] = [];
    const off = mon.on('silenced', (a) => quiet.push(a));
    for (const ev of evs) {
      mon.ingest(ev);
      sent.push(...mon.tick());
    }
    off();
    return { mon, sent, heard, quiet };
  };

  it('without a silence the alert is sent', () => {
    const { sent, heard } = run([]);
    expect(sent.filter((a) => a.key === 'T3_0').length).toBeGreaterThan(0);
    expect(heard).toEqual(sent);
  });

  it('with a matching silence it is kept from the sinks and recorded with silenced: true', () => {
    const { mon, sent, quiet } = run([{ id: 'maint', key: 'T3_*' }]);
    expect(sent.filter((a) => a.key === 'T3_0')).toEqual([]);
    expect(quiet.map((a) => [a.key, a.status, a.silenced])).toEqual([
      ['T3_0', 'firing', true],
      ['T3_0', 'resolved', true],
    ]);
    expect(mon.silenced()).toHaveLength(2);
    expect(mon.stats().silenced).toBe(2);
  });

  it('setSilences replaces the list at run time', () => {
    const mon = createMonitor();
    mon.setSilences([{ id: 'x', rule: 'card_testing' }]);
    expect(mon.silences.map((s) => s.id)).toEqual(['x']);
    expect(() => mon.setSilences([{ scope: 'planet' as never }])).toThrow(/scope/);
    expect(mon.silences.map((s) => s.id)).toEqual(['x']);
  });

  it('with a merchant matcher, only alerts of that merchant are kept from the sinks', () => {
    // T3_0 belongs to M3 (smallFleet): a silence on another merchant changes nothing
    expect(run([{ id: 'other', merchantId: 'M4' }]).sent.some((a) => a.key === 'T3_0')).toBe(true);
    const { sent, quiet } = run([{ id: 'shop', merchantId: 'M3' }]);
    expect(sent.filter((a) => a.key === 'T3_0')).toEqual([]);
    expect(quiet.some((a) => a.key === 'T3_0' && a.silenced)).toBe(true);
  });
});

describe('merchant and region matchers', () => {
  it("match the alert's merchant and region, never an alert without one", () => {
    const set = new SilenceSet([
      { id: 'm', merchantId: 'M00*' },
      { id: 'r', region: 'CN-44' },
    ]);
    expect(set.match({ ...t, merchantId: 'M0012' }, 0)?.id).toBe('m');
    expect(set.match({ ...t, merchantId: 'M1012' }, 0)).toBeUndefined();
    expect(set.match({ ...t, merchantId: 'M1012', region: 'CN-44' }, 0)?.id).toBe('r');
    expect(
      set.match({ rule: 'regional_outage', scope: 'region', key: 'CN-31', region: 'CN-31' }, 0),
    ).toBeUndefined();
  });

  it('fromStoredSilence keeps every matcher of a gateway silence and its range', () => {
    const s = fromStoredSilence({
      id: 's1',
      matchers: { rule: 'terminal_fault_spike', merchantId: 'M0001', region: 'CN-44' },
      startsAt: '2026-03-02T00:00:00.000Z',
      endsAt: '2026-03-02T02:00:00.000Z',
      comment: 'maintenance',
    });
    expect(s).toEqual({
      id: 's1',
      rule: 'terminal_fault_spike',
      merchantId: 'M0001',
      region: 'CN-44',
      from: Date.parse('2026-03-02T00:00:00.000Z'),
      until: Date.parse('2026-03-02T02:00:00.000Z'),
      comment: 'maintenance',
    });
    const set = new SilenceSet([s]);
    const at1 = Date.parse('2026-03-02T01:00:00.000Z');
    expect(set.match({ ...t, merchantId: 'M0001', region: 'CN-44' }, at1)?.id).toBe('s1');
    expect(set.match({ ...t, merchantId: 'M0002', region: 'CN-44' }, at1)).toBeUndefined();
    expect(
      set.match({ ...t, merchantId: 'M0001', region: 'CN-44' }, at1 + 3_600_000),
    ).toBeUndefined();
  });

  it("fromStoredSilence keeps a gateway silence's daily window, matched as the gateway matches it", () => {
    const stored = {
      id: 's2',
      matchers: { region: 'CN-44' },
      startsAt: '2026-03-01T00:00:00.000Z',
      endsAt: '2026-04-01T00:00:00.000Z',
      // 22:00-02:00 Beijing time, windows starting Monday to Friday
      recurring: { days: [1, 2, 3, 4, 5], start: '22:00', end: '02:00', utcOffset: '+08:00' },
    };
    const set = new SilenceSet([fromStoredSilence(stored)]);
    const a = { ...t, region: 'CN-44' };
    // every 10 minutes of March: the processor's verdict equals the board's and the gateway's
    let muted = 0;
    for (let ts = Date.parse(stored.startsAt); ts < Date.parse(stored.endsAt); ts += 600_000) {
      const here = set.match(a, ts) !== undefined;
      expect(here).toBe(silenceMatches(stored, { ...a, scope: 'terminal' }, ts));
      if (here) muted++;
    }
    // 22 windows starting on weekdays in March 2026, 4 h each, 6 checks an hour
    expect(muted).toBe(22 * 4 * 6);
  });
});
