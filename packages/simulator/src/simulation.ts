import { DEFAULT_CALENDAR } from './calendar';
import { HOUR_MS, MINUTE_MS, buildFleet, trafficLevel, type Fleet } from './fleet';
import { CardPool } from './cards';
import { EventFactory } from './event-factory';
import { TimerHeap } from './heap';
import { IncidentTimeline, MAX_SOURCES } from './incident-timeline';
import { RecordStore } from './records';
import { Rng, hashString } from './rng';
import {
  DEFAULT_DURATION_MS,
  DEFAULT_START,
  type Simulation,
  type SimulationCounts,
  type SimulationOptions,
} from './simulation-options';
import { buildTerminalTable, type TerminalTable } from './terminal-table';
import { TradingHours } from './trading-hours';
import { isScenarioName, type IncidentLabel, type ScenarioName, type SimEvent } from './types';

export {
  DEFAULT_DURATION_MS,
  DEFAULT_START,
  type DemoOptions,
  type ExtraIncident,
  type Simulation,
  type SimulationCounts,
  type SimulationOptions,
} from './simulation-options';

const DAY_MS = 24 * HOUR_MS;

function seedNumber(seed: number | string): number {
  if (typeof seed === 'number') {
    if (!Number.isFinite(seed)) throw new Error(`simulator: seed must be finite, got ${seed}`);
    return Math.floor(seed) >>> 0;
  }
  return /^\d+$/.test(seed) ? Number(seed) >>> 0 : hashString(seed);
}

/**
 * The run: options, the timer heap and the event loop. Incidents live in IncidentTimeline, the
 * events are built by EventFactory; all of them draw from the one seeded rng, in loop order.
 */
class SimulationImpl implements Simulation {
  readonly seed: number;
  readonly scenario: ScenarioName;
  readonly start: number;
  readonly end: number;
  readonly fleet: Fleet;
  readonly labels: readonly IncidentLabel[];
  readonly counts: SimulationCounts = {
    auth: 0,
    reversal: 0,
    settlement: 0,
    heartbeat: 0,
    total: 0,
  };

  private readonly rng: Rng;
  private readonly heap = new TimerHeap(8192);
  private readonly nT: number;
  private readonly recordBase: number;
  private readonly tab: TerminalTable;
  private readonly incidents: IncidentTimeline;
  private readonly silenced: Uint16Array;
  private readonly factory: EventFactory;
  private readonly heartbeatMs: number;
  private readonly hours: TradingHours;
  private pos: number;

  constructor(opts: SimulationOptions) {
    const scenario = opts.scenario ?? 'healthy';
    if (!isScenarioName(scenario)) {
      throw new Error(`simulator: unknown scenario "${String(scenario)}"`);
    }
    this.scenario = scenario;
    this.seed = seedNumber(opts.seed);
    this.start = Math.floor(opts.start ?? DEFAULT_START);
    const deadline = opts.settlementDeadlineMs ?? 24 * HOUR_MS;
    const delay = opts.settlementDelayMs ?? Math.min(6 * HOUR_MS, deadline * 0.5);
    if (!(delay > 0) || delay >= deadline) {
      throw new Error(
        `simulator: settlementDelayMs (${delay}) must be > 0 and below the settlement deadline (${deadline})`,
      );
    }
    const duration =
      opts.durationMs ??
      (scenario === 'demo'
        ? Infinity
        : scenario === 'settlement-gap'
          ? deadline + 20 * HOUR_MS
          : DEFAULT_DURATION_MS);
    if (!(duration > 0)) throw new Error(`simulator: durationMs must be > 0, got ${duration}`);
    this.end = this.start + duration;
    this.pos = this.start;
    const isDemo = scenario === 'demo';
    let fleetOpts = opts.fleet ?? {};
    if (isDemo && fleetOpts.utcOffsetMs === undefined) {
      // A live demo runs whenever someone starts it: shift the fleet's clock so the first
      // incident falls at 11:xx local time, when shops are open and busy.
      const firstAt = opts.demo?.firstAt ?? this.start + 15 * MINUTE_MS;
      const utcHour = Math.floor((((firstAt % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
      let shift = (((11 - utcHour) % 24) + 24) % 24;
      if (shift > 12) shift -= 24;
      fleetOpts = { ...fleetOpts, utcOffsetMs: shift * HOUR_MS };
    }
    this.fleet = buildFleet(this.seed, fleetOpts);
    this.rng = new Rng(this.seed, 1);
    this.hours = new TradingHours(this.fleet, opts.calendar ?? DEFAULT_CALENDAR, this.seed);
    this.heartbeatMs = opts.heartbeatIntervalMs ?? 5 * MINUTE_MS;

    const f = this.fleet;
    const nT = (this.nT = f.terminals.length);
    this.recordBase = 2 * nT + MAX_SOURCES;
    // Demo: 2.5x traffic so a single terminal's incident shows within a minute or two.
    const volume = opts.volumeScale ?? (isDemo ? 2.5 : 1);
    this.tab = buildTerminalTable(f, this.seed, volume);
    this.incidents = new IncidentTimeline({
      seed: this.seed,
      scenario,
      start: this.start,
      end: this.end,
      fleet: f,
      hours: this.hours,
      heap: this.heap,
      intensity: opts.intensity ?? (scenario === 'demo' ? 1.5 : 1),
      settlementDeadlineMs: deadline,
      reversalGraceMs: opts.reversalGraceMs ?? 60_000,
      firmwareNames: this.tab.firmwareNames,
    });
    this.labels = this.incidents.labels;
    this.silenced = this.incidents.silenced;
    this.incidents.plan(opts, deadline);
    this.factory = new EventFactory({
      seed: this.seed,
      fleet: f,
      rng: this.rng,
      tab: this.tab,
      cards: new CardPool(f, volume),
      incidents: this.incidents,
      heap: this.heap,
      records: new RecordStore(16_384),
      recordBase: this.recordBase,
      counts: this.counts,
      // Batches cut every delay/2, settled 10..90% of a batch period later: always < delay.
      settleBatchMs: delay / 2,
      disorderFraction: opts.outOfOrder?.fraction ?? 0.002,
      disorderMaxMs: opts.outOfOrder?.maxDelayMs ?? 3000,
      isoFraction: opts.isoFraction ?? 0,
    });

    // Seed every terminal's first auth and heartbeat.
    for (let t = 0; t < nT; t++) {
      this.scheduleArrival(t, this.start);
      const phase = f.terminals[t]!.heartbeatPhase % this.heartbeatMs;
      let hbAt = this.start - (this.start % this.heartbeatMs) + phase;
      if (hbAt < this.start) hbAt += this.heartbeatMs;
      this.heap.push(hbAt, nT + t);
    }
  }

  // ---------------------------------------------------------------- scheduling

  /**
   * Next auth of terminal t after `from`: a non-homogeneous Poisson process by thinning against
   * the day's highest level of the terminal's shop. Closed hours are skipped in one jump, closed
   * days too; at midnight the draw restarts against the next day's bound (the process is
   * memoryless, so restarting there is exact).
   */
  private scheduleArrival(t: number, from: number): void {
    const rate = this.tab.ratePerMs[t]!;
    if (!(rate > 0)) return;
    const mi = this.tab.tMerchant[t]!;
    const hours = this.hours;
    const rng = this.rng;
    let day = hours.at(from);
    let x = from;
    for (let guard = 0; guard < 10_000; guard++) {
      const bound = day.bound[mi]!;
      if (bound === 0) {
        day = hours.day(day.day + 1);
        x = day.start;
        continue;
      }
      x += -Math.log(1 - rng.next()) / (rate * bound);
      if (x >= day.end) {
        day = hours.day(day.day + 1);
        x = day.start;
        continue;
      }
      const profile = day.profiles[mi]!;
      const h = (x - day.start) / HOUR_MS;
      const level = trafficLevel(profile, h);
      if (level === 0) {
        // Jump to the start of the next open hour, or to tomorrow.
        let k = Math.floor(h) + 1;
        while (k < 24 && profile[k] === 0) k++;
        if (k < 24) {
          x = day.start + k * HOUR_MS;
        } else {
          day = hours.day(day.day + 1);
          x = day.start;
        }
        continue;
      }
      if (rng.next() * bound < level) break;
    }
    this.heap.push(x, t);
  }

  // ---------------------------------------------------------------- events

  get pending(): number {
    return this.heap.size;
  }

  get position(): number {
    return Math.min(this.heap.peekTime(), this.end);
  }

  nextEvent(): SimEvent | undefined {
    return this.advance(Infinity);
  }

  pull(untilMs: number, max = Infinity): SimEvent[] {
    const out: SimEvent[] = [];
    while (out.length < max) {
      const ev = this.advance(untilMs);
      if (ev === undefined) break;
      out.push(ev);
    }
    return out;
  }

  *events(): Generator<SimEvent, void, undefined> {
    for (let ev = this.advance(Infinity); ev !== undefined; ev = this.advance(Infinity)) yield ev;
  }

  [Symbol.iterator](): Iterator<SimEvent> {
    return this.events();
  }

  activeAt(atMs: number): IncidentLabel[] {
    return this.labels.filter((l) => l.start <= atMs && atMs < l.end);
  }

  /** The next event with heap time <= limit (and < end), or undefined. */
  private advance(limit: number): SimEvent | undefined {
    const heap = this.heap;
    const nT = this.nT;
    for (;;) {
      const time = heap.peekTime();
      if (time > limit || time >= this.end) {
        this.pos = Math.min(time, this.end);
        return undefined;
      }
      if (time >= this.incidents.nextChange) this.incidents.update(time);
      if (heap.peekTime() !== time) continue;
      const ref = heap.pop();
      this.pos = time;
      let ev: SimEvent | undefined;
      if (ref < nT) {
        this.scheduleArrival(ref, time);
        if (this.silenced[ref]! > 0) continue;
        ev = this.factory.auth(ref, Math.floor(time), null);
      } else if (ref < 2 * nT) {
        const t = ref - nT;
        // +-1 s of jitter per beat: terminal clocks drift a little.
        heap.push(time + this.heartbeatMs - 1000 + this.rng.int(2001), ref);
        if (this.silenced[t]! > 0 || !this.hours.powered(t, time)) continue;
        ev = this.factory.heartbeat(t, Math.floor(time));
      } else if (ref < this.recordBase) {
        // Incident source (card testing): one auth per step, rescheduled by the source.
        const item = this.incidents.sources[ref - 2 * nT]!;
        if (this.silenced[item.terminal]! > 0) continue;
        ev = this.factory.auth(item.terminal, Math.floor(time), item);
        if (item.nextAt < Infinity) heap.push(item.nextAt, ref);
        else this.incidents.sources[ref - 2 * nT] = undefined;
      } else {
        ev = this.factory.followUp(ref - this.recordBase, Math.floor(time));
      }
      this.counts.total++;
      return ev;
    }
  }
}

/** Create a seeded simulation. Events are generated lazily in event-time order. */
export function createSimulation(opts: SimulationOptions): Simulation {
  return new SimulationImpl(opts);
}
