export function pct(x: number | undefined, digits = 1): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(digits)}%`;
}
export function int(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return Math.round(x).toLocaleString('en-US');
}
export function ratio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return `${Math.round(x * 100)}%`;
}
export function clock(iso: string | number): string {
  const d = new Date(iso);
  return d.toLocaleTimeString('en-GB', { hour12: false });
}
export function dateTime(iso: string | number): string {
  const d = new Date(iso);
  return `${d.toLocaleDateString('en-CA')} ${d.toLocaleTimeString('en-GB', { hour12: false })}`;
}
export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;
}
/** The metric value in the unit people read it in: rates as %, counts as numbers. */
export function metricValue(metric: string, v: number): string {
  return /rate|ratio/i.test(metric) && v <= 1.5 ? pct(v) : int(v);
}

/**
 * Severity colour of a region tile: fault rate and traffic collapse both count, the worse wins.
 * 0 = healthy, 1 = watch, 2 = degraded, 3 = outage signs.
 */
export function regionLevel(faultRate: number, volumeRatio: number | undefined): 0 | 1 | 2 | 3 {
  const byFault = faultRate >= 0.25 ? 3 : faultRate >= 0.1 ? 2 : faultRate >= 0.05 ? 1 : 0;
  const byVolume =
    volumeRatio === undefined
      ? 0
      : volumeRatio < 0.3
        ? 3
        : volumeRatio < 0.6
          ? 2
          : volumeRatio < 0.8
            ? 1
            : 0;
  return Math.max(byFault, byVolume) as 0 | 1 | 2 | 3;
}

/** A span as 24-hour local times in a named zone: "13:37–14:37 Asia/Shanghai". */
export function hourSpan(from: string | number, to: string | number, timeZone: string): string {
  const f = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone,
  });
  return `${f.format(new Date(from))}–${f.format(new Date(to))} ${timeZone}`;
}
