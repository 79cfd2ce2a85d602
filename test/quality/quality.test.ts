import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INCIDENT_SCENARIOS, dayKind } from '@tillwatch/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWeeks } from './parallel';
import { SCHEDULED, THRESHOLDS, WEEK_TZ_MS, seedsToRun } from './plan';
import {
  DEFINITIONS,
  document,
  falsePositiveTable,
  incidentTable,
  localTime,
  naiveTable,
  pct,
  ruleTable,
  scoreWeek,
  summarize,
  verdict,
  type Summary,
  type WeekScore,
} from './report';
import { precision, recall } from './score';
import { DROPPED } from './week';

/**
 * Detection quality on calendar weeks: for each seed of the set (held-out by default, see
 * plan.ts), a week of a 300-terminal fleet with every incident scenario once goes through the
 * real `replay`, and the alerts are scored against the labels per rule (definitions in
 * score.ts). The held-out run writes docs/detection-quality.md, whatever the verdict, so the
 * figures are there to read when the thresholds are missed. The weeks run in child processes,
 * two at a time (parallel.ts).
 */

const HOUR = 3_600_000;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { set, seeds } = seedsToRun();

let weeks: WeekScore[] = [];
let summary: Summary | undefined;
let wallMs = 0;

beforeAll(async () => {
  const t0 = performance.now();
  weeks = (await runWeeks(seeds)).map(scoreWeek);
  summary = summarize(weeks);
  wallMs = performance.now() - t0;
  for (const w of weeks) {
    const r = w.result;
    console.log(
      `seed ${r.seed}: ${r.events} events, ${(r.cpuMs / 1000).toFixed(0)} s CPU; detected ${w.total.detected}/${w.total.labels}, ` +
        `episodes ${w.total.episodes} (TP ${w.total.tp}, related ${w.total.related}, FP ${w.total.fp}), false criticals ${w.total.falseCriticals}, flaps ${w.total.flaps}`,
    );
  }
}, 40 * 60_000);

/**
 * Which rules the figures are for: the last commit that touched the detection code, and whether
 * the checkout holds uncommitted changes to it. The rules change more often than this suite.
 */
function rulesVersion(): string | undefined {
  const paths = ['packages/rules', 'packages/stream', 'packages/core'];
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', root, ...args, '--', ...paths], { encoding: 'utf8' }).trim();
  try {
    const commit = git('log', '-1', '--format=%h');
    if (!commit) return undefined;
    const dirty = git('status', '--porcelain') !== '';
    return `${paths.join(', ')} at ${commit}${dirty ? ' with uncommitted changes' : ''}`;
  } catch {
    return undefined; // not a git checkout
  }
}

afterAll(() => {
  // (a stream with parts left out, QUALITY_DROP, is a question asked of the rules, not their
  // verdict: the document is the full streams')
  if (set !== 'heldout' || DROPPED.all.length > 0 || !summary || weeks.length !== seeds.length)
    return;
  const cpu = process.cpuUsage();
  const cpuMs = summary.cpuMs + (cpu.user + cpu.system) / 1000;
  writeFileSync(
    join(root, 'docs', 'detection-quality.md'),
    document(weeks, summary, { seeds, cpuMs, wallMs, rules: rulesVersion() }),
  );
});

describe.sequential(
  `detection quality on calendar weeks (${set} seeds ${seeds.join(', ')}${DROPPED.all.length > 0 ? `; without ${DROPPED.all.join(', ')}` : ''})`,
  () => {
    it('each week holds every incident scenario once, 4 h apart, on weekdays, the weekend and 11.11', () => {
      expect([...SCHEDULED].sort()).toEqual([...INCIDENT_SCENARIOS].sort());
      for (const w of weeks) {
        const labels = [...w.result.labels].sort((a, b) => a.start - b.start);
        expect(labels.map((l) => l.scenario).sort()).toEqual([...INCIDENT_SCENARIOS].sort());
        for (let i = 1; i < labels.length; i++) {
          expect(labels[i]!.start - labels[i - 1]!.start).toBeGreaterThanOrEqual(4 * HOUR);
        }
        const kinds = new Set(labels.map((l) => dayKind(l.start, WEEK_TZ_MS)));
        for (const k of ['weekday', 'saturday', 'sunday', 'peak']) expect(kinds).toContain(k);
        const keys = labels.map((l) => `${l.scope}/${l.key}`);
        expect(new Set(keys).size).toBe(keys.length);
        expect(w.result.events).toBeGreaterThan(1_000_000);
      }
    });

    it(`recall >= ${pct(THRESHOLDS.recall)}, precision >= ${pct(THRESHOLDS.precision)}, at most ${THRESHOLDS.falseCriticals} false criticals (plan.ts THRESHOLDS), none late (targets.ts)`, () => {
      const s = summary!;
      console.log(
        `\n${set} seeds ${seeds.join(', ')}\n\n${ruleTable(s)}\n\n${incidentTable(weeks)}\n\n` +
          `${falsePositiveTable(weeks)}\n\n${naiveTable(s)}\n\n${DEFINITIONS}\n`,
      );
      const v = verdict(s);
      console.log(
        `recall ${pct(recall(s.total))}, precision ${pct(precision(s.total))}, false criticals ${s.total.falseCriticals}, late ${s.total.late}: ${v.pass ? 'pass' : v.misses.join('; ')}`,
      );
      for (const w of weeks) {
        for (const l of w.result.labels) {
          if (w.total.delays[l.id] === null)
            console.log(`missed: ${w.result.seed} ${l.id} ${l.key} at ${localTime(l.start)}`);
        }
      }
      expect(recall(s.total)).toBeGreaterThanOrEqual(THRESHOLDS.recall);
      expect(precision(s.total)).toBeGreaterThanOrEqual(THRESHOLDS.precision);
      expect(s.total.falseCriticals).toBeLessThanOrEqual(THRESHOLDS.falseCriticals);
      expect(s.total.late).toBe(0);
    });

    it("every week's alert stream keeps the contract's promises (alertStreamFaults)", () => {
      const faults = weeks.flatMap((w) =>
        w.result.faults.map((f) => `seed ${w.result.seed}: ${f}`),
      );
      expect(faults).toEqual([]);
    });
  },
);
