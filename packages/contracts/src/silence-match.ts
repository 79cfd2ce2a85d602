import { z } from 'zod';

/**
 * A silence's daily window (a maintenance slot: 02:00-04:00 at +08:00 on weekdays): the local
 * time of day it starts and ends in a fixed UTC offset, and the days of the week (0 = Sunday)
 * it starts on, all days when absent. An end before the start wraps past midnight (22:00-02:00,
 * the morning part belonging to the day before); start = end is the whole day.
 */
/** a time of day, `HH:MM` (the rules' silences file takes the same) */
export const hhmmSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 00:00..23:59');
/** a fixed UTC offset, `+08:00`; UTC when absent */
export const utcOffsetSchema = z
  .string()
  .regex(/^[+-]([01]\d|2[0-3]):[0-5]\d$/, '+HH:MM or -HH:MM')
  .default('+00:00');
export const silenceRecurrenceSchema = z.strictObject({
  days: z.array(z.number().int().min(0).max(6)).min(1).max(7).optional(),
  start: hhmmSchema,
  end: hhmmSchema,
  utcOffset: utcOffsetSchema,
});
export type SilenceRecurrence = z.output<typeof silenceRecurrenceSchema>;

/** A daily window made ready for matching (compileRecurrence). */
export interface CompiledRecurrence {
  days?: ReadonlySet<number>;
  startMin: number;
  endMin: number;
  offsetMs: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const minutes = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

export function compileRecurrence(r: {
  days?: readonly number[] | undefined;
  start: string;
  end: string;
  utcOffset?: string | undefined;
}): CompiledRecurrence {
  const offset = r.utcOffset ?? '+00:00';
  const sign = offset.startsWith('-') ? -1 : 1;
  return {
    ...(r.days ? { days: new Set(r.days) } : {}),
    startMin: minutes(r.start),
    endMin: minutes(r.end),
    offsetMs: sign * minutes(offset.slice(1)) * MINUTE,
  };
}

/** Whether `ts` (epoch ms) falls in the daily window. */
export function inRecurrence(c: CompiledRecurrence, ts: number): boolean {
  const local = ts + c.offsetMs;
  const dayIndex = Math.floor(local / DAY);
  const minuteOfDay = Math.floor((local - dayIndex * DAY) / MINUTE);
  // 1970-01-01 was a Thursday (4).
  const weekday = (d: number) => (((d + 4) % 7) + 7) % 7;
  if (c.startMin === c.endMin) return c.days ? c.days.has(weekday(dayIndex)) : true;
  if (c.startMin < c.endMin) {
    if (minuteOfDay < c.startMin || minuteOfDay >= c.endMin) return false;
    return !c.days || c.days.has(weekday(dayIndex));
  }
  // Wraps midnight: either the evening part (window started today) or the morning part
  // (window started yesterday); `days` names the day the window starts on.
  if (minuteOfDay >= c.startMin) return !c.days || c.days.has(weekday(dayIndex));
  if (minuteOfDay < c.endMin) return !c.days || c.days.has(weekday(dayIndex - 1));
  return false;
}

/**
 * Whether a silence mutes an alert at `now` (epoch ms): every matcher it has equals the
 * alert's field, `now` is in [startsAt, endsAt), and in its daily window when it has one. One
 * rule for the gateway (which marks the alerts it stores) and the board (which marks at once
 * those a new silence mutes); the processor's silences (@tillwatch/rules) use the same window.
 */
export interface SilenceWindow {
  matchers: { rule?: string; scope?: string; key?: string; merchantId?: string; region?: string };
  startsAt: string;
  endsAt: string;
  recurring?: SilenceRecurrence | undefined;
}

/** Whether a silence is in force at `now`: in [startsAt, endsAt), and in its daily window. */
export function silenceInForce(s: Omit<SilenceWindow, 'matchers'>, now: number): boolean {
  if (now < Date.parse(s.startsAt) || now >= Date.parse(s.endsAt)) return false;
  return !s.recurring || inRecurrence(compileRecurrence(s.recurring), now);
}

export function silenceMatches(
  s: SilenceWindow,
  a: { rule: string; scope: string; key: string; merchantId?: string; region?: string },
  now: number,
): boolean {
  if (!silenceInForce(s, now)) return false;
  const m = s.matchers;
  return (
    (m.rule === undefined || m.rule === a.rule) &&
    (m.scope === undefined || m.scope === a.scope) &&
    (m.key === undefined || m.key === a.key) &&
    (m.merchantId === undefined || m.merchantId === a.merchantId) &&
    (m.region === undefined || m.region === a.region)
  );
}
