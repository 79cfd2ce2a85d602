import type {
  Alert,
  Language,
  LocalAlertRecord,
  RateRow,
  TerminalEvent,
} from '@tillwatch/contracts';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig, type ScopeName } from '@tillwatch/core';
import type {
  Monitor,
  RatesOptions,
  RulesConfig,
  RulesConfigInput,
  SilenceInput,
} from '@tillwatch/rules';
import { EventStage } from './event-stage';
import {
  FORWARD_CATEGORIES,
  applyRules,
  eventMonitor,
  rollupMonitor,
  type Stage,
} from './monitors';
import { partitionerFor } from './partitioner';
import { RollupStage, type HeldAlert } from './rollup-stage';
import type { PaneRow, StageMemory, StageSink } from './types';
import { ROLLUP_SCOPE_NAMES, streamWindows, type StreamWindows } from './windows';

/** pos.events partitions when nothing says otherwise: the processor's TOPIC_PARTITIONS default. */
export const DEFAULT_PARTITIONS = 4;
/**
 * A source partition without an event while the stream's time moved this far is idle: the
 * rollup stage stops waiting for it until its next tick. The processor's ROLLUP_IDLE_AFTER
 * default, in event time (the processor observes it on the wall clock, which a live stream's
 * event time follows).
 */
export const DEFAULT_IDLE_AFTER_MS = 30_000;

/** The engine configuration of both stages, from one partial config (the processor's and the local topology's). */
export function stageEngines(engine: Partial<EngineConfig> = {}): {
  win: StreamWindows;
  /** the event stage's engine: the stats windows plus the one-pane window */
  events: Partial<EngineConfig>;
  /** the rollup stage's windows (the stats windows) */
  rollup: { windowsMs: number[]; panesMs: number[] };
} {
  const windowsMs = [...(engine.windowsMs ?? DEFAULT_ENGINE_CONFIG.windowsMs)];
  const panesMs = [...(engine.panesMs ?? DEFAULT_ENGINE_CONFIG.panesMs)];
  const win = streamWindows({ windowsMs, panesMs });
  return {
    win,
    events: { ...engine, windowsMs: win.windowsMs, panesMs: win.panesMs },
    rollup: { windowsMs, panesMs },
  };
}

export interface TopologyOptions {
  /** pos.events partitions the events are spread over, by merchant (default 4) */
  partitions?: number;
  /** pos.rollups partitions (default: as many as events partitions) */
  rollupPartitions?: number;
  engine?: Partial<EngineConfig>;
  rules?: RulesConfigInput | RulesConfig;
  silences?: readonly SilenceInput[];
  lang?: Language;
  /** event time without an event after which a partition is idle (default 30 s; Infinity: never) */
  idleAfterMs?: number;
}

export interface TopologyOutput {
  alert(a: Alert): void;
  /** each stage's rules memory at every hour boundary of event time (to keep durably) */
  memory?(m: StageMemory): void;
  /** pane rows (each key's counts per closed pane, the window stats kept); absent: none are made */
  panes?(...row: PaneRow): void;
  /** an event given up on (StageSink.dead: `ts_in_future`), with the tag push() gave it */
  dead?(ev: TerminalEvent, reason: string, tag: number): void;
}

export interface TopologyStats {
  events: number;
  accepted: number;
  duplicates: number;
  late: number;
  silenced: number;
  /** partials that reached a rollup stage after their pane had closed (a source was idle) */
  lateRollups: number;
  /** partition-local alerts folded into a regional outage (fold-gate.ts) */
  folded: number;
  /** events held for a time far past their partition's (ahead-guard.ts), and given up on
   *  (dead letters `ts_in_future`: the hold was full, or the input ended) */
  heldAhead: number;
  droppedAhead: number;
}

/**
 * The whole topology in one process: the event stages of `partitions` partitions and the
 * rollup stages of `rollupPartitions`, connected in memory as Kafka connects them in the
 * processor — an event goes to the partition its merchant hashes to, a partial to the rollup
 * partition its key hashes to, a tick to every one. `tillwatch replay` and the embedded start
 * drive this; the processor drives the same stages one partition at a time. Same events in the
 * same partitions give the same alerts and rows, whichever drives (test/e2e/pipeline/
 * equivalence.int.test.ts holds them to it).
 *
 * Time is the events' own: a partition's boundaries close as its events pass them. A driver
 * whose source knows more (the embedded start's wall clock) calls advance().
 */
export class LocalTopology {
  readonly partitions: number;
  readonly rollupPartitions: number;
  readonly eventStages: EventStage[] = [];
  readonly rollupStages: RollupStage[] = [];
  private readonly eventMonitors: Monitor[] = [];
  private readonly rollupMonitors: Monitor[] = [];
  private readonly route: (key: string) => number;
  private readonly routeRollup: (key: string) => number;
  private readonly sink: StageSink;
  private readonly idleAfter: number;
  private readonly lastTs: number[];
  private readonly idle: boolean[];
  private maxTs = Number.NEGATIVE_INFINITY;
  private firstTs = Number.NaN;
  private rules: RulesConfigInput | RulesConfig;
  private events = 0;
  /** the engines' allowed lateness: a watermark from a source is the time less this */
  readonly allowedLatenessMs: number;

  constructor(output: TopologyOutput, o: TopologyOptions = {}) {
    this.partitions = o.partitions ?? DEFAULT_PARTITIONS;
    this.rollupPartitions = o.rollupPartitions ?? this.partitions;
    this.route = partitionerFor(this.partitions);
    this.routeRollup = partitionerFor(this.rollupPartitions);
    this.idleAfter = o.idleAfterMs ?? DEFAULT_IDLE_AFTER_MS;
    this.rules = o.rules ?? {};
    this.lastTs = new Array<number>(this.partitions).fill(Number.NaN);
    this.idle = new Array<boolean>(this.partitions).fill(false);
    const { win, events, rollup } = stageEngines(o.engine);
    this.allowedLatenessMs = o.engine?.allowedLatenessMs ?? DEFAULT_ENGINE_CONFIG.allowedLatenessMs;
    const mo = {
      rules: this.rules,
      silences: o.silences ?? [],
      ...(o.lang ? { lang: o.lang } : {}),
    };
    this.sink = {
      alert: (a) => output.alert(a),
      rollup: (m) => {
        const p = m.partition ?? this.routeRollup(m.key!);
        this.rollupStages[p]!.handle(m.value, this.sink);
      },
      ...(output.panes ? { panes: output.panes.bind(output) } : {}),
      ...(output.memory ? { memory: output.memory.bind(output) } : {}),
      ...(output.dead ? { dead: output.dead.bind(output) } : {}),
    };
    for (let r = 0; r < this.rollupPartitions; r++) {
      this.rollupStages.push(
        new RollupStage({
          ...rollup,
          p0: win.p0,
          partition: r,
          partitions: this.rollupPartitions,
          monitor: (windows) => {
            const m = rollupMonitor(windows, events, {
              ...mo,
              rollupPartitions: this.rollupPartitions,
            });
            this.rollupMonitors.push(m);
            return m;
          },
        }),
      );
    }
    for (let p = 0; p < this.partitions; p++) {
      const monitor = eventMonitor(events, mo);
      this.eventMonitors.push(monitor);
      this.eventStages.push(
        new EventStage({
          partition: p,
          sourcePartitions: this.partitions,
          rollupPartitions: this.rollupPartitions,
          monitor,
          paneWindow: win.paneWindow,
          p0: win.p0,
          forwardCategories: FORWARD_CATEGORIES,
        }),
      );
    }
  }

  /**
   * Give the stages back what their rules had learnt (the latest memory of each stage and
   * partition), before the first event; the events replayed from before a memory's time teach
   * it nothing twice. Throws when a memory is for another partitioning.
   */
  restore(memories: readonly StageMemory[]): void {
    for (const m of memories) {
      const stages = m.stage === 'events' ? this.eventStages : this.rollupStages;
      const stage = stages[m.partition];
      if (!stage || stages.length !== m.partitions) {
        throw new Error(
          `rules memory of ${m.stage} partition ${m.partition} of ${m.partitions}: this topology has ${stages.length} ${m.stage} partitions`,
        );
      }
      stage.restore(m);
    }
  }

  /**
   * The transitions raised by the event stages and not sent yet (each rollup stage holds them
   * until the boundary they were raised at closes on every partition), with the events
   * partition that raised them: what a stop would lose (RollupStage.inFlight).
   */
  inFlight(): HeldAlert[] {
    return this.rollupStages.flatMap((r) => r.inFlight());
  }

  /**
   * Hand back transitions a previous run had in flight (inFlight()), after restore() and
   * before the first event: each goes to the rollup stage of its region as the event stage
   * sent it, and out when its boundary closes. Only those the restored event stages do not
   * raise again belong here: the caller keeps those at or before their stage's memory.
   */
  reinject(held: readonly HeldAlert[]): void {
    for (const { a, src } of held) {
      const value: LocalAlertRecord = { k: 'x', src, a };
      this.sink.rollup({ key: `region:${a.region ?? ''}`, value, timestamp: Date.parse(a.ts) });
    }
  }

  /**
   * An event of the settlement rebuild before a replay (as the processor's recovery feeds the
   * approved auths, reversals and settlements of one deadline from ClickHouse): it counts
   * towards settlements due later, closes nothing and raises nothing.
   */
  prime(ev: TerminalEvent): void {
    this.eventStages[this.route(ev.merchantId)]!.prime(ev);
  }

  /** The partition an event goes to: its merchant's, as Kafka's default partitioner puts it. */
  partitionOf(ev: TerminalEvent): number {
    return this.route(ev.merchantId);
  }

  /**
   * One valid event, in the order the source gives them, to its merchant's partition, or to
   * `partition` when the source names one (as a producer may). `tag` comes back with the event
   * if it is given up on (TopologyOutput.dead): a line number, an offset.
   */
  push(ev: TerminalEvent, partition?: number, tag = -1): void {
    if (this.events++ === 0) this.firstTs = ev.ts;
    const p = partition ?? this.route(ev.merchantId);
    const stage = this.eventStages[p]!;
    stage.handle(ev, this.sink, tag);
    // the partition's time as its stage let it move: an event held for a wrong clock moves nothing
    const high = stage.guard.high;
    if (!(high <= this.lastTs[p]!)) {
      this.lastTs[p] = high;
      this.idle[p] = false;
      if (high > this.maxTs) this.maxTs = high;
    }
    if (this.idleAfter !== Number.POSITIVE_INFINITY) this.markIdle();
  }

  /** A partition that has been quiet while the stream moved on is reported idle, once. */
  private markIdle(): void {
    const horizon = this.maxTs - this.idleAfter;
    for (let p = 0; p < this.partitions; p++) {
      if (this.idle[p]) continue;
      // a partition that never had an event counts from the stream's first one
      const last = Number.isNaN(this.lastTs[p]!) ? this.firstTs : this.lastTs[p]!;
      if (!(last <= horizon)) continue;
      this.idle[p] = true;
      for (let r = 0; r < this.rollupPartitions; r++) {
        this.rollupStages[r]!.handle(
          { k: 't', src: p, n: this.partitions, wm: 0, idle: true },
          this.sink,
        );
      }
    }
  }

  /** The input ended (replay): events still held for a time never reached become dead letters. */
  end(): void {
    for (const s of this.eventStages) s.end(this.sink);
  }

  /**
   * The source vouches that no event before `watermark` is still to come (the embedded start's
   * wall clock): every partition closes its boundaries up to it.
   */
  advance(watermark: number): void {
    for (const s of this.eventStages) s.advance(watermark, this.sink);
  }

  /** Validate and apply a new rule set to every stage; throws (RulesConfigError) and keeps the old one. */
  setRules(next: RulesConfigInput | RulesConfig): void {
    applyRules(this.targets(), next, this.rules);
    this.rules = next;
  }

  setSilences(list: readonly SilenceInput[]): void {
    for (const m of [...this.eventMonitors, ...this.rollupMonitors]) m.setSilences(list);
  }

  /** The rules in force (the events stage's view: cross-partition rules as configured there too). */
  get rulesConfig(): RulesConfig {
    return this.eventMonitors[0]!.rules;
  }

  private targets(): { monitor: Monitor; stage: Stage }[] {
    return [
      ...this.eventMonitors.map((monitor) => ({ monitor, stage: 'events' as const })),
      ...this.rollupMonitors.map((monitor) => ({ monitor, stage: 'rollup' as const })),
    ];
  }

  /**
   * Current rates of a scope over one window, as Monitor.rates gives them: terminal and
   * merchant rows from the event stages (ranked across partitions), region, firmware, issuer
   * and fleet rows from the rollup stages (every rollup partition holds the whole fleet).
   */
  rates(scope: ScopeName, window: string | number, opts: RatesOptions = {}): RateRow[] {
    if (scope === 'fleet') return this.rollupMonitors[0]?.rates('fleet', window, opts) ?? [];
    const monitors = (ROLLUP_SCOPE_NAMES as readonly string[]).includes(scope)
      ? this.rollupMonitors
      : this.eventMonitors;
    const rows = monitors.flatMap((m) => m.rates(scope, window, opts));
    const ranked = scope === 'terminal' || scope === 'merchant';
    if (!ranked && opts.top === undefined) return rows.sort((a, b) => (a.key < b.key ? -1 : 1));
    const sortBy = opts.sortBy ?? 'faultRate';
    rows.sort(
      (a, b) =>
        (b[sortBy] as number) - (a[sortBy] as number) ||
        b.auths - a.auths ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    return rows.slice(0, opts.top ?? (ranked ? 20 : Number.POSITIVE_INFINITY));
  }

  /** Alerts firing now, in every stage. */
  active(): Alert[] {
    return [...this.eventMonitors, ...this.rollupMonitors].flatMap((m) => m.active());
  }

  /** Transitions kept from the outputs by a silence, newest last per stage. */
  silenced(): Alert[] {
    return [...this.eventMonitors, ...this.rollupMonitors].flatMap((m) => m.silenced());
  }

  stats(): TopologyStats {
    const s = {
      events: this.events,
      accepted: 0,
      duplicates: 0,
      late: 0,
      silenced: 0,
      lateRollups: 0,
      folded: 0,
      heldAhead: 0,
      droppedAhead: 0,
    };
    for (const e of this.eventStages) {
      s.heldAhead += e.guard.holding;
      s.droppedAhead += e.guard.dropped;
      s.late += e.guard.lateAtStart;
    }
    for (const m of this.eventMonitors) {
      const x = m.stats();
      s.accepted += x.accepted;
      s.duplicates += x.duplicates;
      s.late += x.late;
      s.silenced += x.silenced;
    }
    for (const m of this.rollupMonitors) s.silenced += m.stats().silenced;
    for (const r of this.rollupStages) {
      s.lateRollups += r.late;
      s.folded += r.gate.foldedCount;
    }
    return s;
  }
}
