import type { ViewParams } from './url-state';

/**
 * The time range of an entity page, as Grafana has it: a relative range that follows the
 * present (`range=24h`, the default 1h), or an absolute one (`from` and `to`, whole minutes in
 * ISO 8601 UTC) that stays put; both in the URL, so a link shows the same span.
 */
export const RANGES: Readonly<Record<string, number>> = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};
export const DEFAULT_RANGE = '1h';
/** the widest absolute range the board asks for (what ClickHouse keeps: RETENTION 30 days) */
export const MAX_RANGE_MS = 31 * 86_400_000;

export interface TimeRange {
  from: number;
  to: number;
  /** relative: it follows the present (redrawn on a timer) */
  live: boolean;
}

/** The range the params name at `now`: absolute when from and to are both valid, else relative. */
export function resolveRange(p: ViewParams, now: number): TimeRange {
  if (p.from !== undefined && p.to !== undefined) {
    return { from: Date.parse(p.from), to: Date.parse(p.to), live: false };
  }
  const span = RANGES[p.range ?? DEFAULT_RANGE] ?? RANGES[DEFAULT_RANGE]!;
  return { from: now - span, to: now, live: true };
}

const WINDOW_MS: Readonly<Record<string, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
};

/**
 * The stats window a chart over `spanMs` plots: the one picked, or a wider one when the range is
 * long (a month of 1m rates at a point every 45 min would be samples of single minutes, not the
 * trend): up to 3 h any, up to 2 days at least 15m, beyond that 1h.
 */
export function chartWindow(spanMs: number, picked: string): string {
  const at = (w: string) => ((WINDOW_MS[picked] ?? 0) >= WINDOW_MS[w]! ? picked : w);
  if (spanMs <= 3 * 3_600_000) return picked;
  if (spanMs <= 2 * 86_400_000) return at('15m');
  return '1h';
}

/** `2026-12-05T02:00Z`: a whole minute, as the URL carries it. */
export function isoMinute(ms: number): string {
  return `${new Date(Math.floor(ms / 60_000) * 60_000).toISOString().slice(0, 16)}Z`;
}

/** The URL's from/to when both parse, from < to, and the span is at most MAX_RANGE_MS. */
export function validAbsolute(from: string, to: string): boolean {
  const f = Date.parse(from);
  const t = Date.parse(to);
  return Number.isFinite(f) && Number.isFinite(t) && f < t && t - f <= MAX_RANGE_MS;
}
