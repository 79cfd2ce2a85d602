import { silenceInForce, type SilenceRecurrence } from '@tillwatch/contracts';

/** A silence as the gateway returns it (GET /api/silences). */
export interface Silence {
  id: string;
  matchers: { rule?: string; scope?: string; key?: string; merchantId?: string; region?: string };
  startsAt: string;
  endsAt: string;
  /** a daily window within the range (days 0 = Sunday) */
  recurring?: SilenceRecurrence;
  comment: string;
  createdBy: string;
  createdAt: string;
}

export { silenceMatches } from '@tillwatch/contracts';

/** scheduled: not begun; idle: within its range, between two of its daily windows */
export function silenceState(s: Silence, now: number): 'active' | 'idle' | 'scheduled' | 'expired' {
  if (now < Date.parse(s.startsAt)) return 'scheduled';
  if (now >= Date.parse(s.endsAt)) return 'expired';
  return silenceInForce(s, now) ? 'active' : 'idle';
}

/** The reader's UTC offset now, as a daily window takes it: '+08:00'. */
export function localUtcOffset(d = new Date()): string {
  const m = -d.getTimezoneOffset();
  const two = (n: number) => String(Math.floor(n)).padStart(2, '0');
  return `${m < 0 ? '-' : '+'}${two(Math.abs(m) / 60)}:${two(Math.abs(m) % 60)}`;
}

/** 'Mon–Fri 22:00–02:00 (+08:00)': a daily window for people, days in the reader's language. */
export function describeRecurrence(r: SilenceRecurrence, dayNames: readonly string[]): string {
  const days = r.days ? [...r.days].sort((a, b) => ((a + 6) % 7) - ((b + 6) % 7)) : undefined;
  let which = '';
  if (days && days.length < 7) {
    // a run of consecutive days (Monday first) as "Mon–Fri", else a list
    const order = days.map((d) => (d + 6) % 7);
    const run = order.every((d, i) => i === 0 || d === order[i - 1]! + 1);
    which =
      run && days.length > 2
        ? `${dayNames[days[0]!]}–${dayNames[days.at(-1)!]} `
        : `${days.map((d) => dayNames[d]).join(', ')} `;
  }
  return `${which}${r.start}–${r.end} (${r.utcOffset})`;
}
