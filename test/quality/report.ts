import { RULE_IDS } from '@tillwatch/contracts';
import {
  SCENARIO_SPECS,
  dayKind,
  type IncidentLabel,
  type IncidentScenario,
} from '@tillwatch/simulator';
import { ENGINE, THRESHOLDS, WEEK_DAYS, WEEK_FLEET, WEEK_START, WEEK_TZ_MS } from './plan';
import {
  addScores,
  precision,
  recall,
  scoreByRule,
  zeroScore,
  type Episode,
  type RuleScore,
  type Score,
} from './score';
import { TARGETS } from './targets';
import { NAIVE_THRESHOLD, whereOf, type WeekResult } from './week';

/** Scores of the weeks, together and per rule, and the tables the suite prints and writes. */

export interface WeekScore {
  result: WeekResult;
  total: Score;
  rules: Map<string, RuleScore>;
  naive: Score;
}

export function scoreWeek(result: WeekResult): WeekScore {
  const where = whereOf(result.seed);
  const { total, rules } = scoreByRule(result.transitions, result.labels, where, {
    due: result.due,
  });
  const naive = scoreByRule(result.naive, result.labels, where, { anyRule: true }).total;
  return { result, total, rules, naive };
}

export interface Summary {
  total: Score;
  rules: RuleScore[];
  naive: Score;
  events: number;
  cpuMs: number;
}

export function summarize(weeks: readonly WeekScore[]): Summary {
  const total = zeroScore();
  const naive = zeroScore();
  const rules = new Map<string, RuleScore>();
  for (const w of weeks) {
    const p = `${w.result.seed}/`;
    addScores(total, w.total, p);
    addScores(naive, w.naive, p);
    for (const [rule, s] of w.rules) {
      let r = rules.get(rule);
      if (!r) rules.set(rule, (r = { rule, ...zeroScore() }));
      addScores(r, s, p);
    }
  }
  const order = (r: string) => {
    const i = (RULE_IDS as readonly string[]).indexOf(r);
    return i < 0 ? RULE_IDS.length : i;
  };
  return {
    total,
    rules: [...rules.values()].sort((a, b) => order(a.rule) - order(b.rule)),
    naive,
    events: weeks.reduce((a, w) => a + w.result.events, 0),
    cpuMs: weeks.reduce((a, w) => a + w.result.cpuMs, 0),
  };
}

/** Whether the summary meets THRESHOLDS, and what it misses. */
export function verdict(s: Summary): { pass: boolean; misses: string[] } {
  const misses: string[] = [];
  if (recall(s.total) < THRESHOLDS.recall) {
    misses.push(`recall ${pct(recall(s.total))} < ${pct(THRESHOLDS.recall)}`);
  }
  if (precision(s.total) < THRESHOLDS.precision) {
    misses.push(`precision ${pct(precision(s.total))} < ${pct(THRESHOLDS.precision)}`);
  }
  if (s.total.falseCriticals > THRESHOLDS.falseCriticals) {
    misses.push(`${s.total.falseCriticals} false criticals > ${THRESHOLDS.falseCriticals}`);
  }
  if (s.total.late > 0) {
    misses.push(`${s.total.late} detections later than their target (targets.ts)`);
  }
  return { pass: misses.length === 0, misses };
}

const MIN = 60_000;
export const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const mins = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? 'missed' : `${(ms / MIN).toFixed(1)} min`;
const DOW = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** "Wed 11.11 21:04 (peak)": local day, date, time and the calendar's kind of day. */
export function localTime(ts: number): string {
  const d = new Date(ts + WEEK_TZ_MS);
  const hm = d.toISOString().slice(11, 16);
  const date = `${d.getUTCMonth() + 1}.${d.getUTCDate()}`;
  return `${DOW[d.getUTCDay()]} ${date} ${hm} (${dayKind(ts, WEEK_TZ_MS)})`;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function delays(s: Score): number[] {
  return Object.values(s.delays).filter((d): d is number => d !== null);
}

/** A rule's delay targets, as targets.ts words them ("60 s / 120 s"), or — without one. */
function targetText(rule: string): string {
  const texts = new Set<string>();
  for (const [scenario, t] of Object.entries(TARGETS)) {
    if (t && SCENARIO_SPECS[scenario as IncidentScenario].rule === rule) texts.add(t.text);
  }
  return texts.size ? [...texts].join(' / ') : '—';
}

function ruleRow(name: string, s: Score, target = '—'): string {
  const d = delays(s);
  const worst = d.length ? Math.max(...d) : null;
  const timed = Object.keys(s.allowed).filter((id) => s.delays[id] != null).length;
  const onTime = timed ? `${timed - s.late}/${timed}` : '—';
  return `| ${name} | ${s.labels} | ${s.detected} | ${s.labels ? pct(recall(s)) : '—'} | ${s.episodes} | ${s.tp} | ${s.related} | ${s.fp} | ${s.tp + s.fp ? pct(precision(s)) : '—'} | ${d.length ? mins(median(d)) : '—'} | ${d.length ? mins(worst) : '—'} | ${target} | ${onTime} | ${s.flaps} | ${s.falseCriticals} |`;
}

export function ruleTable(s: Summary): string {
  return [
    '| rule | labels | detected | recall | episodes | TP | related | FP | precision | median delay | worst delay | target | on time | flaps | false criticals |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|',
    ...s.rules.map((r) => ruleRow(r.rule, r, targetText(r.rule))),
    ruleRow('**all rules**', s.total),
  ].join('\n');
}

export function incidentTable(weeks: readonly WeekScore[]): string {
  const rows = weeks.flatMap((w) =>
    w.result.labels.map((l: IncidentLabel) => {
      const d = w.total.delays[l.id];
      const a = w.total.allowed[l.id];
      const shown = d === null || d === undefined ? '**missed**' : mins(d);
      const late = d != null && a !== undefined && d > a;
      return `| ${w.result.seed} | ${l.scenario} | ${localTime(l.start)} | ${Math.round((l.end - l.start) / MIN)} min | ${l.rule} / ${l.scope} / ${l.key} | ${late ? `**${shown}** (late)` : shown} | ${a === undefined ? '—' : `${mins(a)} (${TARGETS[l.scenario]!.text})`} |`;
    }),
  );
  return [
    '| seed | scenario | starts (local) | lasts | label (rule / scope / key) | first alert after detectFrom | due within |',
    '|---:|---|---|---:|---|---:|---:|',
    ...rows,
  ].join('\n');
}

/** Groups of false positives shown; the rest are counted in one line. */
export const FP_GROUPS = 25;

/** False positives grouped by rule, severity, kind of day and local hour: where the noise is. */
export function falsePositiveTable(weeks: readonly WeekScore[]): string {
  const groups = new Map<string, { n: number; seeds: Set<number>; example: string }>();
  for (const w of weeks) {
    for (const e of w.total.falsePositives as Episode[]) {
      const local = new Date(e.firedAt + WEEK_TZ_MS);
      const kind = dayKind(e.firedAt, WEEK_TZ_MS);
      const k = `${e.rule}|${e.severity}|${kind}|${String(local.getUTCHours()).padStart(2, '0')}:00`;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { n: 0, seeds: new Set(), example: '' }));
      g.n++;
      g.seeds.add(w.result.seed);
      if (!g.example) g.example = `${e.scope} ${e.key} at ${localTime(e.firedAt)}`;
    }
  }
  if (groups.size === 0) return 'None.';
  const sorted = [...groups].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]));
  const rest = sorted.slice(FP_GROUPS).reduce((a, [, g]) => a + g.n, 0);
  const rows = sorted.slice(0, FP_GROUPS).map(([k, g]) => {
    const [rule, severity, kind, hour] = k.split('|');
    return `| ${rule} | ${severity} | ${kind} | ${hour} | ${g.n} | ${g.seeds.size} | ${g.example} |`;
  });
  if (rest > 0) rows.push(`| … | | | | ${rest} more in ${sorted.length - FP_GROUPS} groups | | |`);
  return [
    '| rule | severity | kind of day | local hour | FP episodes | seeds | e.g. |',
    '|---|---|---|---|---:|---:|---|',
    ...rows,
  ].join('\n');
}

export function naiveTable(s: Summary): string {
  const row = (name: string, x: Score) =>
    `| ${name} | ${pct(recall(x))} | ${pct(precision(x))} | ${x.episodes} | ${x.tp} / ${x.related} / ${x.fp} | ${x.flaps} |`;
  return [
    '| rule set | recall | precision | episodes | TP / related / FP | flaps |',
    '|---|---:|---:|---:|---|---:|',
    row('tillwatch rules', s.total),
    row(`naive static threshold (failure rate > ${NAIVE_THRESHOLD * 100} % over 5 min)`, s.naive),
  ].join('\n');
}

export const DEFINITIONS = `Definitions (test/quality/score.ts):

- **episode**: one alertId, from its first \`firing\` to its \`resolved\`; its severity is the
  highest any of its transitions carried.
- **detected**: an episode with the label's rule, scope and key first fires within
  [detectFrom − 5 min, detectUntil + 30 min]. **Recall** = detected labels / labels.
- **delay**: that first firing's \`ts\` − detectFrom, in event time (detectFrom is the incident
  start, except for a settlement gap: its evidence exists only from the settlement deadline on,
  and for failed-but-charged: from the reversal grace on). Median and worst over the labels.
- every episode is **TP** (detects a label), **related** (in the incident's time window and
  either listed in the label's \`alsoMatches\` — consequences the simulator declares, e.g.
  reversals at a faulty terminal, silent terminals of a dark region — or on the incident's own
  footprint: one of its terminals, their merchant or region) or **FP** (anything else).
  **Precision** = TP / (TP + FP). A rule's row counts the labels of that rule and the
  episodes that rule raised.
- **target / on time**: the delay each kind of incident must be alerted within
  (test/quality/targets.ts), and how many detections made it; **due within** is that figure
  for one incident, after detectFrom.
- **false critical**: an FP episode of severity \`critical\`: a page for nothing.
- **flap**: an episode that fires less than 1 h after the previous episode of the same
  (rule, scope, key) resolved.
- the naive rule set has one rule for everything, so it is matched on scope and key only.`;

export function document(
  weeks: readonly WeekScore[],
  s: Summary,
  run: { seeds: readonly number[]; cpuMs: number; wallMs: number; rules?: string },
): string {
  const v = verdict(s);
  const end = WEEK_START + WEEK_DAYS * 86_400_000;
  const perWeek = weeks
    .map((w) => `${w.result.seed}: ${(w.result.cpuMs / 1000).toFixed(0)} s`)
    .join(', ');
  const date = (ts: number) => new Date(ts + WEEK_TZ_MS).toISOString().slice(0, 10);
  const scenarios = s.total.labels / Math.max(1, weeks.length);
  return `# Detection quality

Generated by \`npm run test:quality -w @tillwatch/e2e\` (test/quality/quality.test.ts); do not edit
by hand.

**Streams.** For each held-out seed (${run.seeds.join(', ')}; test/quality/plan.ts says why
these are never used for tuning), one calendar week of the simulator, Monday ${date(WEEK_START)}
00:00 to Monday ${date(end)} 00:00 China time: 11.11 is a shopping festival, Saturday and Sunday
keep weekend hours. ${WEEK_FLEET.terminals} terminals over ${WEEK_FLEET.merchants} merchants in all 12 regions: mall shops that close
at 21:00 or 22:00 on the minute and switch their terminals off, street shops, 24-hour shops
(packages/simulator/README.md, "Trading calendar"). Each of the ${scenarios} incident scenarios happens
once a week, at least 4 h from the next, on targets the seed picks; the rest of the week is
healthy. Settlement deadline ${ENGINE.settlementDeadlineMs / 3_600_000} h. ${s.events.toLocaleString('en')} events in all, streamed through
\`replay\`, the processor's own topology (4 partitions).${run.rules ? ` Rules: ${run.rules}.` : ''}

**Verdict.** The suite fails under ${pct(THRESHOLDS.recall)} recall, ${pct(THRESHOLDS.precision)} precision, more than
${THRESHOLDS.falseCriticals} false criticals, over the held-out weeks together (THRESHOLDS in test/quality/plan.ts),
or on any detection later than its target (test/quality/targets.ts: regional outage by errors 60 s, by
silence 120 s; a terminal fault or network-error spike by its fifth failed authorisation; card
testing 60 s; failed-but-charged 2 min after the charge shows; no settlement 10 min after the deadline).
This run: recall ${pct(recall(s.total))}, precision ${pct(precision(s.total))}, ${s.total.falseCriticals} false criticals, ${s.total.late} late, ${s.total.flaps} flaps:
**${v.pass ? 'pass' : `fail (${v.misses.join('; ')})`}**.

## Per rule, held-out weeks together

${ruleTable(s)}

## Incidents

${incidentTable(weeks)}

## False positives by rule, kind of day and local hour (the ${FP_GROUPS} largest groups)

${falsePositiveTable(weeks)}

## Against a naive baseline

${naiveTable(s)}

## Runtime

${(run.cpuMs / 1000).toFixed(0)} s of CPU for the suite (${perWeek} per week, generation + replay +
naive baseline), ${(run.wallMs / 1000).toFixed(0)} s wall.

${DEFINITIONS}
`;
}
