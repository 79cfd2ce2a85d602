import {
  CATEGORIES,
  buildCodeTable,
  windowLabel,
  type Category,
  type Language,
  type RateRow,
  type RuleId,
  type TerminalEvent,
} from '@tillwatch/contracts';
import {
  Outcome,
  SCOPE_NAMES,
  createEngine,
  resolveConfig,
  type EngineConfig,
  type ScopeName,
  type WindowEngine,
} from '@tillwatch/core';
import { BaselineStore } from './baseline';
import {
  RulesConfigError,
  parseRulesConfig,
  type RulesConfig,
  type RulesConfigInput,
} from './config';
import { EpisodeBook, type AlertRecord } from './episodes';
import { newRegionVolume, updateBaselines } from './learn';
import { rateRows, type RatesOptions } from './rates';
import {
  cardTesting,
  durationMs,
  failedButCharged,
  feedOutage,
  firmwareRegression,
  inputErrors,
  issuerDegradation,
  newCrossNotes,
  noSettlement,
  noSettlementKeys,
  regionalOutage,
  reversalSpike,
  terminalFaultSpike,
  terminalNetworkErrors,
  terminalSilent,
  ReadCache,
  screen,
  ScreenMemo,
  type Ctx,
  type RegionVolume,
} from './rules';
import { SilenceSet, type Silence, type SilenceInput } from './silences';
import { RecentList } from './recent';
import { Tracker, type SilenceChange } from './tracker';
import { exportMemory, importMemory, type MemoryParts, type RulesMemory } from './memory';
import { Calendar } from './calendar';
import { noteClock, terminalClockDrift, type ClockNote } from './rules/clock';

/**
 * The Monitor: engine + rules + episodes, in event time. The all-in-one, `tillwatch replay` and
 * the Kafka processor all drive it the same way: ingest() every validated event, tick() to let
 * time pass (with a watermark when the caller knows more than the events do, e.g. wall clock in
 * the all-in-one), and take the alert transitions tick() returns (also sent to on('alert')).
 */

export type { RatesOptions } from './rates';

export type EngineFactory = (config: Partial<EngineConfig>) => WindowEngine;

export interface MonitorOptions {
  rules?: RulesConfig | RulesConfigInput;
  engine?: Partial<EngineConfig>;
  engineFactory?: EngineFactory;
  /** language of probableCauses/actions; both are always in `i18n` */
  lang?: Language;
  silences?: readonly SilenceInput[];
  /**
   * Whether the monitor judges its terminals' silences for regional_outage itself (default).
   * The stream's stages do not: the event stage reports them (silenceChanges) to the rollup
   * stage, whose monitor is told (noteSilence).
   */
  selfSilences?: boolean;
  /**
   * Whether this monitor sees every region of the fleet (default). A rollup partition of
   * several sees only the regions that hash to it: it cannot tell a feed outage (every region
   * at once) from a few regional ones, and does not try (rules/feed-outage.ts).
   */
  wholeFleet?: boolean;
}

export interface MonitorStats {
  events: number;
  accepted: number;
  duplicates: number;
  late: number;
  evaluations: number;
  fired: number;
  updated: number;
  resolved: number;
  silenced: number;
  folded: number;
  openEpisodes: number;
}

type Listener<T> = (x: T) => void;

export interface Monitor {
  readonly engine: WindowEngine;
  ingest(ev: TerminalEvent): Outcome;
  /**
   * An event of the settlement rebuild before a replay (recovery reads one settlement deadline
   * of approved auths, reversals and settlements back): it counts towards settlements and
   * charges, but teaches nothing — the rules learn from the replay on. A blind stage (no
   * memory) primed with a day of sales alone learnt a sales-only profile, heartbeats missing.
   */
  prime(ev: TerminalEvent): Outcome;
  /** Advance the watermark (if given) and evaluate rules at the cadence. Returns transitions. */
  tick(watermarkMs?: number): AlertRecord[];
  /** Advance the watermark (if given) and evaluate now, whatever the cadence (end of input). */
  flush(watermarkMs?: number): AlertRecord[];
  on(event: 'alert', cb: Listener<AlertRecord>): () => void;
  on(event: 'silenced', cb: Listener<AlertRecord>): () => void;
  rates(scope: ScopeName, window: string | number, opts?: RatesOptions): RateRow[];
  /** Validate and apply new rules; throws RulesConfigError and keeps the old rules. */
  setRules(config: unknown): void;
  readonly rules: RulesConfig;
  /** Terminals that went silent or spoke again since the last call, at event time `now`
   *  (a source partition reports them to the rollup stage; Tracker.silenceChanges). */
  silenceChanges(now: number): SilenceChange[];
  /** A silence report from a source partition (rollup stage): regional_outage reads them. */
  noteSilence(c: SilenceChange): void;
  /** The link a terminal's heartbeats report, if any. */
  terminalNetwork(terminalId: string): string | undefined;
  /**
   * An event of this terminal stamped `offsetMs` away from its partition's time: ahead (> 0:
   * the event stage saw other terminals' events arrive after it with times that far earlier)
   * or behind (< 0). Late events are noted by ingest() itself. terminal_clock_drift reads them.
   */
  noteClock(
    where: { terminalId: string; merchantId: string; region: string },
    offsetMs: number,
  ): void;
  /** What the rules have learnt, whole up to hour boundary `at` (memory.ts). */
  exportMemory(at: number): RulesMemory;
  /** Restore learnt memory before replaying from a time before its `at`. */
  importMemory(mem: RulesMemory): void;
  setSilences(list: readonly SilenceInput[]): void;
  readonly silences: Silence[];
  /** recent transitions kept from the sinks by a silence (bounded, newest last) */
  silenced(): AlertRecord[];
  /** alerts currently firing (sent), e.g. for a board that connects late */
  active(): AlertRecord[];
  stats(): MonitorStats;
}

/** The engine a monitor runs on unless told otherwise: @tillwatch/core's fast engine. */
export function defaultEngineFactory(): EngineFactory {
  return (config) => createEngine(config);
}

const MINUTE = 60_000;

export function createMonitor(opts: MonitorOptions = {}): Monitor {
  return new MonitorImpl(opts);
}

class MonitorImpl implements Monitor {
  readonly engine: WindowEngine;
  private cfg: RulesConfig;
  private windowIndex = new Map<string, number>();
  private readonly silenceSet: SilenceSet;
  private readonly tracker: Tracker;
  private readonly episodes: EpisodeBook;
  private readonly baselines: Record<ScopeName, BaselineStore>;
  private readonly regionVolume = new Map<string, RegionVolume>();
  /** one evaluation's engine reads, shared by the rules (reset at each evaluation) */
  private readonly reads = new ReadCache();
  /** the rate rules' cheap test's verdicts, kept while the windows it read stay (rate-rule.ts) */
  private readonly screens = { terminal: new ScreenMemo(), merchant: new ScreenMemo() };
  /** the recheck's lists, one per recent-ids map of the tracker */
  private readonly recentLists = new Map<Map<string, number>, RecentList>();
  /** feed outages and what regional outages explain, between evaluations (feed-outage.ts) */
  private readonly notes: ReturnType<typeof newCrossNotes>;
  private readonly listeners = {
    alert: new Set<Listener<AlertRecord>>(),
    silenced: new Set<Listener<AlertRecord>>(),
  };
  private nextEval = Number.NEGATIVE_INFINITY;
  private nextBaseline = Number.NEGATIVE_INFINITY;
  private nextMinute = Number.NEGATIVE_INFINITY;
  private nextFiveMinutes = Number.NEGATIVE_INFINITY;
  private nextHousekeeping = Number.NEGATIVE_INFINITY;
  private nextSilences = Number.NEGATIVE_INFINITY;
  private nextHour = Number.NEGATIVE_INFINITY;
  private readonly selfSilences: boolean;
  /** terminals/merchants active since the last baseline update */
  private activeTerminals = new Set<string>();
  private activeMerchants = new Set<string>();
  private elevated = new Set<string>();
  private counts = { events: 0, accepted: 0, duplicates: 0, late: 0, evaluations: 0 };
  /** terminals with events stamped far from their partition's time (rules/clock.ts) */
  private readonly clockNotes = new Map<string, ClockNote>();
  private silencedSeen = 0;

  constructor(opts: MonitorOptions) {
    const engineConfig = resolveConfig(opts.engine ?? {});
    this.engine = (opts.engineFactory ?? defaultEngineFactory())(opts.engine ?? {});
    this.cfg = parseRulesConfig(opts.rules ?? {});
    this.windowIndex = this.resolveWindows(this.cfg);
    this.silenceSet = new SilenceSet(opts.silences ?? []);
    this.selfSilences = opts.selfSilences ?? true;
    this.notes = newCrossNotes(opts.wholeFleet ?? true);
    const codeTable = buildCodeTable(codeMapping(engineConfig.codeCategories));
    this.tracker = new Tracker(engineConfig.reversalGraceMs, codeTable);
    this.tracker.calendar = new Calendar(this.cfg.calendar);
    const halfLife = durationMs(this.cfg.baseline.halfLife);
    this.baselines = Object.fromEntries(
      SCOPE_NAMES.map((s) => [s, new BaselineStore(halfLife)]),
    ) as Record<ScopeName, BaselineStore>;
    this.episodes = new EpisodeBook(this.episodeOptions(opts.lang ?? 'en'), this.silenceSet);
  }

  get rules(): RulesConfig {
    return structuredClone(this.cfg);
  }

  get silences(): Silence[] {
    return this.silenceSet.list();
  }

  prime(ev: TerminalEvent): Outcome {
    // its hours are not learnt: the profile learns from the replay's first whole hour on
    if (ev.ts + 1 > this.tracker.profileFrom) this.tracker.profileFrom = ev.ts + 1;
    return this.ingest(ev);
  }

  ingest(ev: TerminalEvent): Outcome {
    this.counts.events++;
    const r = this.engine.ingest(ev);
    if (r === Outcome.Duplicate) {
      this.counts.duplicates++;
      return r;
    }
    if (r === Outcome.Late) {
      this.counts.late++;
      // far behind its partition: a clock, or sales kept and sent late (terminal_clock_drift)
      this.noteClock(ev, ev.ts - this.engine.watermark);
      return r;
    }
    this.counts.accepted++;
    this.tracker.observe(ev);
    if (ev.type !== 'settlement') this.activeTerminals.add(ev.terminalId);
    this.activeMerchants.add(ev.merchantId);
    return r;
  }

  tick(watermarkMs?: number): AlertRecord[] {
    if (watermarkMs !== undefined) this.engine.advance(watermarkMs);
    const now = this.engine.watermark;
    if (!Number.isFinite(now) || now < this.nextEval) return [];
    const every = durationMs(this.cfg.evaluateEvery);
    this.nextEval = (Math.floor(now / every) + 1) * every;
    const out = this.evaluate(now);
    for (const a of out) for (const cb of this.listeners.alert) cb(a);
    return out;
  }

  flush(watermarkMs?: number): AlertRecord[] {
    this.nextEval = Number.NEGATIVE_INFINITY;
    return this.tick(watermarkMs);
  }

  on(event: 'alert' | 'silenced', cb: Listener<AlertRecord>): () => void {
    this.listeners[event].add(cb);
    return () => this.listeners[event].delete(cb);
  }

  setRules(config: unknown): void {
    const next = parseRulesConfig(config);
    const windows = this.resolveWindows(next); // throws on a window the engine does not keep
    this.cfg = next;
    this.windowIndex = windows;
    this.tracker.calendar = new Calendar(next.calendar);
    for (const b of Object.values(this.baselines))
      b.setHalfLife(durationMs(next.baseline.halfLife));
    this.episodes.opts = this.episodeOptions(this.episodes.opts.lang);
    this.nextEval = Number.NEGATIVE_INFINITY;
  }

  setSilences(list: readonly SilenceInput[]): void {
    this.silenceSet.set(list);
  }

  silenceChanges(now: number): SilenceChange[] {
    if (now <= this.tracker.learnFrom) return []; // reported before the memory was taken
    return this.tracker.silenceChanges(now, durationMs(this.cfg.rules.regional_outage.partial.gap));
  }

  noteSilence(c: SilenceChange): void {
    this.tracker.noteSilence(c);
  }

  noteClock(
    where: { terminalId: string; merchantId: string; region: string },
    offsetMs: number,
  ): void {
    if (Math.abs(offsetMs) < durationMs(this.cfg.rules.terminal_clock_drift.minOffset)) return;
    noteClock(this.clockNotes, where, offsetMs, this.engine.watermark);
  }

  terminalNetwork(terminalId: string): string | undefined {
    return this.tracker.terminals.get(terminalId)?.network;
  }

  private memoryParts(): MemoryParts {
    const slot = durationMs(this.cfg.baseline.updateEvery);
    return {
      tracker: this.tracker,
      episodes: this.episodes,
      regionVolume: this.regionVolume,
      baselines: this.baselines,
      newVolume: (region) => newRegionVolume(this.tracker, region, slot),
    };
  }

  exportMemory(at: number): RulesMemory {
    this.tracker.closeHoursBefore(at);
    return exportMemory(this.memoryParts(), at);
  }

  importMemory(mem: RulesMemory): void {
    importMemory(this.memoryParts(), mem);
  }

  silenced(): AlertRecord[] {
    return [...this.episodes.silencedLog];
  }

  active(): AlertRecord[] {
    return this.episodes.active();
  }

  stats(): MonitorStats {
    const s = this.episodes.stats;
    return {
      ...this.counts,
      fired: s.fired,
      updated: s.updated,
      resolved: s.resolved,
      silenced: s.silenced,
      folded: s.folded,
      openEpisodes: this.episodes.size,
    };
  }

  rates(scope: ScopeName, window: string | number, opts: RatesOptions = {}): RateRow[] {
    return rateRows(
      {
        engine: this.engine,
        tracker: this.tracker,
        baselines: this.baselines,
        baselineEvery: this.cfg.baseline.updateEvery,
      },
      scope,
      window,
      opts,
    );
  }

  // -------------------------------------------------------------------------------------------

  private episodeOptions(lang: Language) {
    const cfg = this.cfg;
    return {
      lang,
      holdMs: (rule: RuleId) => {
        const r = cfg.rules[rule] as { hold?: string };
        return durationMs(r.hold ?? cfg.hold);
      },
      reopenGuardMs: durationMs(cfg.reopenGuard),
      unfoldAfterMs: (rule: RuleId) => {
        const r = cfg.rules[rule] as { windows?: string[]; window?: string };
        const labels = r.windows ?? (r.window ? [r.window] : []);
        return Math.max(15 * MINUTE, ...labels.map(durationMs));
      },
      updateGapMs: 5 * MINUTE,
    };
  }

  private resolveWindows(cfg: RulesConfig): Map<string, number> {
    const labels = new Set<string>([cfg.baseline.updateEvery]);
    const where = new Map<string, string>([[cfg.baseline.updateEvery, 'baseline.updateEvery']]);
    for (const [id, r] of Object.entries(cfg.rules)) {
      const rr = r as {
        window?: string;
        slow?: { window: string };
        windows?: string[];
        collapse?: { window: string; fastWindow: string; suddenWindow: string };
      };
      if (rr.window) {
        labels.add(rr.window);
        where.set(rr.window, `rules.${id}.window`);
      }
      if (rr.slow) {
        labels.add(rr.slow.window);
        where.set(rr.slow.window, `rules.${id}.slow.window`);
      }
      for (const l of rr.windows ?? []) {
        labels.add(l);
        where.set(l, `rules.${id}.windows`);
      }
      if (rr.collapse) {
        labels.add(rr.collapse.window);
        where.set(rr.collapse.window, `rules.${id}.collapse.window`);
        labels.add(rr.collapse.fastWindow);
        where.set(rr.collapse.fastWindow, `rules.${id}.collapse.fastWindow`);
        labels.add(rr.collapse.suddenWindow);
        where.set(rr.collapse.suddenWindow, `rules.${id}.collapse.suddenWindow`);
      }
    }
    const out = new Map<string, number>();
    for (const l of labels) {
      const i = this.engine.config.windowsMs.indexOf(durationMs(l));
      if (i < 0) {
        throw new RulesConfigError(
          `${where.get(l)}: window ${l} is not one of the engine's windows (${this.engine.config.windowsMs.map(windowLabel).join(', ')})`,
        );
      }
      out.set(l, i);
    }
    return out;
  }

  /** keys dirtied within the recheck span (the coarsest pane of the windows below the
   *  longest, plus one evaluation), sorted; those marked DIRTY since the last evaluation are
   *  stamped with this one's time (recent.ts) */
  private recheck(recent: Map<string, number>, now: number): readonly string[] {
    let list = this.recentLists.get(recent);
    if (!list) this.recentLists.set(recent, (list = new RecentList()));
    return list.take(recent, now, this.recheckMs());
  }

  private recheckMs(): number {
    const { windowsMs, panesMs } = this.engine.config;
    const longest = Math.max(...windowsMs);
    let pane = 0;
    windowsMs.forEach((w, i) => {
      if (w < longest) pane = Math.max(pane, panesMs[i]!);
    });
    return pane + durationMs(this.cfg.evaluateEvery);
  }

  private evaluate(now: number): AlertRecord[] {
    this.counts.evaluations++;
    const out: AlertRecord[] = [];
    const windows = this.windowIndex;
    const ctx: Ctx = {
      now,
      engine: this.engine,
      cfg: this.cfg,
      win: (label) => windows.get(label)!,
      tracker: this.tracker,
      episodes: this.episodes,
      baselines: this.baselines,
      regionVolume: this.regionVolume,
      elevated: this.elevated,
      out,
      reads: this.reads,
      screens: this.screens,
      notes: this.notes,
    };
    this.reads.reset();
    const minute = now >= this.nextMinute;
    if (minute) this.nextMinute = (Math.floor(now / MINUTE) + 1) * MINUTE;
    const fiveMinutes = now >= this.nextFiveMinutes;
    if (fiveMinutes) this.nextFiveMinutes = (Math.floor(now / (5 * MINUTE)) + 1) * 5 * MINUTE;
    this.tracker.expireTimeouts(now);
    if (this.selfSilences && now >= this.nextSilences) {
      // every 30 s of event time, as the event stage reports them (stream/event-stage.ts)
      this.nextSilences = (Math.floor(now / 30_000) + 1) * 30_000;
      for (const c of this.silenceChanges(now)) this.tracker.noteSilence(c);
    }
    // A key is judged at the evaluations of the next recheck span after its event, not only the
    // next one: a window's newest pane counts once it closes (30 s panes for 15 min), and a
    // quiet till's fifth failure must not wait for its next sale to be looked at.
    const terms = this.recheck(this.tracker.recentTerminals, now);
    const merchants = this.recheck(this.tracker.recentMerchants, now);
    // Settlement deadlines count without a new event of the key: no_settlement looks at every
    // merchant once a minute and every terminal every 5 minutes, its window is 1h; of those, at
    // the keys the engine lists with a missed settlement in it (noSettlementKeys).
    // Unreversed timeouts mark their terminal dirty when their grace runs out.

    // Before a restored memory's time the rules judge nothing: the windows are still filling
    // from the replay, and what they decided then is in the memory (its open episodes).
    const frozen = now <= this.tracker.learnFrom;
    if (!frozen) {
      // Parents first, so that their children fold into them in the same round: the feed
      // (every region at once) before the regions, the regions before what they explain.
      feedOutage(ctx);
      regionalOutage(ctx);
      issuerDegradation(ctx);
      firmwareRegression(ctx);
      // (the rate rules' cheap test of every key, once per key for all of them: rate-rule.ts)
      const m = screen(ctx, 'merchant', merchants);
      cardTesting(ctx, 'merchant', m.get('card_testing') ?? [], true);
      reversalSpike(ctx, 'merchant', m.get('reversal_spike') ?? [], true);
      noSettlement(ctx, 'merchant', noSettlementKeys(ctx, 'merchant', minute ? 'all' : merchants));
      const t = screen(ctx, 'terminal', terms);
      terminalFaultSpike(ctx, t.get('terminal_fault_spike') ?? [], true);
      terminalNetworkErrors(ctx, t.get('terminal_network_errors') ?? [], true);
      reversalSpike(ctx, 'terminal', t.get('reversal_spike') ?? [], true);
      inputErrors(ctx, t.get('input_errors') ?? [], true);
      cardTesting(ctx, 'terminal', t.get('card_testing') ?? [], true);
      failedButCharged(ctx, terms);
      noSettlement(ctx, 'terminal', noSettlementKeys(ctx, 'terminal', fiveMinutes ? 'all' : terms));
      if (minute) terminalSilent(ctx);
      terminalClockDrift(ctx, this.clockNotes);
    }

    if (now >= this.nextHour) {
      // every terminal's hour closes at the hour (rules memory is taken there: memory.ts)
      this.nextHour = (Math.floor(now / 3_600_000) + 1) * 3_600_000;
      this.tracker.closeHoursBefore(Math.floor(now / 3_600_000) * 3_600_000);
    }
    if (now >= this.nextBaseline) {
      const every = durationMs(this.cfg.baseline.updateEvery);
      const first = !Number.isFinite(this.nextBaseline);
      this.nextBaseline = (Math.floor(now / every) + 1) * every;
      if (!first) {
        // (before a restored memory's time, the memory has learnt it already)
        if (now > this.tracker.learnFrom) {
          updateBaselines(ctx, {
            terminals: this.activeTerminals,
            merchants: this.activeMerchants,
          });
        }
        this.activeTerminals = new Set();
        this.activeMerchants = new Set();
      }
      this.elevated.clear();
    }
    if (now >= this.nextHousekeeping) {
      // on the hour: a restarted monitor forgets at the same times as one that ran through
      this.nextHousekeeping = (Math.floor(now / 3_600_000) + 1) * 3_600_000;
      this.tracker.forgetIdle(now);
      this.episodes.prune(now);
      for (const b of Object.values(this.baselines)) b.forget(now);
    }
    const silencedNow = this.episodes.stats.silenced;
    if (silencedNow > this.silencedSeen) {
      const fresh = this.episodes.silencedLog.slice(-(silencedNow - this.silencedSeen));
      this.silencedSeen = silencedNow;
      for (const a of fresh) for (const cb of this.listeners.silenced) cb(a);
    }
    return out;
  }
}

/** The engine's code map (code -> CAT index) as the contracts' category mapping. */
function codeMapping(map: ReadonlyMap<string, number>): Partial<Record<Category, string[]>> {
  const out: Partial<Record<Category, string[]>> = {};
  for (const [code, idx] of map) {
    const cat = CATEGORIES[idx];
    if (cat) (out[cat] ??= []).push(code);
  }
  return out;
}
