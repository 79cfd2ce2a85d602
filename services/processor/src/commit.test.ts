import type { Producer } from '@tillwatch/kafka';
import { describe, expect, it } from 'vitest';
import { GroupCommit, type PendingCommit } from './commit';
import { Transactions, type ProcessorContext } from './context';
import { createMetrics } from './metrics';
import { emptyRows, type Rows } from './store';

/**
 * GroupCommit with a store whose writes the test settles by hand and a transactional producer
 * that logs every call in order: a group's transaction begins only after its ClickHouse writes
 * are done (an open transaction holds back what read-committed consumers of its topics see: an
 * alert on pos.rollups or pos.alerts waits for it), a failed or revoked group sends nothing, and
 * batches handed in during a commit go together in the next transaction.
 */
function setup() {
  const log: string[] = [];
  const writes: { settle: (e?: Error) => void }[] = [];
  const store = {
    write: (rows: Rows) =>
      new Promise<void>((resolve, reject) => {
        log.push(`write ${rows.events.count}`);
        writes.push({
          settle: (e) => {
            log.push(e ? 'write failed' : 'write done');
            if (e) reject(e);
            else resolve();
          },
        });
      }),
  };
  const producer = {
    connect: async () => {},
    disconnect: async () => {},
    transaction: async () => {
      log.push('begin');
      return {
        sendBatch: async ({ topicMessages }: { topicMessages: { topic: string }[] }) =>
          void log.push(`send ${topicMessages.map((t) => t.topic).join(',')}`),
        sendOffsets: async ({ topics }: { topics: { partitions: { offset: string }[] }[] }) =>
          void log.push(`offsets ${topics.flatMap((t) => t.partitions.map((p) => p.offset))}`),
        commit: async () => void log.push('commit'),
        abort: async () => void log.push('abort'),
      };
    },
  };
  const ctx = {
    cfg: {
      ROLLUPS_FORMAT: 'binary',
      TOPIC_ALERTS: 'pos.alerts',
      TOPIC_ROLLUPS: 'pos.rollups',
      TOPIC_DLQ: 'pos.events.dlq',
      TOPIC_EVENTS: 'pos.events',
      PROCESSOR_GROUP_ID: 'g',
      CLICKHOUSE_MAX_BACKOFF: 1000,
    },
    log: { warn: () => {}, info: () => {} },
    metrics: createMetrics(),
    store,
    producer: producer as unknown as Producer,
  } as unknown as ProcessorContext;
  const txns = new Transactions(ctx, () => producer as unknown as Producer);
  const commits = new GroupCommit(ctx, txns);
  const batch = (last: number, live = () => true): PendingCommit => {
    const rows = emptyRows();
    rows.events.count = last;
    return {
      topic: 'pos.events',
      partition: 0,
      last,
      rows,
      alerts: [{ alertId: `a${last}` } as PendingCommit['alerts'][number]],
      rollups: [],
      dead: [],
      reroutes: [],
      live,
      heartbeat: async () => {},
    };
  };
  return { log, writes, commits, batch };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
};

describe('GroupCommit', () => {
  it('begins the transaction only after the write is done, then commits', async () => {
    const { log, writes, commits, batch } = setup();
    let done = false;
    const c = commits.commit(batch(41)).then(() => (done = true));
    await until(() => writes.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['write 41']); // nothing sent while the write runs
    expect(done).toBe(false);
    writes[0]!.settle();
    await c;
    expect(log).toEqual([
      'write 41',
      'write done',
      'begin',
      'send pos.alerts',
      'offsets 42',
      'commit',
    ]);
  });

  it('sends nothing when the write fails, and fails the batch', async () => {
    const { log, writes, commits, batch } = setup();
    const c = commits.commit(batch(7));
    await until(() => writes.length === 1);
    writes[0]!.settle(new Error('Code: 241, memory limit'));
    await expect(c).rejects.toThrow(/memory limit/);
    expect(log).toEqual(['write 7', 'write failed']);
  });

  it('sends nothing when a batch of the group was revoked during the write', async () => {
    const { log, writes, commits, batch } = setup();
    let live = true;
    const c = commits.commit(batch(3, () => live));
    await until(() => writes.length === 1);
    live = false;
    writes[0]!.settle();
    await expect(c).rejects.toThrow(/revoked|stopping/);
    expect(log).toEqual(['write 3', 'write done']);
  });

  it('commits the batches handed in during a commit together, after both their writes', async () => {
    const { log, writes, commits, batch } = setup();
    const first = commits.commit(batch(1));
    await until(() => writes.length === 1);
    const second = commits.commit(batch(5));
    const third = commits.commit(batch(6));
    // two writes at a time: 5's starts at once, 6's waits for a free slot
    expect(writes).toHaveLength(2);
    writes[0]!.settle();
    await first;
    writes[1]!.settle();
    await until(() => writes.length === 3);
    await new Promise((r) => setTimeout(r, 20));
    expect(log.filter((l) => l === 'commit')).toHaveLength(1); // 6's write still runs
    writes[2]!.settle();
    await Promise.all([second, third]);
    expect(log.slice(-4)).toEqual(['begin', 'send pos.alerts', 'offsets 6,7', 'commit']);
    expect(log.filter((l) => l === 'begin')).toHaveLength(2);
  });
});
