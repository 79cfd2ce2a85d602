/**
 * Retry schedule and response classification. Pure functions: time and randomness are
 * arguments, so tests compress the schedule and pin the jitter.
 */

const S = 1000;
const M = 60 * S;
const H = 60 * M;

/**
 * Delay before each attempt, Standard Webhooks / Svix style: immediately, 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h. Eight attempts over ~27.6 h, so a receiver down for a day still gets
 * everything.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  0,
  5 * S,
  5 * M,
  30 * M,
  2 * H,
  5 * H,
  10 * H,
  10 * H,
];

/** ±20 %: spreads the retries of an outage's backlog so a recovering endpoint is not hit at once. */
export const DEFAULT_JITTER = 0.2;

/** Standard Webhooks asks senders to give up on a request after at most 15 s. */
export const MAX_TIMEOUT_MS = 15_000;

/** Parse "0, 5s, 5m, 30m, 2h" into milliseconds. */
export function parseSchedule(text: string): number[] {
  const out = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(part);
      if (!m) throw new Error(`bad delay "${part}": use e.g. 0, 500ms, 5s, 5m, 2h`);
      const unit = { ms: 1, s: S, m: M, h: H, d: 24 * H }[(m[2] ?? 'ms') as 'ms'];
      return Math.round(Number(m[1]) * unit);
    });
  if (out.length === 0) throw new Error('a retry schedule needs at least one attempt');
  return out;
}

/**
 * Delay before attempt number `attempt` (0-based), or undefined when the schedule is used up.
 * `random` is in [0, 1).
 */
export function delayBeforeAttempt(
  attempt: number,
  schedule: readonly number[],
  jitter: number,
  random: number,
): number | undefined {
  const base = schedule[attempt];
  if (base === undefined) return undefined;
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random - 1))));
}

/**
 * Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Milliseconds from `now`, or
 * undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number,
): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * S;
  const when = Date.parse(t);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, when - now);
}

/** Status codes whose Retry-After we honour. 503 is the header's home in RFC 9110. */
export const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export type ResponseVerdict =
  | 'delivered' // 2xx
  | 'gone' // 410: the receiver says the endpoint is gone for good: disable it
  | 'retry'; // anything else, including 3xx: redirects are never followed

export function classifyStatus(status: number | undefined): ResponseVerdict {
  if (status === undefined) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'gone';
  return 'retry';
}
