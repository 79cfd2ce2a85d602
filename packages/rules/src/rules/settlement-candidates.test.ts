import { Engine, type EngineConfig } from '@tillwatch/core';
import type { TerminalEvent } from '@tillwatch/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlertRecord } from '../episodes';
import { createMonitor, type MonitorOptions } from '../monitor';
import { lcg, smallFleet, stream, T0 } from '../testing';
import { Tracker } from '../tracker';

/**
 * The settlement rules pass over the keys that cannot have anything to say, and are held here
 * to the same monitor without the pass-over, which must give the same alerts:
 * - no_settlement asks the engine which keys had a missed settlement in its windows
 *   (noSettlementKeys, WindowEngine.unsettledSince) instead of reading every terminal and
 *   merchant at its sweeps; without it (an engine that cannot list them) every key is read;
 * - failed_but_charged passes over a terminal with nothing in its charged ring in the window
 *   (Tracker.chargedIn); without it (chargedIn always true) every candidate is judged.
 */

const H = 3_600_000;
const MIN = 60_000;

/** The core Engine without unsettledSince: no_settlement falls back to reading every key. */
class SweptEngine extends Engine {}
Object.defineProperty(SweptEngine.prototype, 'unsettledSince', { value: undefined });

function run(evs: TerminalEvent[], opts: MonitorOptions): AlertRecord[] {
  const mon = createMonitor(opts);
  const out: AlertRecord[] = [];
  for (const ev of evs) {
    mon.ingest(ev);
    out.push(...mon.tick());
  }
  return out;
}

/**
 * Settlements missing as they go missing in the field: a whole shop's from an hour on (its
 * acquirer link), one till's for 40 minutes (a batch it never uploaded), and a few sales
 * everywhere; some tills go quiet for good half way. And a till whose last few sales are never
 * settled before it is switched off for good: too few among its hour of settled sales to say
 * anything then, but the settled ones leave its window and the misses stay, so its rate
 * crosses the bar most of an hour after its last event and its last miss, found only by the
 * sweep (it is in no recent list).
 */
function events(seed: number): TerminalEvent[] {
  const fleet = smallFleet({ merchants: 12, perMerchant: 3, rate: 2 });
  const lastSales = T0 + 3 * H + 22 * MIN;
  return stream(
    fleet,
    T0,
    T0 + 5 * H,
    (ev, t, rnd) => {
      if (
        t.id.endsWith('_2') &&
        Number(t.merchantId.slice(1)) % 4 === seed % 4 &&
        ev.ts > T0 + 3 * H
      ) {
        return null;
      }
      if (t.id === `T${(seed + 7) % 12}_0`) {
        if (ev.ts >= lastSales + 6 * MIN && ev.type !== 'settlement') return null;
        if (ev.type === 'settlement' && ev.ts >= lastSales + MIN) return null;
        return ev;
      }
      if (ev.type !== 'settlement') return ev;
      if (t.merchantId === `M${seed % 12}` && ev.ts > T0 + H) return null;
      if (t.id === `T${(seed + 5) % 12}_1` && ev.ts > T0 + 2 * H && ev.ts < T0 + 2 * H + 40 * MIN) {
        return null;
      }
      return rnd() < 0.03 ? null : ev;
    },
    seed,
    { settle: true },
  );
}

describe('no_settlement reads only the keys the engine lists with a missed settlement', () => {
  for (const seed of [3, 8, 21]) {
    it(`gives the sweep's alerts (seed ${seed})`, () => {
      const engine: Partial<EngineConfig> = { settlementDeadlineMs: 30 * MIN };
      const evs = events(seed);
      const listed = run(evs, { engine, engineFactory: (c) => new Engine(c) });
      const swept = run(evs, { engine, engineFactory: (c) => new SweptEngine(c) });
      expect(listed).toEqual(swept);
      // not vacuous: the rule fired and resolved, for shops and for tills
      const ns = listed.filter((a) => a.rule === 'no_settlement');
      expect(new Set(ns.map((a) => a.scope))).toEqual(new Set(['merchant', 'terminal']));
      expect(ns.some((a) => a.status === 'resolved')).toBe(true);
      const late = ns.find((a) => a.key === `T${(seed + 7) % 12}_0`);
      expect(late && Date.parse(late.firstSeen) - (T0 + 3 * H + 28 * MIN)).toBeGreaterThan(
        45 * MIN,
      );
    });
  }
});

/**
 * Charges as tills make them: one till timing out 15 % of its sales for an hour, never
 * reversed; a slow till with one unreversed timeout every 20 minutes; a till whose reversals
 * fail; two timeouts at a till just before it is switched off; across the fleet, 1 % of sales
 * time out, most reversed in time, some late, some failing, and some settled by the acquirer
 * 20 minutes later (the charge proven).
 */
function chargingEvents(seed: number): TerminalEvent[] {
  const fleet = smallFleet({ merchants: 12, perMerchant: 3, rate: 2 });
  const rnd = lcg(seed * 7919);
  const hot = `T${seed % 12}_0`;
  const slow = `T${(seed + 3) % 12}_1`;
  const failing = `T${(seed + 6) % 12}_2`;
  const off = `T${(seed + 9) % 12}_0`;
  const offAt = T0 + 3 * H + 7 * MIN;
  const marks = new Set<number>();
  const base = stream(
    fleet,
    T0,
    T0 + 5 * H,
    (ev, t, r) => {
      if (t.id === off && ev.ts >= offAt + 4 * MIN) return null;
      if (ev.type !== 'auth') return ev;
      const to = { ...ev, responseCode: 'TO' };
      if (t.id === hot && ev.ts >= T0 + 2 * H && ev.ts < T0 + 3 * H) return r() < 0.15 ? to : ev;
      if (t.id === slow) {
        if (r() < 0.75) return null;
        const i = Math.floor((ev.ts - T0 - H) / (20 * MIN));
        if (ev.ts < T0 + H || i >= 8 || marks.has(i)) return ev;
        marks.add(i);
        return to;
      }
      if (t.id === off && ev.ts >= offAt) return r() < 0.5 ? to : ev;
      return r() < (t.id === failing ? 0.08 : 0.01) ? to : ev;
    },
    seed,
  );
  const out: TerminalEvent[] = [];
  for (const ev of base) {
    out.push(ev);
    if (ev.type !== 'auth' || ev.responseCode !== 'TO') continue;
    if (ev.terminalId === hot || ev.terminalId === slow || ev.terminalId === off) continue;
    const x = rnd();
    const failed = ev.terminalId === failing ? x < 0.6 : x < 0.1;
    const at = x < 0.7 ? ev.ts + 5_000 : ev.ts + 90_000; // in time, or after the 60 s grace
    const where = { terminalId: ev.terminalId, merchantId: ev.merchantId, region: ev.region };
    out.push({
      type: 'reversal',
      eventId: `r${ev.eventId}`,
      ts: at,
      ...where,
      txnId: ev.txnId,
      reason: 'timeout',
      status: failed ? 'failed' : 'succeeded',
    });
    if (rnd() < 0.3) {
      out.push({
        type: 'settlement',
        eventId: `s${ev.eventId}`,
        ts: ev.ts + 20 * MIN,
        ...where,
        txnId: ev.txnId,
        amount: ev.amount,
        status: 'settled',
      });
    }
  }
  return out.sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : 1));
}

describe('failed_but_charged passes over terminals with nothing charged in its window', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  for (const seed of [2, 5, 17]) {
    it(`gives the alerts of judging every candidate (seed ${seed})`, () => {
      const evs = chargingEvents(seed);
      const passing = run(evs, {});
      vi.spyOn(Tracker.prototype, 'chargedIn').mockReturnValue(true);
      const judged = run(evs, {});
      expect(passing).toEqual(judged);
      // not vacuous: it fired for several tills, paged, and resolved
      const fbc = passing.filter((a) => a.rule === 'failed_but_charged');
      expect(new Set(fbc.map((a) => a.key)).size).toBeGreaterThanOrEqual(3);
      expect(fbc.some((a) => a.severity === 'critical')).toBe(true);
      expect(fbc.some((a) => a.status === 'resolved')).toBe(true);
    });
  }
});
