/**
 * Whether a silence mutes an alert at `now` (epoch ms): every matcher it has equals the
 * alert's field, and `now` is in [startsAt, endsAt). One rule for the gateway (which marks the
 * alerts it stores) and the board (which marks at once those a new silence mutes).
 */
export interface SilenceWindow {
  matchers: { rule?: string; scope?: string; key?: string; merchantId?: string; region?: string };
  startsAt: string;
  endsAt: string;
}

export function silenceMatches(
  s: SilenceWindow,
  a: { rule: string; scope: string; key: string; merchantId?: string; region?: string },
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
