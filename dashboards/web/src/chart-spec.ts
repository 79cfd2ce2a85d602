/**
 * What the alert view's trend chart plots, decided from the alert: the stored series of the
 * alert's own metric where the gateway keeps one (then its threshold and baseline are drawn),
 * else the fault rate, said to be the fault rate and not the alert's metric. Times are 24-hour
 * in the reader's time zone, which the title names.
 */
export type SeriesField = 'faultRate' | 'failureRate' | 'reversalRate' | 'noSettlementRate';

/** the alert metrics the stored series hold (packages/contracts/src/rates.ts: a RateRow's rates) */
const OWN: Record<string, SeriesField> = {
  no_settlement_rate: 'noSettlementRate',
  reversal_rate: 'reversalRate',
};

export interface ChartSpec {
  field: SeriesField;
  /** the series is the alert's metric: draw its threshold and baseline */
  own: boolean;
  window: string;
  threshold?: number;
  baseline?: number;
}

export function chartSpec(a: {
  metric: string;
  window: string;
  threshold: number;
  baseline: number;
}): ChartSpec {
  const own = OWN[a.metric];
  // the stats windows the gateway keeps (1m, 5m, 15m, 1h); an alert judged on another plots 1m
  const window = ['1m', '5m', '15m', '1h'].includes(a.window) ? a.window : '1m';
  if (own) return { field: own, own: true, window, threshold: a.threshold, baseline: a.baseline };
  return { field: 'faultRate', own: false, window };
}

/** "14:05" in the reader's zone, never am/pm */
export function hhmm(epochSec: number, timeZone?: string): string {
  return new Date(epochSec * 1000).toLocaleTimeString('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    ...(timeZone ? { timeZone } : {}),
  });
}

/** `12-05 14:30`: month, day and 24-hour time in `timeZone` (a chart over days). */
export function dayHhmm(epochSec: number, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    ...(timeZone ? { timeZone } : {}),
  }).formatToParts(new Date(epochSec * 1000));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

export function readerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
