import { DEFAULT_CODE_TABLE } from '@tillwatch/contracts';
import {
  HOUR_MS,
  MINUTE_MS,
  buildFleet,
  localHour,
  trafficLevel,
  type Fleet,
  type FleetOptions,
} from './fleet';
import { TimerHeap } from './heap';
import { REC_REVERSAL, REC_SETTLEMENT, RecordStore } from './records';
import { Rng, Weighted, hash2, hashString } from './rng';
import {
  SCENARIO_SPECS,
  buildIncident,
  emptyUsed,
  faultLatency,
  placeIncident,
  type IncidentContext,
  type IncidentRequest,
} from './scenarios';
import {
  INCIDENT_SCENARIOS,
  Rev,
  Settle,
  isScenarioName,
  type AuthDraft,
  type HeartbeatDraft,
  type Incident,
  type IncidentLabel,
  type IncidentScenario,
  type IncidentSource,
  type ScenarioName,
  type SimEvent,
} from './types';

/** 2026-03-02 00:00 China time (a Monday): the default start of a run. */
export const DEFAULT_START = Date.UTC(2026, 2, 1, 16, 0, 0);
export const DEFAULT_DURATION_MS = 24 * HOUR_MS;
const DAY_MS = 24 * HOUR_MS;

export interface DemoOptions {
  /** when the first incident starts (epoch ms); default start + 15 min */
  firstAt?: number;
  /** a new incident starts this often (sim time); default 2 min */
  everyMs?: number;
  /** each incident lasts this long (sim time); default 8 min */
  lastsMs?: number;
  /** rotation; default every incident scenario (settlement-gap only with a deadline <= 10 min) */
  scenarios?: readonly IncidentScenario[];
}

export interface ExtraIncident {
  scenario: IncidentScenario;
  /** epoch ms; default: placed by the seed in business hours */
  start?: number;
  durationMs?: number;
  /** terminal/merchant id, region, issuer id; default chosen by the seed */
  key?: string;
}

export interface SimulationOptions {
  seed: number | string;
  /** default `healthy` */
  scenario?: ScenarioName;
  /** epoch ms; default 2026-03-02T00:00+08:00 */
  start?: number;
  /** default 24 h; `demo` defaults to Infinity; `settlement-gap` to deadline + 20 h */
  durationMs?: number;
  fleet?: FleetOptions;
  /** multiplies every terminal's traffic; default 1 (demo 2.5) */
  volumeScale?: number;
  /** multiplies incident effect probabilities (capped); default 1, demo 1.5 */
  intensity?: number;
  /** settlements arrive within this after the auth, in batches; default 6 h (must be < the deadline) */
  settlementDelayMs?: number;
  /** the engine's settlement deadline, for settlement-gap labels and placement; default 24 h */
  settlementDeadlineMs?: number;
  /** the engine's reversal grace period, for failed-but-charged labels; default 60 s */
  reversalGraceMs?: number;
  /** default 5 min */
  heartbeatIntervalMs?: number;
  /** share of auths/heartbeats delivered late (ts up to maxDelayMs earlier than their neighbours) */
  outOfOrder?: { fraction?: number; maxDelayMs?: number };
  /** share of events whose ts is an ISO-8601 string (+08:00) instead of epoch ms; default 0 */
  isoFraction?: number;
  /** more incidents on top of the scenario's */
  incidents?: readonly ExtraIncident[];
  demo?: DemoOptions;
}

export interface SimulationCounts {
  auth: number;
  reversal: number;
  settlement: number;
  heartbeat: number;
  total: number;
}

export interface Simulation extends Iterable<SimEvent> {
  readonly seed: number;
  readonly scenario: ScenarioName;
  readonly start: number;
  /** exclusive end of event time; Infinity for an endless demo */
  readonly end: number;
  readonly fleet: Fleet;
  /** ground truth so far: complete up front, except `demo`, which adds incidents as it goes */
  readonly labels: readonly IncidentLabel[];
  /** event time the generator has reached (the next event is at or after it) */
  readonly position: number;
  readonly counts: Readonly<SimulationCounts>;
  /** timers and scheduled events held (terminals' next auth/heartbeat, pending reversals and settlements) */
  readonly pending: number;
  /** the next event, or undefined at the end */
  nextEvent(): SimEvent | undefined;
  /** every event up to and including event time `untilMs` (at most `max`), for real-time feeds */
  pull(untilMs: number, max?: number): SimEvent[];
  /** lazy generator over the remaining events */
  events(): Generator<SimEvent, void, undefined>;
  /** labels of incidents acting at event time `atMs` */
  activeAt(atMs: number): IncidentLabel[];
}

// Baseline outcome probabilities per auth. Approvals ~95.5%; cardholder declines ~3.6%.
const P_CARDHOLDER = 0.036;
const P_ISSUER = 0.0035;
const P_TERMINAL = 0.0012;
const P_SECURITY = 0.0012;
const P_TIMEOUT = 0.002;
const P_OTHER = 0.0002;

const APPROVED = new Weighted([
  ['00', 970],
  ['10', 5],
  ['11', 5],
  ['Y1', 8],
  ['Y3', 6],
  ['08', 3],
  ['85', 2],
  ['16', 1],
] as const);
const CARDHOLDER = new Weighted([
  ['51', 40],
  ['55', 20],
  ['61', 10],
  ['54', 9],
  ['57', 7],
  ['14', 6],
  ['65', 5],
  ['75', 3],
] as const);
// Keyed cards go wrong differently: mistyped numbers (14) and PINs (55).
const CARDHOLDER_MANUAL = new Weighted([
  ['14', 25],
  ['55', 25],
  ['51', 25],
  ['54', 10],
  ['61', 5],
  ['57', 5],
  ['65', 3],
  ['75', 2],
] as const);
const ISSUER = new Weighted([
  ['05', 45],
  ['91', 15],
  ['96', 12],
  ['06', 8],
  ['92', 8],
  ['68', 6],
  ['90', 6],
] as const);
const TERMINAL = new Weighted([
  ['12', 25],
  ['58', 20],
  ['94', 15],
  ['03', 10],
  ['13', 15],
  ['30', 15],
] as const);
const SECURITY = new Weighted([
  ['59', 30],
  ['41', 15],
  ['43', 15],
  ['62', 15],
  ['04', 10],
  ['63', 10],
  ['07', 5],
] as const);
const OTHER = new Weighted([
  ['N7', 40],
  ['1A', 30],
  ['P5', 20],
  ['Q1', 10],
] as const);
const ENTRY = new Weighted([
  ['contactless', 42],
  ['chip', 28],
  ['qr', 18],
  ['swipe', 8],
] as const);
const NETWORK_TIMEOUT = { ethernet: 0.7, wifi: 1.1, cellular: 1.6 } as const;

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
];

function seedNumber(seed: number | string): number {
  if (typeof seed === 'number') {
    if (!Number.isFinite(seed)) throw new Error(`simulator: seed must be finite, got ${seed}`);
    return Math.floor(seed) >>> 0;
  }
  return /^\d+$/.test(seed) ? Number(seed) >>> 0 : hashString(seed);
}

const REVERSAL_REASONS = [
  'timeout',
  'customer_cancel',
  'terminal_error',
  'host_error',
  'other',
] as const;
/** Heap refs: [0, nT) auth arrivals, [nT, 2nT) heartbeats, then incident sources, then records. */
const MAX_SOURCES = 1 << 16;

/** "+08:00" for 8 h; ISO-8601 offsets are whole minutes. */
function isoOffset(ms: number): string {
  const min = Math.round(ms / 60_000);
  const a = Math.abs(min);
  const hh = String(Math.floor(a / 60)).padStart(2, '0');
  const mm = String(a % 60).padStart(2, '0');
  return `${min < 0 ? '-' : '+'}${hh}:${mm}`;
}

const hex8 = (x: number) => x.toString(16).padStart(8, '0');

function isApproved(code: string): boolean {
  return DEFAULT_CODE_TABLE.get(code) === 'approved';
}

class SimulationImpl implements Simulation {
  readonly seed: number;
  readonly scenario: ScenarioName;
  readonly start: number;
  readonly end: number;
  readonly fleet: Fleet;
  readonly labels: IncidentLabel[] = [];
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
  private readonly sources: (IncidentSource | undefined)[] = [];
  private readonly records = new RecordStore(16_384);
  private readonly recordBase: number;

  // Per-terminal data in flat arrays: the hot loop reads these, not objects.
  private readonly ratePerMs: Float64Array;
  private readonly pTimeout: Float64Array;
  private readonly pTerminal: Float64Array;
  private readonly signalBase: Float64Array;
  private readonly tId: string[];
  private readonly mId: string[];
  private readonly rId: string[];
  private readonly tMerchant: Int32Array;
  private readonly netLatency: Float64Array;
  private readonly issuerFactor: Float64Array;
  private readonly merchantForeign: (string | null)[];
  private readonly firmwareNames: string[];
  private readonly regularPool: Float64Array;
  private readonly regionPool: Float64Array;

  private readonly heartbeatMs: number;
  private readonly tz: number;
  private readonly settleBatchMs: number;
  private readonly disorderFraction: number;
  private readonly disorderMaxMs: number;
  private readonly isoFraction: number;
  private readonly isoOffset: string;
  private readonly idPrefix: string;
  private readonly txnPrefix: string;
  private eventSeq = 0;
  private txnSeq = 0;
  private freshCard = 0;
  private cardBlock = 0;

  // Incidents: pending (sorted by start), active; per-terminal counters for O(1) checks.
  private readonly ctx: IncidentContext;
  private pendingIncidents: Incident[] = [];
  private active: Incident[] = [];
  private global: Incident[] = [];
  private readonly touched: Uint16Array;
  private readonly silenced: Uint16Array;
  private nextChange = Infinity;
  private demo: (Required<Omit<DemoOptions, 'firstAt'>> & { nextAt: number; n: number }) | null =
    null;
  private ordinal = 0;
  private pos: number;

  private readonly d: AuthDraft = {
    terminal: 0,
    ts: 0,
    code: '00',
    latency: 0,
    entryMode: 'chip',
    amount: 0,
    currency: 'CNY',
    card: 0,
    issuer: 0,
    firmware: 0,
    rev: Rev.None,
    settle: Settle.None,
  };
  private readonly hb: HeartbeatDraft = { terminal: 0, ts: 0, firmware: 0, signal: 0 };

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
    this.tz = this.fleet.utcOffsetMs;
    this.heartbeatMs = opts.heartbeatIntervalMs ?? 5 * MINUTE_MS;
    // Batches cut every delay/2, settled 10..90% of a batch period later: always < delay.
    this.settleBatchMs = delay / 2;
    this.disorderFraction = opts.outOfOrder?.fraction ?? 0.002;
    this.disorderMaxMs = opts.outOfOrder?.maxDelayMs ?? 3000;
    this.isoFraction = opts.isoFraction ?? 0;
    this.isoOffset = isoOffset(this.tz);
    const tag = this.seed.toString(36);
    this.idPrefix = `e${tag}-`;
    this.txnPrefix = `x${tag}-`;

    const f = this.fleet;
    const nT = (this.nT = f.terminals.length);
    this.recordBase = 2 * nT + MAX_SOURCES;
    // Demo: 2.5x traffic so a single terminal's incident shows within a minute or two.
    const volume = opts.volumeScale ?? (isDemo ? 2.5 : 1);
    this.ratePerMs = new Float64Array(nT);
    this.pTimeout = new Float64Array(nT);
    this.pTerminal = new Float64Array(nT);
    this.signalBase = new Float64Array(nT);
    this.netLatency = new Float64Array(nT);
    this.tMerchant = new Int32Array(nT);
    this.tId = [];
    this.mId = [];
    this.rId = [];
    const attrs = Rng.derive(this.seed, 0xa77);
    for (const t of f.terminals) {
      const region = f.regions[t.region]!;
      this.ratePerMs[t.index] = (t.peakRate * volume) / HOUR_MS;
      this.pTimeout[t.index] =
        P_TIMEOUT * NETWORK_TIMEOUT[t.network] * region.network * Math.sqrt(t.quality);
      this.pTerminal[t.index] = P_TERMINAL * t.quality * f.firmwareFault[t.firmware]!;
      this.signalBase[t.index] =
        t.network === 'wifi'
          ? attrs.range(55, 95)
          : t.network === 'cellular'
            ? attrs.range(35, 90)
            : 0;
      this.netLatency[t.index] = region.network;
      this.tMerchant[t.index] = t.merchant;
      this.tId.push(t.id);
      this.mId.push(f.merchants[t.merchant]!.id);
      this.rId.push(region.id);
    }
    // Card pools sized by expected daily auths (peak rate x the profile's hours).
    this.regularPool = new Float64Array(f.merchants.length);
    this.regionPool = new Float64Array(f.regions.length);
    for (const t of f.terminals) {
      const m = f.merchants[t.merchant]!;
      const daily = t.peakRate * volume * m.profile.reduce((a, b) => a + b, 0);
      this.regularPool[m.index]! += daily * 0.25;
      this.regionPool[t.region]! += daily * 0.7;
    }
    for (let i = 0; i < this.regularPool.length; i++) {
      this.regularPool[i] = Math.max(50, Math.round(this.regularPool[i]!));
    }
    for (let i = 0; i < this.regionPool.length; i++) {
      this.regionPool[i] = Math.min(2 ** 24 - 1, Math.max(2000, Math.round(this.regionPool[i]!)));
    }
    this.issuerFactor = new Float64Array(f.issuers.length);
    for (let i = 0; i < f.issuers.length; i++) this.issuerFactor[i] = attrs.lognormal(1, 0.2);
    this.merchantForeign = f.merchants.map((m) => {
      const r = f.regions[m.region]!.id;
      if (m.category !== 'hotel' && m.category !== 'electronics') return null;
      if (r === 'CN-44-SZ') return 'HKD';
      return r === 'CN-31' || r === 'CN-11' ? 'USD' : null;
    });
    this.firmwareNames = [...f.firmware];
    this.touched = new Uint16Array(nT);
    this.silenced = new Uint16Array(nT);

    this.ctx = {
      fleet: f,
      intensity: opts.intensity ?? (scenario === 'demo' ? 1.5 : 1),
      settlementDeadlineMs: deadline,
      reversalGraceMs: opts.reversalGraceMs ?? 60_000,
      used: emptyUsed(),
      addFirmware: (name) => {
        this.firmwareNames.push(name);
        return this.firmwareNames.length - 1;
      },
      firmwareName: (i) => this.firmwareNames[i]!,
      freshCards: (n) => {
        const base = 2 ** 47 + this.cardBlock;
        this.cardBlock += n;
        return base;
      },
    };
    this.planIncidents(opts, deadline);

    // Seed every terminal's first auth and heartbeat.
    for (let t = 0; t < nT; t++) {
      this.scheduleArrival(t, this.start);
      const phase = f.terminals[t]!.heartbeatPhase % this.heartbeatMs;
      let hbAt = this.start - (this.start % this.heartbeatMs) + phase;
      if (hbAt < this.start) hbAt += this.heartbeatMs;
      this.heap.push(hbAt, nT + t);
    }
  }

  // ---------------------------------------------------------------- incidents

  private planIncidents(opts: SimulationOptions, deadline: number): void {
    const placeRng = Rng.derive(this.seed, 0x1ac1);
    const reqs: IncidentRequest[] = [];
    const runStart = this.start;
    const runEnd = this.end;
    const place = (scenario: IncidentScenario, tail = 0): IncidentRequest | null => {
      if (runEnd - tail - runStart < 10 * MINUTE_MS) return null;
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
      // never overlapping in time, so each one's evidence is its own.
      const wide: IncidentScenario[] = [
        'regional-outage-errors',
        'regional-outage-silence',
        'issuer-outage',
        'firmware-regression',
      ];
      const taken: { start: number; end: number }[] = [];
      for (const sc of wide) {
        for (let attempt = 0; attempt < 50; attempt++) {
          const r = place(sc);
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
        r = place(x.scenario, x.scenario === 'settlement-gap' ? deadline : 0);
        if (r && x.durationMs !== undefined) r.end = r.start + x.durationMs;
      }
      if (r) reqs.push(x.key !== undefined ? { ...r, key: x.key } : r);
    }
    for (const r of reqs) this.addIncident(r);
  }

  private addIncident(req: IncidentRequest): void {
    const n = ++this.ordinal;
    const inc = buildIncident(this.ctx, req, Rng.derive(this.seed, 0x1c1d, n), n);
    this.labels.push(inc.label);
    this.pendingIncidents.push(inc);
    this.pendingIncidents.sort((a, b) => a.start - b.start);
    this.nextChange = Math.min(this.nextChange, inc.start);
  }

  private updateIncidents(t: number): void {
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
      this.addIncident({ scenario, start, end: start + demo.lastsMs });
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
        if (inc.silence) this.silenced[t]! += delta;
      }
    }
  }

  // ---------------------------------------------------------------- scheduling

  /**
   * Next auth of terminal t after `from`: a non-homogeneous Poisson process by thinning against
   * the terminal's peak rate; closed hours are skipped in one jump instead of thinned through.
   */
  private scheduleArrival(t: number, from: number): void {
    const rate = this.ratePerMs[t]!;
    if (!(rate > 0)) return;
    const profile = this.fleet.merchants[this.tMerchant[t]!]!.profile;
    const rng = this.rng;
    let x = from;
    for (let guard = 0; guard < 10_000; guard++) {
      x += -Math.log(1 - rng.next()) / rate;
      const h = localHour(x, this.tz);
      const level = trafficLevel(profile, h);
      if (level === 0) {
        // Jump to the start of the next open local hour.
        let k = 1;
        const hi = Math.floor(h);
        while (k < 24 && profile[(hi + k) % 24] === 0) k++;
        x = Math.ceil(x + (hi + k - h) * HOUR_MS);
        continue;
      }
      if (rng.next() < level) break;
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
      if (time >= this.nextChange) this.updateIncidents(time);
      if (heap.peekTime() !== time) continue;
      const ref = heap.pop();
      this.pos = time;
      let ev: SimEvent | undefined;
      if (ref < nT) {
        this.scheduleArrival(ref, time);
        if (this.silenced[ref]! > 0) continue;
        ev = this.auth(ref, Math.floor(time), null);
      } else if (ref < 2 * nT) {
        const t = ref - nT;
        // +-1 s of jitter per beat: terminal clocks drift a little.
        heap.push(time + this.heartbeatMs - 1000 + this.rng.int(2001), ref);
        if (this.silenced[t]! > 0 || !this.powered(t, time)) continue;
        ev = this.heartbeat(t, Math.floor(time));
      } else if (ref < this.recordBase) {
        // Incident source (card testing): one auth per step, rescheduled by the source.
        const item = this.sources[ref - 2 * nT]!;
        if (this.silenced[item.terminal]! > 0) continue;
        ev = this.auth(item.terminal, Math.floor(time), item);
        if (item.nextAt < Infinity) heap.push(item.nextAt, ref);
        else this.sources[ref - 2 * nT] = undefined;
      } else {
        ev = this.followUp(ref - this.recordBase, Math.floor(time));
      }
      this.counts.total++;
      return ev;
    }
  }

  private powered(t: number, time: number): boolean {
    const m = this.fleet.merchants[this.tMerchant[t]!]!;
    if (m.alwaysOn) return true;
    const h = Math.floor(localHour(time, this.tz));
    // Shops switch their terminals on an hour before opening.
    return m.profile[h]! > 0 || m.profile[(h + 1) % 24]! > 0;
  }

  private firmwareOf(t: number, ts: number): number {
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

  private timeField(ts: number): number | string {
    if (this.isoFraction > 0 && this.rng.next() < this.isoFraction) {
      return new Date(ts + this.tz).toISOString().replace('Z', this.isoOffset);
    }
    return ts;
  }

  private delivered(ts: number): number {
    // A few events reach the collector late: their ts is earlier than the events around them.
    if (this.disorderFraction > 0 && this.rng.next() < this.disorderFraction) {
      return ts - 1 - this.rng.int(this.disorderMaxMs);
    }
    return ts;
  }

  private pickCard(t: number): number {
    const rng = this.rng;
    const u = rng.next();
    const mi = this.tMerchant[t]!;
    if (u < 0.3) {
      // The shop's regulars: a pool of 25% of its daily sales, the most frequent come most often.
      const v = rng.next();
      return 1 + mi * 2 ** 22 + Math.floor(this.regularPool[mi]! * v * v);
    }
    if (u < 0.85) {
      // The region's cards: a pool of 70% of its daily sales, skewed (a card used at breakfast
      // is used again at lunch): together ~35% of a day's auths reuse a card seen that day.
      const v = rng.next();
      const r = this.fleet.terminals[t]!.region;
      return 2 ** 43 + r * 2 ** 24 + Math.floor(this.regionPool[r]! * v * v);
    }
    // Visitors and one-off cards.
    return 2 ** 45 + this.freshCard++;
  }

  private cardFingerprint(card: number): string {
    const lo = (card % 4294967296) | 0;
    const hi = Math.floor(card / 4294967296);
    const a = hash2(lo ^ this.seed, hi);
    const b = hash2(a, lo);
    return 'fp_' + hex8(a) + hex8(b);
  }

  private cardIssuer(card: number): number {
    const lo = (card % 4294967296) | 0;
    const hi = Math.floor(card / 4294967296);
    return this.fleet.issuerTable.indexAt(hash2(lo + 0x1234567, hi ^ 0x55) / 4294967296);
  }

  private auth(t: number, ts: number, source: IncidentSource | null): SimEvent {
    const rng = this.rng;
    const d = this.d;
    const m = this.fleet.merchants[this.tMerchant[t]!]!;
    d.terminal = t;
    d.ts = ts;
    d.firmware = this.firmwareOf(t, ts);
    d.rev = Rev.None;
    d.settle = Settle.None;
    d.currency = 'CNY';
    d.latency = Math.round(rng.lognormal(380 * this.netLatency[t]!, 0.45));
    if (source) {
      d.code = '00';
      source.nextAt = source.step(d, rng);
      d.issuer = this.cardIssuer(d.card);
    } else {
      d.card = this.pickCard(t);
      d.issuer = this.cardIssuer(d.card);
      const manual = rng.next() < m.manual;
      d.entryMode = manual ? 'manual' : ENTRY.pick(rng);
      let amount = rng.lognormal(m.medianAmount, 0.8);
      const r = rng.next();
      amount =
        r < 0.6
          ? Math.round(amount / 100) * 100
          : r < 0.8
            ? Math.round(amount / 10) * 10
            : Math.round(amount);
      const foreign = this.merchantForeign[m.index];
      if (foreign !== null && foreign !== undefined && rng.next() < 0.04) {
        d.currency = foreign;
        amount = Math.round(amount / (foreign === 'USD' ? 7.2 : 0.92));
      }
      d.amount = Math.max(1, amount);

      // Outcome: one uniform walks the cumulative fault/decline probabilities.
      const iF = this.issuerFactor[d.issuer]!;
      let u = rng.next();
      const pTo = this.pTimeout[t]!;
      const pIss = P_ISSUER * iF;
      const pTerm = this.pTerminal[t]!;
      const pCard = P_CARDHOLDER * iF * (manual ? 2.5 : 1);
      if (u < pTo) d.code = 'TO';
      else if ((u -= pTo) < pIss) d.code = ISSUER.pick(rng);
      else if ((u -= pIss) < pTerm) d.code = TERMINAL.pick(rng);
      else if ((u -= pTerm) < P_SECURITY) d.code = SECURITY.pick(rng);
      else if ((u -= P_SECURITY) < P_OTHER) d.code = OTHER.pick(rng);
      else if ((u -= P_OTHER) < pCard) d.code = (manual ? CARDHOLDER_MANUAL : CARDHOLDER).pick(rng);
      else d.code = APPROVED.pick(rng);
      if (d.code === 'TO' || DEFAULT_CODE_TABLE.get(d.code) === 'issuer') {
        d.latency = faultLatency(d.code, rng);
      }
      if (this.touched[t]! > 0 || this.global.length > 0) this.incidentHook(d, 'code');
    }

    // Default follow-ups from the outcome.
    if (isApproved(d.code)) {
      const v = rng.next();
      if (v < 0.003) d.rev = Rev.CustomerCancel;
      else if (v < 0.0035) d.rev = Rev.TerminalError;
      else if (v < 0.0037) d.rev = Rev.HostError;
      else d.settle = rng.next() < 0.0003 ? Settle.Rejected : Settle.Settled;
    } else if (d.code === 'TO') {
      const v = rng.next();
      d.rev =
        v < 0.94
          ? Rev.TimeoutOk
          : v < 0.96
            ? Rev.TimeoutLate
            : v < 0.98
              ? Rev.TimeoutFailedThenOk
              : v < 0.985
                ? Rev.TimeoutFailed
                : Rev.None;
    }
    if (this.touched[t]! > 0 || this.global.length > 0) this.incidentHook(d, 'plan');

    const txnSeq = this.txnSeq++;
    const txnId = this.txnPrefix + txnSeq.toString(36);
    const tid = this.tId[t]!;
    const mid = this.mId[t]!;
    const region = this.rId[t]!;
    const ev: SimEvent = {
      type: 'auth',
      eventId: this.idPrefix + (this.eventSeq++).toString(36),
      ts: this.timeField(this.delivered(ts)),
      terminalId: tid,
      merchantId: mid,
      region,
      txnId,
      amount: d.amount,
      currency: d.currency,
      responseCode: d.code,
      latencyMs: d.latency,
      entryMode: d.entryMode,
      cardFingerprint: this.cardFingerprint(d.card),
      issuerId: this.fleet.issuers[d.issuer]!,
      firmware: this.firmwareNames[d.firmware]!,
    };
    this.counts.auth++;
    if (d.rev !== Rev.None) this.planReversal(d, ts, txnSeq);
    if (d.settle !== Settle.None) {
      const B = this.settleBatchMs;
      const cut = Math.ceil((ts + 1) / B) * B;
      const at = Math.floor(cut + B * (0.1 + 0.8 * rng.next()));
      const recs = this.records;
      const r = recs.alloc();
      recs.kind[r] = REC_SETTLEMENT;
      recs.terminal[r] = t;
      recs.txn[r] = txnSeq;
      recs.amount[r] = d.amount;
      recs.aux[r] = d.settle;
      recs.cut[r] = cut;
      this.heap.push(at, this.recordBase + r);
    }
    return ev;
  }

  private incidentHook(d: AuthDraft, phase: 'code' | 'plan'): void {
    const t = d.terminal;
    for (const inc of this.active) {
      if (inc.mask === null) {
        if (inc.issuer >= 0 && inc.issuer !== d.issuer) continue;
      } else if (!inc.mask[t]) continue;
      const hook = phase === 'code' ? inc.code : inc.plan;
      if (hook) hook(d, this.rng);
    }
  }

  private planReversal(d: AuthDraft, ts: number, txnSeq: number): void {
    const rng = this.rng;
    const rev = (at: number, reason: number, failed: boolean) => {
      const recs = this.records;
      const r = recs.alloc();
      recs.kind[r] = REC_REVERSAL;
      recs.terminal[r] = d.terminal;
      recs.txn[r] = txnSeq;
      recs.aux[r] = reason * 2 + (failed ? 1 : 0);
      this.heap.push(Math.floor(at), this.recordBase + r);
    };
    switch (d.rev) {
      case Rev.None:
        return;
      case Rev.TimeoutOk:
        return rev(ts + rng.range(2_000, 25_000), 0, false);
      case Rev.TimeoutLate:
        return rev(ts + rng.range(70_000, 300_000), 0, false);
      case Rev.TimeoutFailedThenOk:
        rev(ts + rng.range(3_000, 20_000), 0, true);
        return rev(ts + rng.range(90_000, 400_000), 0, false);
      case Rev.TimeoutFailed:
        return rev(ts + rng.range(3_000, 20_000), 0, true);
      case Rev.CustomerCancel:
        return rev(ts + rng.range(5_000, 120_000), 1, false);
      case Rev.TerminalError:
        return rev(ts + rng.range(1_000, 10_000), 2, false);
      case Rev.HostError:
        return rev(ts + rng.range(1_000, 30_000), 3, false);
      case Rev.Other:
        return rev(ts + rng.range(10_000, 300_000), 4, false);
    }
  }

  /** Build the reversal or settlement event of record r, due now. */
  private followUp(r: number, ts: number): SimEvent {
    const recs = this.records;
    const t = recs.terminal[r]!;
    const txnId = this.txnPrefix + recs.txn[r]!.toString(36);
    const eventId = this.idPrefix + (this.eventSeq++).toString(36);
    let ev: SimEvent;
    if (recs.kind[r] === REC_SETTLEMENT) {
      const mid = this.mId[t]!;
      ev = {
        type: 'settlement',
        eventId,
        ts,
        terminalId: this.tId[t]!,
        merchantId: mid,
        region: this.rId[t]!,
        txnId,
        amount: recs.amount[r]!,
        status: recs.aux[r] === Settle.Settled ? 'settled' : 'rejected',
        batchId: `B-${mid}-${Math.round(recs.cut[r]! / 60_000)}`,
      };
      this.counts.settlement++;
    } else {
      const aux = recs.aux[r]!;
      ev = {
        type: 'reversal',
        eventId,
        ts,
        terminalId: this.tId[t]!,
        merchantId: this.mId[t]!,
        region: this.rId[t]!,
        txnId,
        reason: REVERSAL_REASONS[aux >> 1]!,
        status: aux & 1 ? 'failed' : 'succeeded',
      };
      this.counts.reversal++;
    }
    recs.release(r);
    return ev;
  }

  private heartbeat(t: number, ts: number): SimEvent {
    const term = this.fleet.terminals[t]!;
    const h = this.hb;
    h.terminal = t;
    h.ts = ts;
    h.firmware = this.firmwareOf(t, ts);
    const base = this.signalBase[t]!;
    h.signal = base > 0 ? Math.round(base + this.rng.range(-5, 5)) : -1;
    if (this.touched[t]! > 0) {
      for (const inc of this.active) if (inc.heartbeat && inc.mask?.[t]) inc.heartbeat(h, this.rng);
    }
    this.counts.heartbeat++;
    const ev: SimEvent = {
      type: 'heartbeat',
      eventId: this.idPrefix + (this.eventSeq++).toString(36),
      ts: this.timeField(this.delivered(ts)),
      terminalId: this.tId[t]!,
      merchantId: this.mId[t]!,
      region: this.rId[t]!,
      firmware: this.firmwareNames[h.firmware]!,
      network: term.network,
    };
    if (term.network !== 'ethernet') ev.signal = Math.min(100, Math.max(0, h.signal));
    return ev;
  }
}

/** Create a seeded simulation. Events are generated lazily in event-time order. */
export function createSimulation(opts: SimulationOptions): Simulation {
  return new SimulationImpl(opts);
}
