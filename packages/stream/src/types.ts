import type { Alert, RollupRecord, SilenceTuple, TerminalEvent } from '@tillwatch/contracts';
import type { ScopeName, WindowEngine } from '@tillwatch/core';
import type { RulesMemory, SilenceInput } from '@tillwatch/rules';
import type { FoldGateMemory } from './fold-gate';

/** A record for pos.rollups: a partial goes by its key, a tick to the partition it names. */
export interface RollupMessage {
  /** explicit partition (ticks); partials go by key */
  partition?: number;
  key: string | null;
  value: RollupRecord;
  /** record timestamp: the pane end, event time (recovery seeks by it) */
  timestamp: number;
}

/**
 * One pane row: a key's counts (engine metrics, core M) in the closed pane [paneStart,
 * paneStart + p0), what the processor writes to ClickHouse's pane_counts. A window is the sum of
 * its panes: readers add them up.
 */
export type PaneRow = [
  scope: ScopeName,
  key: string,
  paneStart: number,
  m: Float64Array,
  merchantId?: string,
  region?: string,
];

/**
 * Where a stage's results go. Drivers supply it: the processor writes pane rows to ClickHouse and
 * alerts and rollups into a Kafka transaction; the local topology routes rollups straight to
 * its rollup stages. `m` in panes is the stage's scratch: read it before returning.
 */
export interface StageSink {
  /** absent: the driver keeps no window stats (replay), and the stage does not compute them */
  panes?(...row: PaneRow): void;
  alert(a: Alert): void;
  rollup(m: RollupMessage): void;
  /** absent: the driver keeps no rules memory; present: each stage's, at every hour boundary */
  memory?(m: StageMemory): void;
  /**
   * An event the stage gave up on (ahead-guard.ts: its time was never reached), with a reason
   * starting `ts_in_future` and the tag the driver gave it (a Kafka offset, a line number; -1:
   * none). Absent: counted only.
   */
  dead?(ev: TerminalEvent, reason: string, tag: number): void;
}

/**
 * What a stage's rules have learnt (profiles, baselines), whole up to the hour boundary `at`,
 * for the driver to keep durably and give back to the same stage and partition on a restart
 * (packages/rules/src/memory.ts).
 */
export interface StageMemory {
  stage: 'events' | 'rollup';
  partition: number;
  /** partitions of that stage when it was taken: a memory is for one partitioning */
  partitions: number;
  at: number;
  memory: RulesMemory;
  /** rollup stage: the fold gate's open outages and folded/passed episodes (fold-gate.ts) */
  gate?: FoldGateMemory;
}

/** What a stage needs of the Monitor (structural, so tests can drive a bare engine). */
export interface MonitorLike {
  readonly engine: WindowEngine;
  /** Outcome.Accepted (0) when the event counted */
  ingest(ev: TerminalEvent): unknown;
  /** the settlement rebuild's events before a replay: counted, not learnt (Monitor.prime) */
  prime?(ev: TerminalEvent): unknown;
  tick(watermarkMs?: number): Alert[];
  setSilences?(list: readonly SilenceInput[]): void;
  /** event stage: terminals gone silent or back since the last call (Monitor.silenceChanges) */
  silenceChanges?(now: number): SilenceTuple[];
  /** rollup stage: a source's silence report (Monitor.noteSilence) */
  noteSilence?(c: SilenceTuple): void;
  /** event stage: an event stamped this far from its partition's time (Monitor.noteClock) */
  noteClock?(
    where: { terminalId: string; merchantId: string; region: string },
    offsetMs: number,
  ): void;
  /** event stage: the link a terminal's heartbeats report, for its presence record */
  terminalNetwork?(terminalId: string): string | undefined;
  exportMemory?(at: number): RulesMemory;
  importMemory?(mem: RulesMemory): void;
  /** the rules in force: the rollup stage folds by their `inhibit` lists */
  readonly rules?: { inhibit: Partial<Record<string, readonly string[]>> };
}
