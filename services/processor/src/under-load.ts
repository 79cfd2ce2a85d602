/**
 * The processor under load, shared by services/processor's benches and test/e2e/pipeline: the
 * bundled processor as a child process of its own, the live simulated stream both benches
 * produce at a fixed rate, and produce -> alert latency from what that stream sent and the
 * alerts that came back.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateEvent } from '@tillwatch/contracts';
import { createSimulation } from '@tillwatch/simulator';
import type { Admin, Kafka, Producer } from 'kafkajs';

const BUNDLE_SCRIPT = fileURLToPath(new URL('../scripts/bundle.mjs', import.meta.url));

/**
 * Bundle the processor (services/processor/scripts/bundle.mjs) into `out`, by default
 * processor.mjs in a new temporary directory; returns the file.
 */
export function bundleProcessor(
  out = path.join(mkdtempSync(path.join(tmpdir(), 'tw-processor-')), 'processor.mjs'),
): string {
  execFileSync(process.execPath, [BUNDLE_SCRIPT, out], { stdio: 'pipe' });
  return out;
}

export interface ProcessorChild {
  readonly pid: number;
  /** where its stdout and stderr go (JSON log lines) */
  readonly logFile: string;
  readonly exited: boolean;
  /** Signal it (unless it has exited) and wait for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnProcessorOptions {
  /** node options before the bundle, e.g. --max-semi-space-size=64 (default none) */
  nodeArgs?: string[];
  /** kill()'s signal when it is given none (default SIGKILL) */
  signal?: NodeJS.Signals;
  /** kill() sends SIGKILL if the child is still running this long after its signal (default never) */
  killAfterMs?: number;
}

/**
 * The processor as a real child process (its own pid, killable with SIGKILL), configured by
 * `env` alone (and PATH), its output appended to `logFile`.
 */
export function spawnProcessor(
  bundle: string,
  env: Record<string, string>,
  logFile: string,
  opts: SpawnProcessorOptions = {},
): ProcessorChild {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), bundle], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd); // the child has its own copy
  let exited = false;
  const done = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  return {
    pid: child.pid!,
    logFile,
    get exited() {
      return exited;
    },
    async kill(signal = opts.signal ?? 'SIGKILL') {
      if (!exited) child.kill(signal);
      const t =
        opts.killAfterMs === undefined
          ? undefined
          : setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
      await done;
      clearTimeout(t);
    },
  };
}

/**
 * Until consumer group `group` is Stable with `n` members (each processor has started, joined
 * and holds its partitions); throws after `timeoutMs`, or at once when `gone()` says a member
 * the caller waits for has exited.
 */
export async function waitForMembers(
  admin: Pick<Admin, 'describeGroups'>,
  group: string,
  n: number,
  opts: { timeoutMs?: number; gone?: () => boolean } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    const { groups } = await admin.describeGroups([group]);
    const g = groups[0];
    if (g && g.state === 'Stable' && g.members.length === n) return;
    if (opts.gone?.()) throw new Error(`a processor of group ${group} exited`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`group ${group} did not reach ${n} stable members`);
}

/** An event as a Kafka message, keyed by merchant, stamped with its event time. */
export interface EventMessage {
  key: string;
  value: string;
  timestamp: string;
}

/** An event the live stream produced: its event time and when it was sent (the stream's clock). */
export interface SentEvent {
  ts: number;
  at: number;
}

export interface LiveStream {
  /** every event produced so far, in produce order (event time ascending) */
  readonly sent: SentEvent[];
  /** Stop producing; resolves once the send in flight is done. */
  stop(): Promise<void>;
}

/**
 * The demo scenario (seed 2, from 2026-03-02 01:00 UTC) produced live on `topic` at `rate`
 * events/s until stop(): every 50 ms, the events due since the start. Event time runs ~rate/28 x
 * wall time (28 events per simulated second). `now` is the clock of `sent[].at` (default
 * Date.now); alerts must be timed on the same clock (collectAlerts).
 */
export function liveStream(opts: {
  producer: Pick<Producer, 'send'>;
  topic: string;
  rate: number;
  now?: () => number;
}): LiveStream {
  const { producer, topic, rate, now = Date.now } = opts;
  const it = createSimulation({
    seed: 2,
    scenario: 'demo',
    start: Date.UTC(2026, 2, 2, 1, 0, 0),
    volumeScale: 1,
  }).events();
  const sent: SentEvent[] = [];
  let stop = false;
  const done = (async () => {
    const wallStart = now();
    while (!stop) {
      const due = Math.floor(((now() - wallStart) / 1000) * rate) - sent.length;
      const msgs: EventMessage[] = [];
      const at = now();
      for (let i = 0; i < due; i++) {
        const r = it.next();
        if (r.done) break;
        const v = validateEvent(r.value);
        if (!v.ok) continue;
        msgs.push({
          key: v.event.merchantId,
          value: JSON.stringify(r.value),
          timestamp: String(v.event.ts),
        });
        sent.push({ ts: v.event.ts, at });
      }
      // In slices: after a stall (GC, a processor's CPU in this same process) the loop catches
      // up with seconds of events at once, and one send of them would pass the broker's 1 MiB
      // per partition batch (MESSAGE_TOO_LARGE at ~13k events/s).
      for (let i = 0; i < msgs.length; i += 2000)
        await producer.send({ topic, acks: -1, messages: msgs.slice(i, i + 2000) });
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    sent,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

/** An alert as read back: its event time, and when it arrived (the collector's clock). */
export interface ReceivedAlert {
  ts: string;
  at: number;
  /** the pos.alerts record's timestamp: when the processor sent it (epoch ms, its clock) */
  written?: number;
}

/**
 * Read `topic`'s alerts from the beginning in a consumer group of its own, noting when each
 * arrived on the clock `now` (default Date.now), until stop().
 */
export async function collectAlerts(
  kafka: Kafka,
  groupId: string,
  topic: string,
  now: () => number = Date.now,
): Promise<{ got: ReceivedAlert[]; stop(): Promise<void> }> {
  const c = kafka.consumer({ groupId });
  await c.connect();
  await c.subscribe({ topics: [topic], fromBeginning: true });
  const got: ReceivedAlert[] = [];
  await c.run({
    eachMessage: async ({ message }) => {
      got.push({
        ts: (JSON.parse(message.value!.toString()) as { ts: string }).ts,
        at: now(),
        written: Number(message.timestamp),
      });
    },
  });
  return { got, stop: () => c.disconnect() };
}

/**
 * Produce -> alert latency: an alert at event time T is decided when the watermark passes T,
 * i.e. on the first event with ts >= T + lateness (10 s); its produce time is where the
 * alert's latency starts. The first such event in the whole stream, not on the alert's
 * partition: it was produced no later, so this over-states latency, never under-states it.
 * Returns [trigger produce time, latency] per alert whose trigger was sent.
 */
export function alertLatencies(
  sent: readonly SentEvent[],
  alerts: readonly ReceivedAlert[],
): [number, number][] {
  const out: [number, number][] = [];
  for (const a of alerts) {
    const need = Date.parse(a.ts) + 10_000;
    let lo = 0;
    let hi = sent.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sent[mid]!.ts < need) lo = mid + 1;
      else hi = mid;
    }
    if (lo < sent.length) out.push([sent[lo]!.at, a.at - sent[lo]!.at]);
  }
  return out;
}

/** The benches' latency row: how many alerts, p50, p99 and max of their latencies (ms). */
export function latencyQuantiles(latencies: readonly number[]): {
  alerts: number;
  'p50 ms': number;
  'p99 ms': number;
  'max ms': number;
} {
  const s = [...latencies].sort((a, b) => a - b);
  const q = (p: number) =>
    s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]!) : NaN;
  return {
    alerts: s.length,
    'p50 ms': q(0.5),
    'p99 ms': q(0.99),
    'max ms': s.length ? Math.round(s.at(-1)!) : NaN,
  };
}
