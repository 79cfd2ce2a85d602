import { describe, expect, it } from 'vitest';
import { dayKind } from './calendar';
import { createSimulation } from './simulation';
import type { SimEvent } from './types';

/**
 * The fleet trades on the calendar: malls close on the minute and switch their terminals off,
 * weekends and holidays keep other hours, festivals fill the tills. Each check compares the same
 * seeded fleet on two local days.
 */

const HOUR = 3_600_000;
const MIN = 60_000;
const DAY = 24 * HOUR;
const FLEET = { terminals: 400, merchants: 160 };
const SEED = 32;
/** local midnight (UTC+8) of a date */
const midnight = (date: string) => Date.parse(`${date}T00:00:00+08:00`);
const ts = (e: SimEvent) => (typeof e.ts === 'number' ? e.ts : Date.parse(e.ts));

interface Day {
  auths: number;
  /** auths per merchant */
  byMerchant: Map<string, number>;
  events: SimEvent[];
  sim: ReturnType<typeof createSimulation>;
}

function day(date: string, extra: { durationMs?: number; keep?: boolean } = {}): Day {
  const sim = createSimulation({
    seed: SEED,
    start: midnight(date),
    durationMs: extra.durationMs ?? DAY,
    fleet: FLEET,
  });
  const byMerchant = new Map<string, number>();
  const events: SimEvent[] = [];
  let auths = 0;
  for (const ev of sim) {
    if (extra.keep) events.push(ev);
    if (ev.type !== 'auth') continue;
    auths++;
    byMerchant.set(ev.merchantId, (byMerchant.get(ev.merchantId) ?? 0) + 1);
  }
  return { auths, byMerchant, events, sim };
}

describe('malls', () => {
  const d = day('2026-03-02', { durationMs: DAY + 12 * HOUR, keep: true });
  const f = d.sim.fleet;
  const inMall = f.merchants.filter((m) => m.mall >= 0);

  it('every region has 1–3 malls closing at 21:00 or 22:00; about 40% of their kinds of shop sit in one', () => {
    for (let r = 0; r < f.regions.length; r++) {
      const n = f.malls.filter((m) => m.region === r).length;
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(3);
    }
    for (const m of f.malls) expect([21, 22]).toContain(m.closesAt);
    const kinds = f.merchants.filter((m) =>
      ['retail', 'electronics', 'restaurant', 'cafe'].includes(m.category),
    );
    expect(inMall.length / kinds.length).toBeGreaterThan(0.25);
    expect(inMall.length / kinds.length).toBeLessThan(0.55);
    expect(inMall.every((m) => !m.alwaysOn)).toBe(true);
  });

  it('mall shops trade until closing, on the minute, and not after', () => {
    let late = 0;
    for (const m of inMall) {
      const closes = midnight('2026-03-02') + f.malls[m.mall]!.closesAt * HOUR;
      const opens = midnight('2026-03-02') + f.malls[m.mall]!.opensAt * HOUR;
      const mine = d.events.filter((e) => e.type === 'auth' && e.merchantId === m.id);
      const today = mine.filter((e) => ts(e) < midnight('2026-03-03'));
      expect(today.length).toBeGreaterThan(10);
      expect(today.every((e) => ts(e) >= opens - 5000 && ts(e) < closes)).toBe(true);
      if (today.some((e) => ts(e) >= closes - 30 * MIN)) late++;
    }
    // Busy right up to the bell: most mall shops sell in their last half hour.
    expect(late).toBeGreaterThan(0.6 * inMall.length);
  });

  it('mall terminals send no heartbeat from a few minutes after closing until shortly before opening', () => {
    const terms = new Set(inMall.flatMap((m) => m.terminals.map((t) => f.terminals[t]!.id)));
    const beats = d.events.filter((e) => e.type === 'heartbeat' && terms.has(e.terminalId));
    const beating = new Set<string>();
    for (const e of beats) {
      const m = f.merchants.find((x) => x.id === e.merchantId)!;
      const mall = f.malls[m.mall]!;
      const t = ts(e);
      const local = (t - midnight('2026-03-02')) % DAY;
      // The last beats come within 3 min (+ 3 s of late delivery) of closing, the first at
      // most 30 min before opening.
      expect(local < mall.closesAt * HOUR + 3 * MIN + 3000).toBe(true);
      expect(local >= mall.opensAt * HOUR - 30 * MIN - 3000).toBe(true);
      if (t > midnight('2026-03-03')) beating.add(e.terminalId);
    }
    // And they do come back the next morning.
    expect(beating.size).toBe(terms.size);
    // Street shops that stay powered keep beating through the night.
    const night = d.events.filter(
      (e) =>
        e.type === 'heartbeat' &&
        ts(e) >= midnight('2026-03-03') + 2 * HOUR &&
        ts(e) < midnight('2026-03-03') + 3 * HOUR,
    );
    expect(night.length).toBeGreaterThan(0);
  });
});

describe('weekends, holidays and festivals', () => {
  const monday = day('2026-03-02');
  const sunday = day('2026-03-08');
  const fleet = monday.sim.fleet;
  const of = (cats: string[], d: Day, street = false) =>
    fleet.merchants
      .filter((m) => cats.includes(m.category) && (!street || m.mall < 0))
      .reduce((a, m) => a + (d.byMerchant.get(m.id) ?? 0), 0);

  it('a Sunday has fewer shops open than a Monday, and office cafés are quiet or shut', () => {
    expect(dayKind(midnight('2026-03-08') + HOUR, fleet)).toBe('sunday');
    expect(sunday.byMerchant.size).toBeLessThan(monday.byMerchant.size);
    const cafes = (d: Day) =>
      fleet.merchants.filter((m) => m.category === 'cafe' && m.mall < 0 && d.byMerchant.has(m.id))
        .length;
    expect(cafes(sunday)).toBeLessThan(cafes(monday));
    expect(of(['cafe'], sunday, true)).toBeLessThan(0.8 * of(['cafe'], monday, true));
  });

  it('retail, restaurants and electronics are busier on a Sunday', () => {
    const shops = ['retail', 'restaurant', 'electronics'];
    expect(of(shops, sunday)).toBeGreaterThan(1.15 * of(shops, monday));
  });

  it('weekend mornings start later', () => {
    const morning = (date: string) => {
      const sim = createSimulation({
        seed: SEED,
        start: midnight(date) + 6 * HOUR,
        durationMs: 4 * HOUR,
        fleet: FLEET,
      });
      let n = 0;
      for (const e of sim) if (e.type === 'auth') n++;
      return n;
    };
    expect(morning('2026-03-07')).toBeLessThan(0.75 * morning('2026-03-02'));
  });

  it('a make-up workday (a Saturday) trades like a weekday', () => {
    const workday = day('2026-02-28'); // Saturday, worked for Spring Festival
    const saturday = day('2026-03-07');
    expect(workday.byMerchant.size).toBe(monday.byMerchant.size);
    expect(Math.abs(workday.auths / monday.auths - 1)).toBeLessThan(0.05);
    expect(Math.abs(saturday.auths / monday.auths - 1)).toBeGreaterThan(0.05);
  });

  it('Spring Festival: most shops that close at night close, traffic falls', () => {
    const festival = day('2026-02-17'); // a Tuesday of the holiday
    const tuesday = day('2026-03-03');
    expect(festival.auths).toBeLessThan(0.75 * tuesday.auths);
    const nightly = fleet.merchants.filter((m) => !m.allDay);
    const open = (d: Day) => nightly.filter((m) => d.byMerchant.has(m.id)).length;
    expect(open(festival)).toBeLessThan(0.6 * open(tuesday));
    expect(open(festival)).toBeGreaterThan(0.2 * open(tuesday));
    // Shops open around the clock stay open.
    const allDay = fleet.merchants.filter((m) => m.allDay);
    expect(allDay.every((m) => festival.byMerchant.has(m.id))).toBe(true);
  });

  it('11.11: retail and electronics tills take 1.5–2.2 times a normal Wednesday', () => {
    const peak = day('2026-11-11');
    const wednesday = day('2026-11-04');
    const shops = ['retail', 'electronics'];
    const ratio = of(shops, peak) / of(shops, wednesday);
    expect(ratio).toBeGreaterThan(1.4);
    expect(ratio).toBeLessThan(2.3);
    expect(peak.auths).toBeGreaterThan(wednesday.auths);
    // Without the calendar, 11.11 is a Wednesday like any other.
    const plain = createSimulation({
      seed: SEED,
      start: midnight('2026-11-11'),
      durationMs: DAY,
      fleet: FLEET,
      calendar: [],
    });
    let n = 0;
    for (const e of plain) if (e.type === 'auth') n++;
    expect(Math.abs(n / wednesday.auths - 1)).toBeLessThan(0.05);
  });
});

describe('multi-day runs', () => {
  it('a week from Monday trades every day, is deterministic, and every event is in order of its day', () => {
    const run = () =>
      createSimulation({
        seed: 4,
        start: midnight('2026-11-09'),
        durationMs: 7 * DAY,
        fleet: { terminals: 120, merchants: 40 },
      });
    const a = run();
    const perDay = new Array<number>(7).fill(0);
    let digest = 0;
    for (const e of a) {
      if (e.type === 'auth') perDay[Math.floor((ts(e) - a.start) / DAY)]!++;
      digest = (Math.imul(digest, 31) + e.eventId.length + ts(e)) | 0;
    }
    expect(perDay.every((n) => n > 1000)).toBe(true);
    const b = run();
    let again = 0;
    for (const e of b) again = (Math.imul(again, 31) + e.eventId.length + ts(e)) | 0;
    expect(again).toBe(digest);
    expect(b.counts).toEqual(a.counts);
  });
});
