import type { IncidentLabel } from './types';

/** The parts of an alert (docs/contract.md §3) a label is matched on. */
export interface AlertLike {
  rule: string;
  scope: string;
  key: string;
  /** when the alert first fired: ISO-8601 or epoch ms (alerts carry ISO) */
  firstSeen: string | number;
}

export interface MatchOptions {
  /** accept an alert that fires this long before detectFrom (late events, pane edges); default 1 min */
  earlyMs?: number;
  /** accept an alert that fires this long after detectUntil (1 h windows lag); default 1 h */
  lateMs?: number;
}

/**
 * How an alert relates to a label: `primary` (the alert the incident must raise), `also` (a true
 * consequence listed in alsoMatches), or null (not this incident). Time: the alert must first fire
 * within [detectFrom - earlyMs, detectUntil + lateMs].
 */
export function matchLabel(
  label: IncidentLabel,
  alert: AlertLike,
  opts: MatchOptions = {},
): 'primary' | 'also' | null {
  const at = typeof alert.firstSeen === 'number' ? alert.firstSeen : Date.parse(alert.firstSeen);
  const early = opts.earlyMs ?? 60_000;
  const late = opts.lateMs ?? 3_600_000;
  if (!(at >= label.detectFrom - early && at <= label.detectUntil + late)) return null;
  if (alert.rule === label.rule && alert.scope === label.scope && alert.key === label.key) {
    return 'primary';
  }
  for (const m of label.alsoMatches) {
    if (m.rule === alert.rule && m.scope === alert.scope && m.key === alert.key) return 'also';
  }
  return null;
}
