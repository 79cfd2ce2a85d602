import type { RuleId } from '@tillwatch/contracts';
import { M } from '@tillwatch/core';
import { round, wilsonLower } from '../stats';
import type { Signal } from '../episodes';
import type { TerminalState } from '../tracker';
import {
  METRICS,
  bufs,
  durationMs,
  emit,
  fleetRate,
  gone,
  keyBaseline,
  read,
  type Ctx,
} from './context';
import { terminalWhere } from './evidence';
import { parentFor } from './inhibition';
import { RATE_RULES, rateRule } from './rate-rule';

/** Rules of one terminal: its own faults, network errors, input errors, and its silence. */

export function terminalFaultSpike(ctx: Ctx, keys: Iterable<string>, screened = false): void {
  const p = ctx.cfg.rules.terminal_fault_spike;
  const fb = bufs[1]!;
  rateRule(
    ctx,
    {
      rule: 'terminal_fault_spike',
      scope: 'terminal',
      p,
      num: RATE_RULES.terminal_fault_spike.num,
      den: METRICS.auths,
      metric: 'terminal_fault_rate',
      // The early test waits when the evidence may be something else's:
      // - codes 13 and 30 are terminal-side and operator keying errors at once: when those
      //   make the bulk, input_errors (on its 1 h window) says what it is;
      // - the other terminals on its software version fail too (seen in this partition): a
      //   version regressing, which firmware_regression says once, not one till at a time.
      check: (key, m, v, w) => {
        if (!v.early) return { fire: true };
        if (m[M.inputErrors]! * 2 >= METRICS.terminalFaults(m)) return { fire: false };
        const fw = ctx.tracker.terminals.get(key)?.firmware;
        if (fw === undefined || !read(ctx, 'firmware', fw, w, fb)) return { fire: true };
        const k = METRICS.terminalFaults(fb) - METRICS.terminalFaults(m);
        const n = fb[M.auths]! - m[M.auths]!;
        const prior = fleetRate(ctx, METRICS.terminalFaults, METRICS.auths);
        const base = Math.max(
          prior,
          keyBaseline(ctx, 'firmware', fw, METRICS.terminalFaults, METRICS.auths, prior),
        );
        return { fire: !(wilsonLower(k, n, p.z) > Math.max(base * 2, base + p.minExcess / 4)) };
      },
    },
    keys,
    screened,
  );
}

export function terminalNetworkErrors(ctx: Ctx, keys: Iterable<string>, screened = false): void {
  const p = ctx.cfg.rules.terminal_network_errors;
  const rb = bufs[1]!;
  rateRule(
    ctx,
    {
      rule: 'terminal_network_errors',
      scope: 'terminal',
      p,
      num: RATE_RULES.terminal_network_errors.num,
      den: METRICS.auths,
      metric: 'timeout_rate',
      // Only when its region is healthy: the rest of the region's timeouts are not elevated.
      check: (key, m, _v, w) => {
        const region = terminalWhere(ctx, key).region;
        if (region === undefined || !read(ctx, 'region', region, w, rb)) {
          return { fire: true };
        }
        const k = rb[M.timeout]! - m[M.timeout]!;
        const n = rb[M.auths]! - m[M.auths]!;
        const prior = fleetRate(ctx, METRICS.timeouts, METRICS.auths);
        const base = Math.max(
          prior,
          keyBaseline(ctx, 'region', region, METRICS.timeouts, METRICS.auths, prior),
        );
        const regionLower = wilsonLower(k, n, p.z);
        const unhealthy = regionLower > Math.max(base * 2, base + p.minExcess / 4);
        return {
          fire: !unhealthy,
          extra: { regionTimeoutRate: round(n > 0 ? k / n : 0), regionAuths: n },
        };
      },
    },
    keys,
    screened,
  );
}

export function inputErrors(ctx: Ctx, keys: Iterable<string>, screened = false): void {
  rateRule(
    ctx,
    {
      rule: 'input_errors',
      scope: 'terminal',
      p: ctx.cfg.rules.input_errors,
      num: RATE_RULES.input_errors.num,
      den: METRICS.auths,
      metric: 'input_error_rate',
    },
    keys,
    screened,
  );
}

/** Sorted lastSeen of every known terminal (for closing-wave checks). */
export function quietTimes(ctx: Ctx): Float64Array {
  const xs = new Float64Array(ctx.tracker.terminals.size);
  let i = 0;
  for (const t of ctx.tracker.terminals.values()) xs[i++] = t.lastSeen;
  return xs.sort();
}

/**
 * Within the minutes around a full local hour (from 6 min before, a heartbeat period and a bit,
 * to 5 min after): when shops close, and when a till switched off at closing last spoke.
 */
export function nearFullHour(ctx: Ctx, region: string, t: number): boolean {
  const m = ctx.tracker.calendar.minute(t, region);
  return m >= 54 || m < 5;
}

function countBetween(sorted: Float64Array, lo: number, hi: number): number {
  const lower = (x: number) => {
    let a = 0;
    let b = sorted.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (sorted[mid]! < x) a = mid + 1;
      else b = mid;
    }
    return a;
  };
  return lower(hi + 1e-9) - lower(lo);
}

/**
 * terminal_silent: a terminal that normally talks (auths + heartbeats every 5 min) has sent
 * nothing for minGap and, by its calendar profile, should have sent minExpected events by now.
 * Without history for those hours, a terminal is called silent only if it was selling and its
 * silence is not a closing: shops closing at 22:00 go quiet together, a failed terminal goes
 * quiet alone (or while its own shop's other tills keep selling).
 */
export function terminalSilent(ctx: Ctx): void {
  const p = ctx.cfg.rules.terminal_silent;
  if (!p.enabled) return;
  const rule: RuleId = 'terminal_silent';
  const gapMs = durationMs(p.minGap);
  const quiet = (ctx.quietTimes ??= quietTimes(ctx));
  // Terminals whose last event lies within 10 min of this one's went quiet with it.
  const WAVE = 10 * 60_000;
  // A shop's other tills that sold after this one's last event + a heartbeat period (5 min
  // + jitter) are selling: the shop is open, this terminal is not closed for the night. (Sold:
  // a till left on a few minutes longer at closing heartbeats, it does not sell; a shop's
  // second till switched off before 21:00 was read as cut while the first heartbeated on.)
  const AFTER = 6 * 60_000;
  const candidates: TerminalState[] = [];
  const open = new Set(ctx.episodes.openKeys(rule, 'terminal'));
  for (const t of ctx.tracker.terminals.values()) {
    if (ctx.now - t.lastSeen >= gapMs || open.has(t.id)) candidates.push(t);
  }
  candidates.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const t of candidates) {
    const gap = ctx.now - t.lastSeen;
    if (gap < gapMs) {
      t.silent = false;
      emit(ctx, {
        ...gone(rule, 'terminal', t.id, p.minGap),
        merchantId: t.merchantId,
        region: t.region,
      });
      continue;
    }
    const hist = ctx.tracker.expectedFromProfile(t, t.lastSeen, ctx.now, p.minHistoryDays);
    let expected: number;
    let basis: string;
    let peersActive = 0;
    for (const id of ctx.tracker.byMerchant.get(t.merchantId) ?? []) {
      const peer = ctx.tracker.terminals.get(id);
      // ...and that sold right through: a peer back from its own gap does not count.
      const through = peer && peer.activeSince <= t.lastSeen + AFTER;
      if (id !== t.id && peer && through && peer.lastSale > t.lastSeen + AFTER) peersActive++;
    }
    // A shop that went quiet as a whole (no other till kept selling) together with other
    // terminals is closing, even earlier than its profile says (a Sunday, a holiday eve); so
    // is a till switched off after it had stopped selling (heartbeats only). Once judged
    // closed, it stays closed until it speaks again, however the others come and go: a shop
    // that opens late in the morning is not silent (its other tills would say if it were).
    const wave = countBetween(quiet, t.lastSeen - WAVE, t.lastSeen + WAVE) - 1;
    const selling = t.recentSales >= 6; // a sale every 10 min, as of its last event
    // (and shops close on the hour: a last event in the minutes around a full hour, then
    // nothing, is a closing too)
    // A till its profile knows as never switched off (on every hour of a whole day: a 24-hour
    // shop's, or one left on overnight) is not closed by any of that: closing does not switch
    // it off (a 24-hour shop's till cut at 10:59 on a Saturday read as closing on the hour).
    if (
      peersActive === 0 &&
      t.closedAt !== t.lastSeen &&
      (wave >= 2 || !selling || nearFullHour(ctx, t.region, t.lastSeen)) &&
      !ctx.tracker.alwaysOn(t)
    ) {
      t.closedAt = t.lastSeen;
    }
    const closed = peersActive === 0 && t.closedAt === t.lastSeen;
    if (hist !== undefined) {
      expected = closed ? 0 : hist;
      basis = 'calendar_profile';
    } else {
      // No history for some hour of the gap (a first Saturday): its sales rate before it went
      // quiet says how busy it was, unless its profile knows the hour it went quiet in as one
      // it is usually off (a lane closed every night at 23:00, now on a Friday night).
      const off = ctx.tracker.usuallyOff(t, t.lastSeen);
      // A till never heard heartbeating (a feed, or a till, that sends none) is quiet whenever
      // it does not sell: while its shop's other tills sell, its silence is a lane closed (an
      // extra lane open for the morning only) as much as a till down, and without history for
      // these hours nothing tells them apart (a feed without heartbeats paged ~40 supermarket
      // lanes a week, on the first day and the first Saturday), unless the till is known to
      // sell at this hour on the other kind of day (a first Saturday after its weekdays). Its
      // history judges it from the second such day on, as above.
      const lane =
        t.lastBeat === undefined && peersActive > 0 && !ctx.tracker.busyOtherDays(t, t.lastSeen);
      expected = closed || off || lane ? 0 : (t.recentRate * gap) / 3_600_000;
      basis = off ? 'calendar_profile' : 'recent_rate';
    }
    const fire = expected >= p.minExpected;
    const open1 = open.has(t.id);
    if (!fire && !open1) continue;
    const where = { merchantId: t.merchantId, region: t.region };
    const now = ctx.now;
    const sig: Signal = {
      rule,
      scope: 'terminal',
      key: t.id,
      fire,
      clear: false,
      severity: p.severity,
      window: p.minGap,
      metric: 'events',
      value: 0,
      threshold: p.minExpected,
      baseline: expected,
      count: 1,
      ...where,
      evidence: () => ({
        lastSeen: new Date(t.lastSeen).toISOString(),
        silentMinutes: round((now - t.lastSeen) / 60_000, 1),
        expectedEvents: round(expected, 1),
        basis,
        merchantTerminalsActive: peersActive,
        quietAtSameTime: Math.max(0, wave),
        salesPerHour: round(t.recentSales, 1),
        neverSwitchedOff: ctx.tracker.alwaysOn(t),
        firmware: t.firmware,
      }),
    };
    if (fire) {
      sig.parent = parentFor(ctx, rule, 'terminal', t.id, where, () => []);
    }
    if (fire || open1) t.silent = true;
    emit(ctx, sig);
  }
}
