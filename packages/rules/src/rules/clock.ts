import type { RuleId } from '@tillwatch/contracts';
import type { Signal } from '../episodes';
import { round } from '../stats';
import { durationMs, emit, gone, type Ctx } from './context';

/**
 * What a terminal's clock looks like from its partition: events stamped ahead of what the other
 * terminals' events (arriving after them) say the time is, and events so far behind the
 * partition's time that they were late. A terminal's own record; kept only for terminals with
 * such events (the map is empty in a healthy fleet, and the rule then costs nothing).
 */
export interface ClockNote {
  merchantId: string;
  region: string;
  /** event time (the monitor's watermark) of each odd event, oldest first, at most 32 */
  odd: number[];
  /** the latest odd event's offset: > 0 ahead of its partition, < 0 behind */
  offsetMs: number;
  ahead: number;
  behind: number;
}

const MAX_ODD = 32;

export function noteClock(
  notes: Map<string, ClockNote>,
  where: { terminalId: string; merchantId: string; region: string },
  offsetMs: number,
  now: number,
): void {
  let n = notes.get(where.terminalId);
  if (!n) {
    n = {
      merchantId: where.merchantId,
      region: where.region,
      odd: [],
      offsetMs: 0,
      ahead: 0,
      behind: 0,
    };
    notes.set(where.terminalId, n);
  }
  n.odd.push(Number.isFinite(now) ? now : 0);
  if (n.odd.length > MAX_ODD) n.odd.shift();
  n.offsetMs = offsetMs;
  if (offsetMs > 0) n.ahead++;
  else n.behind++;
}

/**
 * terminal_clock_drift: a terminal whose events keep arriving stamped minutes away from its
 * partition's time — ahead (the partition holds them until the others reach them) or behind
 * (late: they no longer count in any window) — has a clock or settings problem, the guides'
 * software-and-settings cause; its own counts are wrong meanwhile, and its silence or rates
 * would otherwise be read as a fault. At least `minEvents` such events in `window`; resolved
 * when none is left in it.
 */
export function terminalClockDrift(ctx: Ctx, notes: Map<string, ClockNote>): void {
  const p = ctx.cfg.rules.terminal_clock_drift;
  if (!p.enabled) return;
  const rule: RuleId = 'terminal_clock_drift';
  const openKeys = ctx.episodes.openKeys(rule, 'terminal');
  // nothing noted and nothing open: the healthy fleet's case, every evaluation
  if (notes.size === 0 && openKeys.length === 0) return;
  const windowMs = durationMs(p.window);
  const open = new Set(openKeys);
  const keys = new Set([...notes.keys(), ...open]);
  for (const key of [...keys].sort()) {
    const n = notes.get(key);
    if (!n) {
      emit(ctx, gone(rule, 'terminal', key, p.window));
      continue;
    }
    const from = ctx.now - windowMs;
    while (n.odd.length && n.odd[0]! < from) n.odd.shift();
    const count = n.odd.length;
    if (count === 0 && !open.has(key)) {
      notes.delete(key);
      continue;
    }
    const fire = count >= p.minEvents;
    const sig: Signal = {
      rule,
      scope: 'terminal',
      key,
      fire,
      clear: count === 0,
      severity: p.severity,
      window: p.window,
      metric: 'clock_offset_seconds',
      value: round(n.offsetMs / 1000, 1),
      threshold: round(durationMs(p.minOffset) / 1000, 1),
      baseline: 0,
      count,
      merchantId: n.merchantId,
      region: n.region,
      evidence: () => ({
        direction: n.offsetMs > 0 ? 'ahead' : 'behind',
        offsetSeconds: round(n.offsetMs / 1000, 1),
        oddEvents: count,
        aheadEvents: n.ahead,
        lateEvents: n.behind,
      }),
    };
    emit(ctx, sig);
    if (count === 0) notes.delete(key);
  }
}
