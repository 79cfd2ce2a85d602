import { MINUTE_MS, type Fleet } from './fleet';
import type { TimerHeap } from './heap';
import type { TradingHours } from './trading-hours';
import { Rng } from './rng';
import {
  SCENARIO_SPECS,
  buildIncident,
  emptyUsed,
  placeAtClosing,
  placeIncident,
  type IncidentContext,
  type IncidentRequest,
} from './scenarios';
import type { SimulationOptions } from './simulation-options';
import {
  INCIDENT_SCENARIOS,
  type AuthDraft,
  type Incident,
  type IncidentLabel,
  type IncidentScenario,
  type IncidentSource,
  type ScenarioName,
} from './types';

// Most visible first: a region's or an issuer's thousands of auths show an outage in a minute.
const DEMO_ROTATION: readonly IncidentScenario[] = [
  'regional-outage-errors',
  'card-testing',
  'terminal-fault',
  'terminal-network',
  'issuer-outage',
  'input-errors',
  'reversal-storm',
  'terminal-silent',
  'failed-but-charged',
  'firmware-regression',
  'regional-outage-silence',
  'settlement-gap',
  'carrier-outage',
];

/** Heap refs: [0, nT) auth arrivals, [nT, 2nT) heartbeats, then incident sources, then records. */
export const MAX_SOURCES = 1 << 16;

type DemoState = Required<Omit<NonNullable<SimulationOptions['demo']>, 'firstAt'>> & {
  nextAt: number;
  n: number;
};

export interface IncidentTimelineOptions {
  seed: number;
  scenario: ScenarioName;
  start: number;
  end: number;
  fleet: Fleet;
  hours: TradingHours;
  /** the heap incident sources are scheduled on, at refs 2 * nT + i */
  heap: TimerHeap;
  intensity: number;
  settlementDeadlineMs: number;
  reversalGraceMs: number;
  /** the run's firmware names; incidents may add versions */
  firmwareNames: string[];
}

/**
 * The run's incidents over event time: pending (sorted by start), active; per-terminal counters
 * for O(1) checks in the hot loop.
 */
export class IncidentTimeline {
  readonly labels: IncidentLabel[] = [];
  readonly active: Incident[] = [];
  readonly global: Incident[] = [];
  /** active incidents per terminal */
  readonly touched: Uint16Array;
  /** active silencing incidents per terminal */
  readonly silenced: Uint16Array;
  /** card-testing sources by heap slot (ref - 2 * nT); undefined once done */
  readonly sources: (IncidentSource | undefined)[] = [];
  /** event time of the next start or end (or demo incident); update() is due there */
  nextChange = Infinity;

  private readonly seed: number;
  private readonly scenario: ScenarioName;
  private readonly start: number;
  private readonly end: number;
  private readonly fleet: Fleet;
  private readonly heap: TimerHeap;
  private readonly nT: number;
  private readonly ctx: IncidentContext;
  private readonly pendingIncidents: Incident[] = [];
  private demo: DemoState | null = null;
  private ordinal = 0;
  private cardBlock = 0;

  constructor(o: IncidentTimelineOptions) {
    this.seed = o.seed;
    this.scenario = o.scenario;
    this.start = o.start;
    this.end = o.end;
    this.fleet = o.fleet;
    this.heap = o.heap;
    const nT = (this.nT = o.fleet.terminals.length);
    this.touched = new Uint16Array(nT);
    this.silenced = new Uint16Array(nT);
    const firmwareNames = o.firmwareNames;
    this.ctx = {
      fleet: o.fleet,
      hours: o.hours,
      intensity: o.intensity,
      settlementDeadlineMs: o.settlementDeadlineMs,
      reversalGraceMs: o.reversalGraceMs,
      used: emptyUsed(),
      addFirmware: (name) => {
        firmwareNames.push(name);
        return firmwareNames.length - 1;
      },
      firmwareName: (i) => firmwareNames[i]!,
      freshCards: (n) => {
        const base = 2 ** 47 + this.cardBlock;
        this.cardBlock += n;
        return base;
      },
    };
  }

  /** Plan the run's incidents (a demo only its rotation: it adds them as it goes). */
  plan(opts: SimulationOptions, deadline: number): void {
    const placeRng = Rng.derive(this.seed, 0x1ac1);
    const reqs: IncidentRequest[] = [];
    const runStart = this.start;
    const runEnd = this.end;
    // `strict`: an outage at closing time that finds no closing time in the run is left out
    // (`all`) instead of placed like any other outage.
    const place = (
      scenario: IncidentScenario,
      tail = 0,
      key?: string,
      strict = false,
    ): IncidentRequest | null => {
      if (runEnd - tail - runStart < 10 * MINUTE_MS) return null;
      if (scenario === 'outage-at-closing') {
        const at = placeAtClosing(this.fleet, placeRng, runStart, runEnd, key);
        if (at) return { scenario, ...at };
        if (strict) return null;
      }
      const { start, end } = placeIncident(this.fleet, scenario, placeRng, runStart, runEnd - tail);
      return { scenario, start, end };
    };
    const s = this.scenario;
    if (s === 'demo') {
      const d = opts.demo ?? {};
      const rotation =
        d.scenarios ??
        DEMO_ROTATION.filter((x) => x !== 'settlement-gap' || deadline <= 10 * MINUTE_MS);
      if (rotation.length === 0) throw new Error('simulator: demo.scenarios is empty');
      this.demo = {
        everyMs: d.everyMs ?? 2 * MINUTE_MS,
        lastsMs: d.lastsMs ?? 8 * MINUTE_MS,
        scenarios: rotation,
        nextAt: d.firstAt ?? runStart + 15 * MINUTE_MS,
        n: 0,
      };
      this.nextChange = this.demo.nextAt;
    } else if (s === 'all') {
      // Region- and fleet-wide incidents first (targets are then excluded from the others) and
      // never overlapping in time, so each one's evidence is its own. The outage at closing
      // leads: its times are few (one per closing hour and day) and its region must be one
      // whose first mall closes then, so it chooses before the other regional outages.
      const wide: IncidentScenario[] = [
        'outage-at-closing',
        'regional-outage-errors',
        'regional-outage-silence',
        'carrier-outage',
        'issuer-outage',
        'firmware-regression',
      ];
      const taken: { start: number; end: number }[] = [];
      for (const sc of wide) {
        for (let attempt = 0; attempt < 50; attempt++) {
          const r = place(sc, 0, undefined, true);
          if (!r) break;
          if (taken.every((x) => r.end <= x.start || r.start >= x.end) || attempt === 49) {
            taken.push(r);
            reqs.push(r);
            break;
          }
        }
      }
      for (const sc of INCIDENT_SCENARIOS) {
        if (wide.includes(sc)) continue;
        const r = sc === 'settlement-gap' ? place(sc, deadline) : place(sc);
        if (r) reqs.push(r);
      }
    } else if (s !== 'healthy') {
      const r = place(s, s === 'settlement-gap' ? deadline : 0);
      if (!r) {
        throw new Error(
          `simulator: run too short for ${s}` +
            (s === 'settlement-gap' ? ` (needs > settlement deadline ${deadline} ms)` : ''),
        );
      }
      reqs.push(r);
    }
    for (const x of opts.incidents ?? []) {
      if (!(INCIDENT_SCENARIOS as readonly string[]).includes(x.scenario)) {
        throw new Error(`simulator: unknown incident scenario "${x.scenario}"`);
      }
      let r: IncidentRequest | null;
      if (x.start !== undefined) {
        const dur = x.durationMs ?? SCENARIO_SPECS[x.scenario].duration[0];
        r = { scenario: x.scenario, start: x.start, end: x.start + dur };
      } else {
        r = place(x.scenario, x.scenario === 'settlement-gap' ? deadline : 0, x.key);
        if (r && x.durationMs !== undefined) r.end = r.start + x.durationMs;
      }
      if (r) reqs.push(x.key !== undefined ? { ...r, key: x.key } : r);
    }
    for (const r of reqs) this.add(r);
  }

  private add(req: IncidentRequest): void {
    const n = ++this.ordinal;
    const inc = buildIncident(this.ctx, req, Rng.derive(this.seed, 0x1c1d, n), n);
    this.labels.push(inc.label);
    this.pendingIncidents.push(inc);
    this.pendingIncidents.sort((a, b) => a.start - b.start);
    this.nextChange = Math.min(this.nextChange, inc.start);
  }

  /** Start and end the incidents due at event time t; call when t reaches nextChange. */
  update(t: number): void {
    // Demo: create incidents as their start comes near (the run is endless).
    const demo = this.demo;
    while (demo && demo.nextAt <= t) {
      const scenario = demo.scenarios[demo.n % demo.scenarios.length]!;
      demo.n++;
      const start = demo.nextAt;
      demo.nextAt += demo.everyMs;
      // Targets of finished incidents may be reused; active ones may not.
      const used = this.ctx.used;
      used.terminals.clear();
      used.merchants.clear();
      used.regions.clear();
      used.issuers.clear();
      for (const inc of [...this.active, ...this.pendingIncidents]) this.markUsed(inc);
      this.add({ scenario, start, end: start + demo.lastsMs });
    }
    let changed = true;
    while (changed) {
      changed = false;
      for (let i = 0; i < this.active.length; i++) {
        const inc = this.active[i]!;
        if (inc.end <= t) {
          this.active.splice(i, 1);
          this.apply(inc, -1);
          changed = true;
          break;
        }
      }
      const first = this.pendingIncidents[0];
      if (first && first.start <= t) {
        this.pendingIncidents.shift();
        if (first.end > t) {
          this.active.push(first);
          this.apply(first, +1);
          if (first.source) {
            let i = this.sources.indexOf(undefined);
            if (i < 0) i = this.sources.push(first.source) - 1;
            else this.sources[i] = first.source;
            if (i >= MAX_SOURCES)
              throw new Error('simulator: too many concurrent incident sources');
            const ref = 2 * this.nT + i;
            this.heap.push(Math.max(first.source.nextAt, first.start), ref);
          }
        }
        changed = true;
      }
    }
    let next = demo ? demo.nextAt : Infinity;
    for (const inc of this.active) next = Math.min(next, inc.end);
    if (this.pendingIncidents[0]) next = Math.min(next, this.pendingIncidents[0].start);
    this.nextChange = next;
  }

  private markUsed(inc: Incident): void {
    const used = this.ctx.used;
    const l = inc.label;
    if (l.scope === 'region') {
      const r = this.fleet.regions.findIndex((x) => x.id === l.key);
      if (r >= 0) used.regions.add(r);
    }
    if (l.scope === 'issuer') used.issuers.add(this.fleet.issuers.indexOf(l.key));
    if (l.merchantId) {
      const m = this.fleet.merchants.findIndex((x) => x.id === l.merchantId);
      if (m >= 0) used.merchants.add(m);
    }
    if (inc.mask && l.scope !== 'firmware') {
      for (let t = 0; t < this.nT; t++) if (inc.mask[t]) used.terminals.add(t);
    }
  }

  private apply(inc: Incident, delta: 1 | -1): void {
    if (inc.mask === null) {
      if (delta > 0) this.global.push(inc);
      else this.global.splice(this.global.indexOf(inc), 1);
      return;
    }
    const mask = inc.mask;
    for (let t = 0; t < this.nT; t++) {
      if (mask[t]) {
        this.touched[t]! += delta;
        if (inc.silence || inc.silentMask?.[t]) this.silenced[t]! += delta;
      }
    }
  }

  /** Firmware index of terminal t at ts, an incident's override first. */
  firmwareOf(t: number, ts: number): number {
    if (this.touched[t]! > 0) {
      for (const inc of this.active) {
        if (inc.firmwareAt && inc.mask?.[t]) {
          const fw = inc.firmwareAt(t, ts);
          if (fw >= 0) return fw;
        }
      }
    }
    return this.fleet.terminals[t]!.firmware;
  }

  /** Run the code or plan hooks of the incidents acting on the auth draft. */
  hook(d: AuthDraft, phase: 'code' | 'plan', rng: Rng): void {
    const t = d.terminal;
    for (const inc of this.active) {
      if (inc.mask === null) {
        if (inc.issuer >= 0 && inc.issuer !== d.issuer) continue;
      } else if (!inc.mask[t]) continue;
      const hook = phase === 'code' ? inc.code : inc.plan;
      if (hook) hook(d, rng);
    }
  }
}
