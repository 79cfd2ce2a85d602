import { describe, expect, it } from 'vitest';
import {
  describeRecurrence,
  localUtcOffset,
  silenceMatches,
  silenceState,
  type Silence,
} from './silences';

const s = (m: Silence['matchers']): Silence => ({
  id: 's1',
  matchers: m,
  startsAt: '2026-11-11T00:00:00Z',
  endsAt: '2026-11-11T02:00:00Z',
  comment: 'maintenance',
  createdBy: 'a',
  createdAt: '2026-11-10T23:00:00Z',
});
const alert = {
  rule: 'regional_outage',
  scope: 'region',
  key: 'CN-31',
  merchantId: undefined,
  region: 'CN-31',
} as const;
const at = Date.parse('2026-11-11T01:00:00Z');

describe('silences on the board', () => {
  it('mute an alert when every matcher they have equals its field, inside their range', () => {
    expect(silenceMatches(s({ region: 'CN-31' }), alert, at)).toBe(true);
    expect(silenceMatches(s({ region: 'CN-31', rule: 'regional_outage' }), alert, at)).toBe(true);
    expect(silenceMatches(s({ region: 'CN-31', rule: 'card_testing' }), alert, at)).toBe(false);
    expect(silenceMatches(s({ region: 'CN-31' }), alert, Date.parse('2026-11-11T02:00:00Z'))).toBe(
      false,
    );
  });
  it('are scheduled, active or expired', () => {
    expect(silenceState(s({}), Date.parse('2026-11-10T23:59:59Z'))).toBe('scheduled');
    expect(silenceState(s({}), at)).toBe('active');
    expect(silenceState(s({}), Date.parse('2026-11-11T02:00:00Z'))).toBe('expired');
  });
  it('with a daily window: active inside it, between windows outside it', () => {
    const nightly = {
      ...s({ region: 'CN-31' }),
      recurring: { start: '00:30', end: '01:30', utcOffset: '+00:00' },
    };
    expect(silenceState(nightly, at)).toBe('active');
    expect(silenceState(nightly, Date.parse('2026-11-11T00:10:00Z'))).toBe('idle');
    expect(silenceMatches(nightly, alert, Date.parse('2026-11-11T00:10:00Z'))).toBe(false);
  });
  it('say a daily window in words, and the reader’s offset as the API takes it', () => {
    const names = 'Sun,Mon,Tue,Wed,Thu,Fri,Sat'.split(',');
    const w = { start: '22:00', end: '02:00', utcOffset: '+08:00' };
    expect(describeRecurrence({ ...w, days: [5, 1, 2, 3, 4] }, names)).toBe(
      'Mon–Fri 22:00–02:00 (+08:00)',
    );
    expect(describeRecurrence({ ...w, days: [6, 0] }, names)).toBe('Sat, Sun 22:00–02:00 (+08:00)');
    expect(describeRecurrence(w, names)).toBe('22:00–02:00 (+08:00)');
    // getTimezoneOffset is minutes behind UTC: -480 at +08:00, 330 at -05:30
    const d = { getTimezoneOffset: () => -480 } as Date;
    expect(localUtcOffset(d)).toBe('+08:00');
    expect(localUtcOffset({ getTimezoneOffset: () => 330 } as Date)).toBe('-05:30');
  });
});
