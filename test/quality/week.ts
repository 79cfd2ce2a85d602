import { Readable, Writable } from 'node:stream';
import { alertStreamFaults, type Alert } from '@tillwatch/contracts';
import { replay } from '@tillwatch/stream';
import {
  buildFleet,
  createSimulation,
  type FleetOptions,
  type IncidentLabel,
  type SimEvent,
  type Simulation,
} from '@tillwatch/simulator';
import { NaiveMonitor } from './naive';
import {
  DEADLINE_MS,
  ENGINE,
  SETTLE_DELAY_MS,
  WEEK_DAYS,
  WEEK_FLEET,
  WEEK_START,
  weekIncidents,
} from './plan';
import type { Transition, Where } from './score';
import { DueTimes } from './targets';

/** One seed's calendar week through replay: its labels, our alerts, the naive baseline's. */
export interface WeekResult {
  seed: number;
  labels: IncidentLabel[];
  /** label id → event time its first alert is due by (targets.ts); labels without a figure absent */
  due: Record<string, number>;
  transitions: Transition[];
  /** breaches of the contract's promises about a stream of transitions (alertStreamFaults) */
  faults: string[];
  naive: Transition[];
  events: number;
  /** CPU of the process that ran the week (generation, replay, naive), ms */
  cpuMs: number;
  wallMs: number;
}

export const NAIVE_THRESHOLD = 0.2;
const DAY = 86_400_000;
/** lines per chunk handed to replay's line reader */
const CHUNK = 2_000;

/**
 * The seed's week with its incidents; `healthy` (healthy.ts): none, on another fleet, start,
 * length or volume.
 */
export function weekSimulation(
  seed: number,
  healthy?: { fleet: FleetOptions; start: number; days: number; volumeScale?: number },
): Simulation {
  return createSimulation({
    seed,
    scenario: 'healthy',
    start: healthy?.start ?? WEEK_START,
    durationMs: (healthy?.days ?? WEEK_DAYS) * DAY,
    fleet: healthy?.fleet ?? WEEK_FLEET,
    settlementDeadlineMs: DEADLINE_MS,
    settlementDelayMs: SETTLE_DELAY_MS,
    ...(healthy
      ? healthy.volumeScale
        ? { volumeScale: healthy.volumeScale }
        : {}
      : { incidents: weekIncidents(seed) }),
  });
}

const TYPES = ['auth', 'reversal', 'settlement', 'heartbeat'];
const OPTIONAL = [
  'latencyMs',
  'entryMode',
  'cardFingerprint',
  'issuerId',
  'firmware',
  'network',
  'signal',
  'batchId',
];

/**
 * What every stream of this suite and quality:healthy leaves out, from QUALITY_DROP
 * (comma-separated): event types (`heartbeat`: a feed that sends none, as another acquirer's
 * may not) and optional fields (`issuerId`, `firmware`, `cardFingerprint`, ...: removed from
 * every event that has them). Unset: nothing.
 */
export const DROPPED = dropped(process.env['QUALITY_DROP']);

function dropped(v: string | undefined): { types: Set<string>; fields: string[]; all: string[] } {
  const all = (v ?? '').split(',').filter((x) => x !== '');
  const bad = all.filter((x) => !TYPES.includes(x) && !OPTIONAL.includes(x));
  if (bad.length > 0) {
    throw new Error(
      `QUALITY_DROP: ${bad.join(', ')} is neither an event type (${TYPES.join(', ')}) nor an optional field (${OPTIONAL.join(', ')})`,
    );
  }
  return {
    types: new Set(all.filter((x) => TYPES.includes(x))),
    fields: all.filter((x) => OPTIONAL.includes(x)),
    all,
  };
}

/** The JSONL replay reads, in chunks, generated as replay pulls (a week never sits in memory). */
export function* jsonl(
  events: Iterable<SimEvent>,
  tap?: (ev: SimEvent) => void,
): Generator<string> {
  let buf: string[] = [];
  for (let ev of events) {
    if (DROPPED.all.length > 0) {
      if (DROPPED.types.has(ev.type)) continue;
      if (DROPPED.fields.length > 0) {
        const copy: Record<string, unknown> = { ...ev };
        for (const f of DROPPED.fields) delete copy[f];
        ev = copy as unknown as SimEvent;
      }
    }
    tap?.(ev);
    buf.push(JSON.stringify(ev));
    if (buf.length === CHUNK) {
      yield buf.join('\n') + '\n';
      buf = [];
    }
  }
  if (buf.length > 0) yield buf.join('\n') + '\n';
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    cb();
  }
}

/**
 * Replay JSONL chunks; the alert transitions, the output's exact text, and where the stream
 * breaks what the contract promises of a stream of transitions (alertStreamFaults).
 */
export async function replayLines(
  lines: Iterable<string>,
): Promise<{ text: string; transitions: Transition[]; faults: string[] }> {
  const sink = new Collect();
  await replay(Readable.from(lines), sink, { engine: ENGINE });
  const alerts = sink.text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Alert);
  const transitions = alerts.map((a): Transition => ({
    alertId: a.alertId,
    rule: a.rule,
    scope: a.scope,
    key: a.key,
    status: a.status,
    ts: a.ts,
    severity: a.severity,
    merchantId: a.merchantId,
    region: a.region,
  }));
  return { text: sink.text, transitions, faults: alertStreamFaults(alerts) };
}

/** Generate the seed's week and stream it through replay, as `tillwatch replay` reads a file. */
export async function runWeek(seed: number): Promise<WeekResult> {
  const t0 = performance.now();
  const sim = weekSimulation(seed);
  const naive = new NaiveMonitor({ threshold: NAIVE_THRESHOLD });
  const due = new DueTimes(sim.labels);
  const { transitions, faults } = await replayLines(
    jsonl(sim, (ev) => {
      naive.push(ev);
      due.push(ev);
    }),
  );
  const cpu = process.cpuUsage();
  return {
    seed,
    labels: [...sim.labels],
    due: due.result(),
    transitions,
    faults,
    naive: naive.transitions,
    events: sim.counts.total,
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.now() - t0,
  };
}

/** merchant and region of each terminal of the seed's week fleet */
export function whereOf(seed: number): Where {
  const f = buildFleet(seed, WEEK_FLEET);
  const m = new Map<string, { merchantId: string; region: string }>();
  for (const t of f.terminals) {
    m.set(t.id, { merchantId: f.merchants[t.merchant]!.id, region: f.regions[t.region]!.id });
  }
  return m;
}
