import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { listSilences } from '@tillwatch/clickhouse';
import {
  fromStoredSilence,
  loadRulesFile,
  watchRulesFile,
  type Monitor,
  type RulesConfig,
  type RulesConfigInput,
  type RulesWatcher,
  type SilenceInput,
} from '@tillwatch/rules';
import {
  EventStage,
  FORWARD_CATEGORIES,
  RollupStage,
  applyRules,
  eventMonitor,
  rollupMonitor,
  stageEngines,
  type Stage,
  type StageMemory,
} from '@tillwatch/stream';
import type { ProcessorContext } from './context';

/** One assigned partition: its stage and where its replay stands. */
export interface PartState {
  topic: string;
  partition: number;
  /** outputs are suppressed below this offset: they were written before */
  replayUntil: number;
  /** next offset to handle */
  next: number;
  /** after a seek: batches that start at or past replayUntil are stale (fetched before the seek) */
  seeking: boolean;
  /** record time the replay starts at, and its offset */
  fromTs: number;
  replayFrom: number;
  /** rollups: the coverage of the replay has been checked against the merged watermark */
  verified: boolean;
  events?: EventStage;
  rollup?: RollupStage;
  /** the rules memory the stage was restored from (recovery.ts), if any */
  memory?: StageMemory;
}

/**
 * The stages of this instance's partitions (pos.events: event stages, pos.rollups: rollup
 * stages) and what they all share: the engine configuration, the rules and the silences.
 *
 * Rules come from RULES_FILE over the defaults and follow the file while the processor runs: a
 * change is applied to every stage at once (all or nothing, applyRules) and to stages created
 * later; a file that does not parse or validate is refused with the reason and the rules in
 * force stay. Every attempt is audited: a log line with the file's sha256 and the outcome, and
 * tw_processor_rules_reloads_total{outcome} / tw_processor_rules_info{sha256}.
 *
 * Silences made on the gateway (ClickHouse `silences`) are re-read every SILENCES_REFRESH and
 * applied likewise: a silenced transition is recorded by the rules but neither written nor sent
 * to pos.alerts (so no webhook either). Operator input, not event data: a replay after a crash
 * applies the silences and rules of its own time.
 */
export class PartitionStages {
  readonly states = new Map<string, PartState>();
  readonly engines: ReturnType<typeof stageEngines>;
  private rules: RulesConfigInput | RulesConfig;
  private silences: SilenceInput[] = [];
  private silencesKey = '[]';
  private watcher: RulesWatcher | undefined;

  constructor(
    private readonly ctx: ProcessorContext,
    /** for tests: rules merged over the file's */
    private readonly overrides: RulesConfigInput = {},
  ) {
    const cfg = ctx.cfg;
    this.engines = stageEngines({
      allowedLatenessMs: cfg.ALLOWED_LATENESS,
      settlementDeadlineMs: cfg.SETTLEMENT_DEADLINE,
      reversalGraceMs: cfg.REVERSAL_GRACE,
    });
    this.rules = this.withOverrides(cfg.RULES_FILE ? loadRulesFile(cfg.RULES_FILE) : {});
    this.recordRules('applied');
  }

  newEventStage(partition: number): EventStage {
    const { win, events } = this.engines;
    return new EventStage({
      partition,
      sourcePartitions: this.ctx.sourcePartitions,
      rollupPartitions: this.ctx.rollupPartitions,
      monitor: eventMonitor(events, { rules: this.rules, silences: this.silences }),
      forwardCategories: FORWARD_CATEGORIES,
      paneWindow: win.paneWindow,
      p0: win.p0,
    });
  }

  newRollupStage(partition: number): RollupStage {
    const { win, events, rollup } = this.engines;
    return new RollupStage({
      ...rollup,
      p0: win.p0,
      partition,
      partitions: this.ctx.rollupPartitions,
      monitor: (windows) =>
        rollupMonitor(windows, events, {
          rules: this.rules,
          silences: this.silences,
          rollupPartitions: this.ctx.rollupPartitions,
        }),
    });
  }

  /** Follow RULES_FILE (when set) until stop(). */
  watchRules(): void {
    const file = this.ctx.cfg.RULES_FILE;
    if (!file) return;
    this.watcher = watchRulesFile(
      file,
      { setRules: (next) => this.setRules(next as RulesConfig) },
      (err) => this.recordRules('refused', err.message),
    );
  }

  stop(): void {
    this.watcher?.close();
  }

  /** Apply a rule set to every stage (throws, keeping the old set, when one stage refuses it). */
  setRules(next: RulesConfigInput | RulesConfig): void {
    const merged = this.withOverrides(next);
    // the stages' monitors are the rules' Monitors (eventMonitor, rollupMonitor above)
    const targets: { monitor: Monitor; stage: Stage }[] = [];
    for (const st of this.states.values()) {
      if (st.events) targets.push({ monitor: st.events.monitor as Monitor, stage: 'events' });
      if (st.rollup?.monitor)
        targets.push({ monitor: st.rollup.monitor as Monitor, stage: 'rollup' });
    }
    applyRules(targets, merged, this.rules);
    this.rules = merged;
    this.recordRules('applied');
  }

  async refreshSilences(): Promise<void> {
    const list = (await listSilences(this.ctx.store.ch)).map(fromStoredSilence);
    const key = JSON.stringify(list);
    if (key === this.silencesKey) return;
    this.silencesKey = key;
    this.silences = list;
    for (const st of this.states.values()) {
      st.events?.monitor.setSilences?.(list);
      st.rollup?.monitor?.setSilences?.(list);
    }
    this.ctx.log.info({ silences: list.length }, 'silences updated');
  }

  private withOverrides(base: RulesConfigInput | RulesConfig): RulesConfigInput {
    return {
      ...base,
      ...this.overrides,
      rules: { ...(base.rules ?? {}), ...(this.overrides.rules ?? {}) },
    } as RulesConfigInput;
  }

  private recordRules(outcome: 'applied' | 'refused', reason?: string): void {
    const file = this.ctx.cfg.RULES_FILE;
    let sha256 = 'defaults';
    if (file) {
      try {
        sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
      } catch {
        sha256 = 'unreadable';
      }
    }
    this.ctx.metrics.rulesReloads.inc({ outcome });
    const entry = {
      audit: 'rules',
      file: file ?? null,
      sha256,
      outcome,
      ...(reason ? { reason } : {}),
    };
    if (outcome === 'applied') {
      this.ctx.metrics.rulesInfo.reset();
      this.ctx.metrics.rulesInfo.set({ sha256 }, 1);
      this.ctx.log.info(entry, 'rules in force');
    } else this.ctx.log.error(entry, 'rules file refused; the rules in force stay');
  }
}
