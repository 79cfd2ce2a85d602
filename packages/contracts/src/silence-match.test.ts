import { describe, expect, it } from 'vitest';
import { silenceMatches, silenceRecurrenceSchema, type SilenceWindow } from './silence-match';

const alert = { rule: 'regional_outage', scope: 'region', key: 'CN-44', region: 'CN-44' };
// Monday 2026-12-07, times in UTC; +08:00 is the stores' local time
const at = (iso: string) => Date.parse(iso);

describe('silenceMatches with a daily window', () => {
  const nightly: SilenceWindow = {
    matchers: { region: 'CN-44' },
    startsAt: '2026-12-01T00:00:00Z',
    endsAt: '2027-01-01T00:00:00Z',
    // 22:00-02:00 Beijing time, on windows starting Monday to Friday
    recurring: silenceRecurrenceSchema.parse({
      days: [1, 2, 3, 4, 5],
      start: '22:00',
      end: '02:00',
      utcOffset: '+08:00',
    }),
  };

  it('mutes inside the window, also past midnight, on the days it starts', () => {
    expect(silenceMatches(nightly, alert, at('2026-12-07T14:00:00Z'))).toBe(true); // Mon 22:00
    expect(silenceMatches(nightly, alert, at('2026-12-07T17:59:00Z'))).toBe(true); // Tue 01:59
    expect(silenceMatches(nightly, alert, at('2026-12-07T18:00:00Z'))).toBe(false); // Tue 02:00
    expect(silenceMatches(nightly, alert, at('2026-12-07T13:59:00Z'))).toBe(false); // Mon 21:59
  });

  it('not on a day it does not start on, nor outside its absolute range', () => {
    // Saturday 23:00 local: the window of Saturday does not exist
    expect(silenceMatches(nightly, alert, at('2026-12-12T15:00:00Z'))).toBe(false);
    // Saturday 01:00 local belongs to Friday's window
    expect(silenceMatches(nightly, alert, at('2026-12-11T17:00:00Z'))).toBe(true);
    // a Monday night after endsAt
    expect(silenceMatches(nightly, alert, at('2027-01-04T14:30:00Z'))).toBe(false);
  });

  it('refuses a malformed window and takes UTC when no offset is given', () => {
    expect(silenceRecurrenceSchema.safeParse({ start: '24:00', end: '02:00' }).success).toBe(false);
    expect(
      silenceRecurrenceSchema.safeParse({ start: '01:00', end: '02:00', days: [] }).success,
    ).toBe(false);
    expect(
      silenceRecurrenceSchema.safeParse({ start: '01:00', end: '02:00', days: [7] }).success,
    ).toBe(false);
    expect(silenceRecurrenceSchema.parse({ start: '01:00', end: '02:00' }).utcOffset).toBe(
      '+00:00',
    );
  });
});
