import { ident, raw, sql } from '@tillwatch/clickhouse';
import { decodeEvent } from '@tillwatch/contracts';
import type { StageMemory, StageSink } from '@tillwatch/stream';
import type { ProcessorContext } from './context';
import type { PartitionStages } from './partition-stages';
import { emptyRows } from './store';

/** Rows per query: ~250 B of raw JSON each, so a page is ~12 MB. */
const PAGE = 50_000;

export interface WarmupResult {
  memory?: StageMemory;
  events: number;
  ms: number;
}

/**
 * Warm-up on a first start: an events partition with no rules memory at all (none was ever
 * taken for it, for this partitioning) would judge blind — no calendar profile, no baseline —
 * although ClickHouse holds its history. The partition's stored events of the last
 * RULES_WARMUP before record time `t` (where its group resumes) are read back in event-time
 * order (ts_ms, then Kafka offset) and run through a scratch stage of the same rules, whose
 * outputs go nowhere; its rules memory at the last hour boundary at or before `t` is then
 * given to the real stage as a memory read from rules_memory would be (recovery.ts), without
 * open episodes: nothing of the history is alerted, now or later (an episode of the history
 * that still holds is judged afresh, from the memory's time, as a new one).
 *
 * The memory is kept in rules_memory at once, as the record before `c` (the offset the group
 * resumes at) took it: a later recovery of the partition — a rebalance, a crash — before its
 * stage took a memory of its own restores it, instead of starting blind (it did: a rebalance
 * after the instance's first commit left partitions without Monday's profiles).
 *
 * Only events partitions: the rollup stage's region profiles need every partition's partials,
 * which a first start does not replay; they learn as before.
 *
 * `stored`: the partition's count of events memories when the caller already read it (the
 * diagnostic count of Recovery.loadMemory, the same query); undefined (restore off): read here.
 */
export async function warmUp(
  ctx: ProcessorContext,
  stages: PartitionStages,
  stage: StageMemory['stage'],
  partition: number,
  t: number,
  c: number,
  stored?: number,
): Promise<StageMemory | undefined> {
  const span = ctx.cfg.RULES_WARMUP;
  if (stage !== 'events' || !(span > 0) || !Number.isFinite(t)) return undefined;
  const { store, log, metrics } = ctx;
  const known = stored ?? (await storedEventMemories(ctx, partition));
  if (known > 0) return undefined; // not a first start: a memory exists
  const r = await warmUpFrom(ctx, stages, partition, t - span, t);
  if (r.memory) {
    const m = r.memory;
    // Through the store's write, as a batch's memories go: a pooled socket the server closed
    // is redone there at once (store.ts, guard). A direct insert failed on it under load, the
    // recovery was retried and, other partitions having committed, skipped warm-up.
    await store.write({
      ...emptyRows(),
      memories: [
        {
          stage: m.stage,
          partition: m.partition,
          partitions: m.partitions,
          at: m.at,
          body: JSON.stringify(m),
          offset: Math.max(-1, Math.floor(c) - 1),
        },
      ],
    });
  }
  metrics.warmupEvents.inc(r.events);
  metrics.warmupSeconds.inc(r.ms / 1000);
  log.info(
    {
      partition,
      from: new Date(t - span).toISOString(),
      to: new Date(t).toISOString(),
      events: r.events,
      ms: Math.round(r.ms),
      memoryAt: r.memory ? new Date(r.memory.at).toISOString() : null,
    },
    'rules warm-up from stored events',
  );
  return r.memory;
}

/** How many events memories rules_memory holds for the partition (this partitioning). */
async function storedEventMemories(ctx: ProcessorContext, partition: number): Promise<number> {
  const { store } = ctx;
  const rows = await store.ch.query<{ n: string | number }>(
    sql`SELECT count() AS n FROM ${ident(store.tables.rulesMemory)}
      WHERE stage = 'events' AND partitions = ${ctx.sourcePartitions} AND partition = ${partition}`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** The scratch run over events_raw [from, to) of one partition (exported for tests). */
export async function warmUpFrom(
  ctx: ProcessorContext,
  stages: PartitionStages,
  partition: number,
  from: number,
  to: number,
): Promise<WarmupResult> {
  const started = performance.now();
  const { store } = ctx;
  const scratch = stages.newEventStage(partition);
  let memory: StageMemory | undefined;
  const sink: StageSink = {
    alert: () => {},
    rollup: () => {},
    memory: (m) => {
      memory = m;
    },
  };
  let events = 0;
  let lastTs = Math.max(0, Math.floor(from)) - 1;
  let lastOffset = Number.MAX_SAFE_INTEGER; // first page: every offset at lastTs + 1 and on
  const end = Math.floor(to);
  for (;;) {
    // Keyset pages in (ts_ms, kafka_offset) order; `ts` (seconds, the partition key) prunes
    // day partitions. A record written twice (a retried batch, before the merge removes the
    // copy) has the same offset: the strict order skips the copy.
    const rows = await store.ch.query<{ raw: string; ts_ms: string; kafka_offset: string }>(
      sql`SELECT raw, ts_ms, kafka_offset FROM ${ident(store.tables.events)}
        WHERE kafka_partition = ${partition}
          AND ts >= toDateTime(${Math.floor(Math.max(0, lastTs) / 1000)})
          AND ts_ms < ${end}
          AND (ts_ms > ${lastTs} OR (ts_ms = ${Math.max(0, lastTs)} AND kafka_offset > ${lastOffset}))
        ORDER BY ts_ms, kafka_offset
        LIMIT ${raw(String(PAGE))}`,
    );
    let prev = '';
    for (const row of rows) {
      const key = `${row.ts_ms}:${row.kafka_offset}`;
      if (key === prev) continue;
      prev = key;
      const d = decodeEvent(row.raw);
      if (!d.ok) continue;
      scratch.handle(d.event, sink);
      events++;
    }
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1]!;
    lastTs = Number(last.ts_ms);
    lastOffset = Number(last.kafka_offset);
  }
  // everything before `to` has been read: close the boundaries up to it (the memory at its hour)
  scratch.advance(end, sink);
  if (memory) {
    // what the history learnt, not what it was alerting about
    memory.memory.episodes = { open: [], resolvedAt: [], pending: [] };
  }
  return { ...(memory ? { memory } : {}), events, ms: performance.now() - started };
}
