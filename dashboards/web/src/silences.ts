/** A silence as the gateway returns it (GET /api/silences). */
export interface Silence {
  id: string;
  matchers: { rule?: string; scope?: string; key?: string; merchantId?: string; region?: string };
  startsAt: string;
  endsAt: string;
  comment: string;
  createdBy: string;
  createdAt: string;
}

export { silenceMatches } from '@tillwatch/contracts';

export function silenceState(s: Silence, now: number): 'active' | 'scheduled' | 'expired' {
  if (now < Date.parse(s.startsAt)) return 'scheduled';
  return now < Date.parse(s.endsAt) ? 'active' : 'expired';
}
