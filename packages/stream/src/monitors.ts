import { RULE_IDS, type Language } from '@tillwatch/contracts';
import { CAT, type EngineConfig } from '@tillwatch/core';
import {
  CROSS_PARTITION_CATEGORIES,
  CROSS_PARTITION_RULES,
  createMonitor,
  type Monitor,
  type RulesConfig,
  type RulesConfigInput,
  type SilenceInput,
} from '@tillwatch/rules';
import type { MergedWindows } from './merged-windows';

export type Stage = 'events' | 'rollup';

/**
 * Rules that need every partition's view (region, issuer, firmware) run in the rollup stage,
 * the others in the event stage: each stage gets the configured rules with the other stage's
 * switched off, so every rule runs in exactly one place.
 */
export function rulesForStage(
  rules: RulesConfigInput | RulesConfig,
  stage: Stage,
): RulesConfigInput {
  const out: Record<string, unknown> = { ...(rules.rules ?? {}) };
  const cross = new Set<string>(CROSS_PARTITION_RULES);
  for (const id of RULE_IDS) {
    if (cross.has(id) !== (stage === 'rollup')) {
      out[id] = { ...((out[id] as object | undefined) ?? {}), enabled: false };
    }
  }
  return { ...rules, rules: out } as RulesConfigInput;
}

/** Failure categories (core CAT indices) the event stage forwards to the rollup stage. */
export const FORWARD_CATEGORIES: ReadonlySet<number> = new Set(
  CROSS_PARTITION_CATEGORIES.map((c) => CAT[c]),
);

export interface StageMonitorOptions {
  rules?: RulesConfigInput | RulesConfig;
  silences?: readonly SilenceInput[];
  lang?: Language;
  /** pos.rollups partitions: with more than one, no rollup monitor sees every region, and the
   *  feed outage judgement (every region at once) is off; unknown counts as more than one */
  rollupPartitions?: number;
}

/** The Monitor of an events partition: every rule but the cross-partition ones. */
export function eventMonitor(engine: Partial<EngineConfig>, o: StageMonitorOptions = {}): Monitor {
  return createMonitor({
    engine,
    rules: rulesForStage(o.rules ?? {}, 'events'),
    silences: o.silences ?? [],
    selfSilences: false,
    ...(o.lang ? { lang: o.lang } : {}),
  });
}

/** The Monitor of a rollup partition: the cross-partition rules over its merged windows. */
export function rollupMonitor(
  windows: MergedWindows,
  engine: Partial<EngineConfig>,
  o: StageMonitorOptions = {},
): Monitor {
  return createMonitor({
    engine: { ...engine, windowsMs: windows.config.windowsMs, panesMs: windows.config.panesMs },
    engineFactory: () => windows,
    rules: rulesForStage(o.rules ?? {}, 'rollup'),
    silences: o.silences ?? [],
    selfSilences: false,
    wholeFleet: o.rollupPartitions === 1,
    ...(o.lang ? { lang: o.lang } : {}),
  });
}

/**
 * A new rule set for every Monitor of a topology, all or nothing: each stage's Monitor
 * validates its share (schema, windows the engine keeps); when one refuses, the ones already
 * changed get the old set back and the error goes to the caller, so the stages never run two
 * different rule sets.
 */
export function applyRules(
  targets: readonly { monitor: Pick<Monitor, 'setRules'>; stage: Stage }[],
  next: RulesConfigInput | RulesConfig,
  previous: RulesConfigInput | RulesConfig,
): void {
  const done: (typeof targets)[number][] = [];
  try {
    for (const t of targets) {
      t.monitor.setRules(rulesForStage(next, t.stage));
      done.push(t);
    }
  } catch (e) {
    for (const t of done) t.monitor.setRules(rulesForStage(previous, t.stage));
    throw e;
  }
}
