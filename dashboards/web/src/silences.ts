import type { Alert } from '@tillwatch/contracts';

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

/**
 * Whether a silence mutes an alert at `now`: every matcher it has equals the alert's, inside its
 * time range. The gateway's rule (services/gateway/src/store.ts silenceMatches), here so that a
 * silence made a moment ago shows on the alerts it mutes at once.
 */
export function silenceMatches(
  s: Silence,
  a: Pick<Alert, 'rule' | 'scope' | 'key' | 'merchantId' | 'region'>,
  now: number,
): boolean {
  if (now < Date.parse(s.startsAt) || now >= Date.parse(s.endsAt)) return false;
  const m = s.matchers;
  return (
    (m.rule === undefined || m.rule === a.rule) &&
    (m.scope === undefined || m.scope === a.scope) &&
    (m.key === undefined || m.key === a.key) &&
    (m.merchantId === undefined || m.merchantId === a.merchantId) &&
    (m.region === undefined || m.region === a.region)
  );
}

export function silenceState(s: Silence, now: number): 'active' | 'scheduled' | 'expired' {
  if (now < Date.parse(s.startsAt)) return 'scheduled';
  return now < Date.parse(s.endsAt) ? 'active' : 'expired';
}
