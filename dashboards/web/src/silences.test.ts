import { describe, expect, it } from 'vitest';
import { silenceMatches, silenceState, type Silence } from './silences';

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
});
