import { z } from 'zod';

/**
 * Times the REST API accepts (since, until, startsAt, endsAt, ...): one parser for every route
 * the gateway serves, the webhook routes included, so each refuses the same inputs with a 400
 * in the shared error shape naming the parameter (api-errors.ts).
 *
 * A real date range, not whatever Number() or Date can hold: before it, `since=` and
 * `since=%20` became 0 (Number('') is 0), `since=0x10` was 16, and `since=8640000000000001`
 * passed as an integer and failed in the store as a 500. ClickHouse's DateTime ends in 2106;
 * nothing this monitor holds is older than 2000.
 */
export const TIME_MIN_MS = Date.UTC(2000, 0, 1);
export const TIME_MAX_MS = Date.UTC(2100, 0, 1);

const DIGITS = /^\d+$/;
const iso = z.iso.datetime({ offset: true });
const RANGE = `${new Date(TIME_MIN_MS).toISOString()} .. ${new Date(TIME_MAX_MS).toISOString()}`;
const SHAPE =
  'a time: epoch milliseconds in decimal digits, or ISO-8601 with an offset (2026-11-11T08:00:00+08:00)';

/** `s` as epoch ms, or why it is not a time this API takes. */
export function parseApiTime(s: string): { ok: true; ms: number } | { ok: false; reason: string } {
  let ms: number;
  if (DIGITS.test(s)) ms = Number(s);
  else if (iso.safeParse(s).success) ms = Date.parse(s);
  else return { ok: false, reason: `expected ${SHAPE}` };
  if (!Number.isFinite(ms) || ms < TIME_MIN_MS || ms > TIME_MAX_MS) {
    return { ok: false, reason: `out of range: a time from ${RANGE}` };
  }
  return { ok: true, ms };
}

const apiTime = z
  .string()
  .describe(`${SHAPE}, from ${RANGE}`)
  .transform((s, ctx) => {
    const r = parseApiTime(s);
    if (r.ok) return r.ms;
    ctx.addIssue({ code: 'custom', message: r.reason, input: s });
    return z.NEVER;
  });

/** A time query parameter → epoch ms. */
export const timeParam = apiTime;

/** A time query parameter → ISO-8601 in UTC, for handlers that keep times as text. */
export const isoTimeParam = apiTime.transform((ms) => new Date(ms).toISOString());

/**
 * A time in a JSON body: ISO-8601 with an offset, within the same range, kept as sent (a
 * silence's end or a replay's start is stored as the text the user gave).
 */
export const isoTimeField = iso.describe(`ISO-8601 with an offset, from ${RANGE}`).refine(
  (s) => {
    const ms = Date.parse(s);
    return Number.isFinite(ms) && ms >= TIME_MIN_MS && ms <= TIME_MAX_MS;
  },
  // only once the text is a time: 'soon' gets one issue (not ISO-8601), not two
  { message: `out of range: a time from ${RANGE}`, when: (p) => p.issues.length === 0 },
);
