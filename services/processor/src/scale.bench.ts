/**
 * `npm run bench:scale -w @tillwatch/processor [events] [--throughput-only]`: the processor as
 * 1, 2 and 4 instances on 8 partitions, each instance a child process of its own (the bundled
 * processor, as the e2e suites run it), all in one consumer group (distinct
 * PROCESSOR_INSTANCE_ID, same PROCESSOR_GROUP_ID). Each run has fresh topics, group and database.
 *
 *   1. throughput: the same simulated events pre-filled in ONE open Kafka transaction; the N
 *      instances start and join the group (read-committed: they see nothing yet); the bench
 *      commits the transaction and times from that commit until every pos.events offset is
 *      committed and the rollup stage has caught up (as processor.bench.ts). So the figure holds
 *      no process start-up and no start-up rebalances, only the work.
 *   2. produce -> alert p50/p99 (processor.bench.ts's method) with events produced live at one
 *      rate for every N: half of the N=1 throughput.
 *   3. rebalance pause: 2 instances on a live stream at that rate, a third joins, later one of the
 *      first two is SIGKILLed. Committed offsets of every partition are polled every 200 ms; for
 *      each event: when the members had rejoined (their "joined group" log lines), when every
 *      partition committed again, the longest interval without a commit (per partition, and on
 *      all partitions at once), the longest gap between alerts, the latency of alerts triggered
 *      in the 30 s after it, and whether recovery restored the rules memory (recovery's
 *      "partition assigned: rebuilding state" lines with memoryAt).
 *
 * Kafka and ClickHouse: KAFKA_BROKERS / CLICKHOUSE_URL if set, else started for the run
 * (@tillwatch/testkit). Prints tables; asserts nothing about time.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { createClient } from '@clickhouse/client';
import { DAY_PARTITIONED_TABLES } from '@tillwatch/clickhouse';
import { createKafka } from '@tillwatch/kafka';
import { createSimulation } from '@tillwatch/simulator';
import { Partitioners } from 'kafkajs';
import {
  alertLatencies,
  bundleProcessor,
  collectAlerts,
  latencyQuantiles,
  liveStream,
  spawnProcessor,
  waitForMembers,
  type EventMessage,
  type ProcessorChild,
} from './under-load';
import { startServices } from '@tillwatch/testkit/services';

const args = process.argv.slice(2);
const EVENTS = Number(args.find((a) => /^\d+$/.test(a)) ?? 300_000);
/** `--throughput-only`: skip the latency and rebalance runs */
const LATENCY = !args.includes('--throughput-only');
/** `--rebalance-only=<events/s>`: only the rebalance run, its live stream at this rate */
const REBALANCE_ONLY = Number(
  args.find((a) => a.startsWith('--rebalance-only='))?.split('=')[1] ?? Number.NaN,
);
const INSTANCES = [1, 2, 4];
const PARTITIONS = 8;
/**
 * Group session: how long a SIGKILLed member goes unnoticed. The processor's default (30s): with
 * 10s, a trial run on this 2-core host had members dropped for missed heartbeats while they
 * replayed after the join, one rebalance after another.
 */
const SESSION_TIMEOUT = '30s';
/** `--live-seconds=S`: how long each latency run produces (default 60) */
const LATENCY_MS =
  1000 * Number(args.find((a) => a.startsWith('--live-seconds='))?.split('=')[1] ?? 60);
const POLL_MS = 200;
const KAFKAJS = (createRequire(import.meta.url)('kafkajs/package.json') as { version: string })
  .version;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[scale] ${m}\n`);
const secs = (ms: number) => Number((ms / 1000).toFixed(1));

/** A processor instance: its PROCESSOR_INSTANCE_ID and its child process. */
type Child = ProcessorChild & { name: string };

interface LogLine {
  time: number;
  msg: string;
  [k: string]: unknown;
}
function readLog(file: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      /* a line cut by SIGKILL */
    }
  }
  return out;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return NaN;
  }
}
/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const v = cpu!.split(/\s+/).slice(1).map(Number);
  const total = v.reduce((s, x) => s + x, 0);
  return { busy: total - v[3]! - v[4]!, total };
}

async function main() {
  const services = await startServices({ log });
  const brokers = services.env.KAFKA_BROKERS!;
  const chUrl = services.env.CLICKHOUSE_URL!;
  const id = Date.now().toString(36);
  const kafka = createKafka({ brokers, clientId: `scale-${id}` });
  const admin = kafka.admin();
  await admin.connect();
  const workDir = mkdtempSync(path.join(tmpdir(), 'tw-scale-'));
  const bundle = bundleProcessor(path.join(workDir, 'processor.mjs'));
  log(`processor bundled: ${bundle}; child logs in ${workDir}`);
  const children: Child[] = [];
  const dbs: string[] = [];
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    // ---- one suite per run: its topics (8 partitions each), group and database --------------
    const suite = async (tag: string) => {
      const t = (s: string) => `scale.${id}.${tag}.${s}`;
      const s = {
        tag,
        group: `scale-${id}-${tag}`,
        db: `scale_${id}_${tag}`,
        events: t('events'),
        rollups: t('rollups'),
        alerts: t('alerts'),
        dlq: t('dlq'),
      };
      await admin.createTopics({
        waitForLeaders: true,
        topics: [s.events, s.rollups, s.alerts, s.dlq].map((topic) => ({
          topic,
          numPartitions: PARTITIONS,
          replicationFactor: 1,
          configEntries: [{ name: 'retention.ms', value: '-1' }],
        })),
      });
      dbs.push(s.db);
      return s;
    };
    type Suite = Awaited<ReturnType<typeof suite>>;
    const childEnv = (s: Suite): Record<string, string> => ({
      KAFKA_BROKERS: brokers,
      CLICKHOUSE_URL: chUrl,
      CLICKHOUSE_DATABASE: s.db,
      TOPIC_EVENTS: s.events,
      TOPIC_ROLLUPS: s.rollups,
      TOPIC_ALERTS: s.alerts,
      TOPIC_DLQ: s.dlq,
      TOPIC_PARTITIONS: String(PARTITIONS),
      PROCESSOR_GROUP_ID: s.group,
      PROCESSOR_METRICS_PORT: '0',
      PROCESSOR_SESSION_TIMEOUT: SESSION_TIMEOUT,
      // The simulated day is in March 2026: a processor starting (the joining instance) would
      // drop its day partitions as older than the retention — rules memory included, which is
      // why the join restored none before this was set.
      RETENTION: DAY_PARTITIONED_TABLES.map((t) => `${t}=off`).join(','),
      LOG_LEVEL: 'info',
    });
    const start = (s: Suite, name: string) => {
      // kill(): SIGTERM by default, SIGKILL if still running 20 s later
      const c: Child = Object.assign(
        spawnProcessor(
          bundle,
          { ...childEnv(s), PROCESSOR_INSTANCE_ID: name },
          path.join(workDir, `${s.tag}-${name}.log`),
          { nodeArgs: ['--max-semi-space-size=64'], signal: 'SIGTERM', killAfterMs: 20_000 },
        ),
        { name },
      );
      children.push(c);
      return c;
    };
    const waitMembers = (group: string, n: number) => waitForMembers(admin, group, n);
    /** N instances of the suite, the first alone (it runs the migrations), then the others. */
    const startInstances = async (s: Suite, n: number) => {
      const cs = [start(s, 'i1')];
      await waitMembers(s.group, 1);
      for (let i = 2; i <= n; i++) cs.push(start(s, `i${i}`));
      await waitMembers(s.group, n);
      return cs;
    };
    const committed = async (group: string, topic: string): Promise<number[]> => {
      const [c] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const out = new Array<number>(PARTITIONS).fill(0);
      for (const p of c?.partitions ?? []) out[p.partition] = Math.max(0, Number(p.offset));
      return out;
    };
    const stopAll = async (cs: Child[]) => {
      await Promise.all(cs.map((c) => c.kill('SIGTERM')));
    };

    // ---- the events, the same for every N ----------------------------------------------------
    const sim = createSimulation({
      seed: 1,
      scenario: 'all',
      start: Date.UTC(2026, 2, 2, 0, 0, 0),
      durationMs: 24 * 3_600_000,
    });
    const events: EventMessage[] = [];
    for (const ev of sim.events()) {
      const ts = typeof ev.ts === 'number' ? ev.ts : Date.parse(ev.ts);
      events.push({ key: ev.merchantId, value: JSON.stringify(ev), timestamp: String(ts) });
      if (events.length >= EVENTS) break;
    }
    const n = events.length;

    // ---- 1. throughput per N ------------------------------------------------------------------
    const tput: Record<string, string | number>[] = [];
    let rate1 = 0;
    for (const N of REBALANCE_ONLY > 0 ? [] : INSTANCES) {
      const s = await suite(`t${N}`);
      const fill = kafka.producer({
        transactionalId: `scale-${id}-fill-${N}`,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 600_000,
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      await fill.connect();
      const tx = await fill.transaction();
      const f0 = Date.now();
      // One send at a time, in order (see processor.bench.ts: concurrent sends reorder a partition).
      for (let i = 0; i < n; i += 5000)
        await tx.send({ topic: s.events, messages: events.slice(i, i + 5000) });
      log(`N=${N}: ${n} events in an open transaction in ${Date.now() - f0} ms; starting ${N}`);
      const cs = await startInstances(s, N);
      const cpu0 = cs.map((c) => cpuSeconds(c.pid));
      const m0 = machineTicks();
      const t0 = Date.now();
      await tx.commit();
      await fill.disconnect();
      let lastChange = t0;
      let last = '';
      let t1 = 0;
      const deadline = t0 + 30 * 60_000;
      while (!t1 && Date.now() < deadline) {
        await sleep(POLL_MS);
        const now = Date.now();
        const ev = await committed(s.group, s.events);
        const [ends, ro] = await Promise.all([
          admin.fetchTopicOffsets(s.rollups),
          committed(s.group, s.rollups),
        ]);
        const sig = `${ev.join()}|${ro.join()}`;
        if (sig !== last) lastChange = now;
        last = sig;
        if (ev.reduce((a, b) => a + b, 0) < n) continue;
        // The rollup stage has caught up: the end less one commit marker, or (two instances'
        // transactions open on a partition at once leave two markers) nothing moved for 5 s.
        const caughtUp = ends.every((e) => Number(e.high) - (ro[e.partition] ?? 0) <= 1);
        if (caughtUp) t1 = now;
        else if (now - lastChange > 5000) t1 = lastChange;
      }
      if (!t1) throw new Error(`N=${N}: not caught up in 30 min`);
      const m1 = machineTicks();
      const cpu = cs.map((c, i) => cpuSeconds(c.pid) - cpu0[i]!);
      const logs = cs.map((c) => readLog(c.logFile));
      const rejoins = logs.flat().filter((l) => l.msg === 'joined group' && l.time > t0).length;
      const perInstance = logs.map(
        (ls) =>
          (
            ls.filter((l) => l.msg === 'joined group').at(-1)?.assignment as
              Record<string, number[]> | undefined
          )?.[s.events]?.length ?? 0,
      );
      await stopAll(cs);
      const rate = n / ((t1 - t0) / 1000);
      if (N === 1) rate1 = rate;
      const cpuSum = cpu.reduce((a, b) => a + b, 0);
      tput.push({
        instances: N,
        'events/s': Math.round(rate),
        'vs 1 instance': Number((rate / (rate1 || rate)).toFixed(2)),
        'wall s': secs(t1 - t0),
        'events partitions per instance': perInstance.join('/'),
        'processor CPU s (all instances)': Number(cpuSum.toFixed(1)),
        'CPU µs per event': Math.round((cpuSum / n) * 1e6),
        'machine CPU busy': `${Math.round(((m1.busy - m0.busy) / (m1.total - m0.total)) * 100)}%`,
        'rebalances during run': rejoins,
      });
      log(`N=${N}: ${Math.round(rate)} events/s`);
    }
    console.log(
      `\nThroughput: ${n.toLocaleString()} events pre-filled on ${PARTITIONS} partitions (one transaction, committed once all instances had joined), timed from that commit to every offset committed and the rollups caught up; each instance its own node process; one run each`,
    );
    console.table(tput);
    console.log(
      'This machine has 2 cores, shared by the instances, Kafka, ClickHouse and this bench: ' +
        'beyond 2 instances there is no core left to add, so 4 instances cannot be faster than 2 here ' +
        '(and each instance adds its own fetches, transactions and ClickHouse inserts). The figures measure ' +
        'the cost of splitting the work on a saturated host, not scaling on hosts of their own.',
    );
    if (!LATENCY) return;

    // ---- a live stream at one fixed rate, for the latency and rebalance runs --------------------
    const rate = REBALANCE_ONLY > 0 ? REBALANCE_ONLY : Math.max(500, Math.floor(rate1 / 2));
    const live = (s: Suite) => liveStream({ producer, topic: s.events, rate });
    const alertsOf = (s: Suite) => collectAlerts(kafka, `scale-alerts-${s.tag}-${id}`, s.alerts);

    // ---- 2. produce -> alert per N -------------------------------------------------------------
    const lat: Record<string, string | number>[] = [];
    for (const N of REBALANCE_ONLY > 0 ? [] : INSTANCES) {
      const s = await suite(`l${N}`);
      const cs = await startInstances(s, N);
      const alerts = await alertsOf(s);
      log(`N=${N}: ${rate} events/s for ${LATENCY_MS / 1000} s`);
      const liveStart = Date.now();
      const stream = live(s);
      await sleep(LATENCY_MS);
      await stream.stop();
      await sleep(5000);
      await alerts.stop();
      const rejoins = cs
        .flatMap((c) => readLog(c.logFile))
        .filter((l) => l.msg === 'joined group' && l.time >= liveStart).length;
      await stopAll(cs);
      lat.push({
        instances: N,
        'events/s produced': rate,
        'events sent': stream.sent.length,
        ...latencyQuantiles(alertLatencies(stream.sent, alerts.got).map(([, l]) => l)),
        'rebalances during run': rejoins,
      });
    }
    console.log(
      `\nProduce -> alert on pos.alerts, ${rate} events/s (half the 1-instance throughput) for ${LATENCY_MS / 1000} s, the same stream for every N (processor.bench.ts's method)`,
    );
    console.table(lat);

    // ---- 3. rebalance pause: 2 running, a third joins, one of the first two is killed ----------
    const s = await suite('r');
    const [a, b] = await startInstances(s, 2);
    const alerts = await alertsOf(s);
    const polls: { at: number; off: number[] }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        polls.push({ at: Date.now(), off: await committed(s.group, s.events) });
        await sleep(POLL_MS);
      }
    })();
    const stream = live(s);
    const r0 = Date.now();
    const ch = createClient({ url: chUrl });
    // Steady state with a rules memory committed for every events partition (taken at each hour
    // of event time), so a moved partition has one to restore; at least 40 s.
    const memoryPartitions = async () => {
      try {
        const rs = await ch.query({
          query: `SELECT uniqExact(partition) AS n FROM ${s.db}.rules_memory WHERE stage = 'events'`,
          format: 'JSONEachRow',
        });
        return Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
      } catch {
        return 0;
      }
    };
    while (
      Date.now() - r0 < 40_000 ||
      ((await memoryPartitions()) < PARTITIONS && Date.now() - r0 < 150_000)
    )
      await sleep(1000);
    // What a moved partition can restore: the latest events-stage memory per partition.
    const memRows = await ch
      .query({
        query: `SELECT partition, max(at_ms) AS at, argMax(source_offset, at_ms) AS off,
            groupUniqArray(partitions) AS parts
          FROM ${s.db}.rules_memory WHERE stage = 'events' GROUP BY partition ORDER BY partition`,
        format: 'JSONEachRow',
      })
      .then((rs) => rs.json<{ partition: number; at: string; off: string; parts: number[] }>())
      .catch(() => []);
    const J = Date.now();
    const offJ = await committed(s.group, s.events);
    log(
      `rebalance: a third instance joins; rules memory (events) per partition, latest at/source offset vs committed: ${memRows
        .map(
          (r) =>
            `${r.partition}:${new Date(Number(r.at)).toISOString().slice(11, 16)}/${r.off}<${offJ[r.partition]} of ${r.parts.join('|')}`,
        )
        .join(' ')}`,
    );
    const c = start(s, 'i3');
    /** After event E: every survivor's first "joined group" after E, then every partition's
     * first commit after the last of them. */
    const settle = async (E: number, members: Child[], maxMs: number) => {
      while (Date.now() - E < maxMs) {
        await sleep(1000);
        const joined = members.map(
          (m) => readLog(m.logFile).find((l) => l.msg === 'joined group' && l.time > E)?.time,
        );
        if (joined.some((t) => t === undefined)) continue;
        const done = Math.max(...(joined as number[]));
        const before = [...polls].reverse().find((p) => p.at <= done);
        const after = polls.at(-1)!;
        if (before && after.off.every((o, p) => o > before.off[p]!)) return;
      }
    };
    await settle(J, [a!, b!, c], 120_000);
    await sleep(20_000);
    const K = Date.now();
    log(`rebalance: instance ${a!.name} SIGKILLed`);
    await a!.kill('SIGKILL');
    await settle(K, [b!, c], 150_000);
    await sleep(20_000);
    const end = Date.now();
    await stream.stop();
    polling = false;
    await poller;
    await sleep(5000);
    await alerts.stop();
    await ch.close();
    const logs = new Map([a!, b!, c].map((m) => [m.name, readLog(m.logFile)]));
    await stopAll([b!, c]);

    const lats = alertLatencies(stream.sent, alerts.got);
    /** the longest gap between consecutive times in `ts` that overlaps [from, to) */
    const longestGap = (ts: number[], from: number, to: number) => {
      let best = 0;
      for (let i = 1; i < ts.length; i++)
        if (ts[i]! > from && ts[i - 1]! < to) best = Math.max(best, ts[i]! - ts[i - 1]!);
      return best;
    };
    const advances = (p: number) =>
      polls.filter((x, i) => i > 0 && x.off[p]! > polls[i - 1]!.off[p]!).map((x) => x.at);
    const anyAdvance = polls
      .filter((x, i) => i > 0 && x.off.some((o, p) => o > polls[i - 1]!.off[p]!))
      .map((x) => x.at);
    const alertTimes = alerts.got.map((x) => x.at);
    const row = (what: string, E: number, W: number, members: string[]) => {
      const joined = members.map(
        (m) => logs.get(m)!.find((l) => l.msg === 'joined group' && l.time > E)?.time ?? NaN,
      );
      const done = Math.max(...joined);
      const resumed = Array.from(
        { length: PARTITIONS },
        (_, p) => advances(p).find((t) => t > done) ?? NaN,
      );
      const recs = members
        .flatMap((m) => logs.get(m)!)
        .filter(
          (l) => l.msg === 'partition assigned: rebuilding state' && l.time > E && l.time < W,
        );
      const ev = recs.filter((l) => l.topic === s.events);
      const ro = recs.filter((l) => l.topic === s.rollups);
      const window = lats.filter(([t]) => t >= E && t < E + 30_000).map(([, l]) => l);
      const q = latencyQuantiles(window);
      return {
        event: what,
        'members rejoined s': secs(done - E),
        'all 8 partitions committing again s': secs(Math.max(...resumed) - E),
        'longest no-commit, any partition s': secs(
          Math.max(...Array.from({ length: PARTITIONS }, (_, p) => longestGap(advances(p), E, W))),
        ),
        'longest no-commit, all partitions s': secs(longestGap(anyAdvance, E, W)),
        'longest gap between alerts s': secs(longestGap(alertTimes, E, W)),
        'alerts in next 30 s: p50/p99 ms': `${q['p50 ms']}/${q['p99 ms']} (${q.alerts})`,
        'recoveries events (memory restored)': `${ev.length} (${ev.filter((l) => l.memoryAt).length})`,
        'recoveries rollups (memory restored)': `${ro.length} (${ro.filter((l) => l.memoryAt).length})`,
        'records replayed': ev
          .concat(ro)
          .reduce((t, l) => t + Number(l.resumeAt) - Number(l.replayFrom), 0),
      };
    };
    const B0 = J - 20_000;
    const base = (() => {
      const q = latencyQuantiles(lats.filter(([t]) => t >= B0 && t < J).map(([, l]) => l));
      const inside = (ts: number[]) => {
        const xs = ts.filter((t) => t >= B0 && t < J);
        return xs.slice(1).reduce((m, t, i) => Math.max(m, t - xs[i]!), 0);
      };
      return {
        event: 'steady state (20 s before the join)',
        'members rejoined s': '-',
        'all 8 partitions committing again s': '-',
        'longest no-commit, any partition s': secs(
          Math.max(...Array.from({ length: PARTITIONS }, (_, p) => inside(advances(p)))),
        ),
        'longest no-commit, all partitions s': secs(inside(anyAdvance)),
        'longest gap between alerts s': secs(inside(alertTimes)),
        'alerts in next 30 s: p50/p99 ms': `${q['p50 ms']}/${q['p99 ms']} (${q.alerts}, in the 20 s)`,
        'recoveries events (memory restored)': '-',
        'recoveries rollups (memory restored)': '-',
        'records replayed': '-',
      };
    })();
    console.log(
      `\nRebalance pause: 2 instances on a live stream of ${rate} events/s, a third joins at +${secs(J - r0)} s, instance ${a!.name} is SIGKILLed at +${secs(K - r0)} s (session timeout ${SESSION_TIMEOUT}: the group notices a dead member only then); committed offsets polled every ${POLL_MS} ms; kafkajs ${KAFKAJS} eager rebalancing (roundRobin, no cooperative protocol): every member stops all its partitions, and the processor rebuilds every partition's state on every assignment`,
    );
    console.table([
      base,
      row(`join (${c.name})`, J, K, [a!.name, b!.name, c.name]),
      row(`SIGKILL (${a!.name})`, K, end, [b!.name, c.name]),
    ]);
  } finally {
    for (const c of children) if (!c.exited) await c.kill('SIGKILL');
    await producer.disconnect().catch(() => {});
    const ch = createClient({ url: chUrl });
    for (const db of dbs)
      await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => {});
    await ch.close();
    await admin.disconnect();
    await services.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(
      `scale bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(1);
  },
);
