import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import {
  createBatchConsumer,
  createJsonProducer,
  createKafka,
  ensureTopics,
  type BatchConsumer,
} from './index';

// Real broker: KAFKA_BROKERS from with-services / global-setup-kafka.ts.
const brokers = process.env.KAFKA_BROKERS;
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through vitest.int.config.ts');

const run = randomUUID().slice(0, 8);
const name = (what: string) => `it.${what}.${run}`;
let kafka: Kafka;

async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function committedOffsets(groupId: string, topic: string): Promise<Map<number, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((t?.partitions ?? []).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

beforeAll(() => {
  kafka = createKafka({ brokers, clientId: `kafka-int-${run}` });
});

describe('ensureTopics', () => {
  it('creates a compacted topic once, then reports it as existing and any drift', async () => {
    const topic = name('compacted');
    const spec = { topic, partitions: 3, config: { 'cleanup.policy': 'compact' } };
    const first = await ensureTopics(kafka, [spec]);
    expect(first).toEqual({ created: [topic], existing: [], mismatches: [] });

    const admin = kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const cfg = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] },
      ],
    });
    await admin.disconnect();
    expect(meta.topics[0]?.partitions).toHaveLength(3);
    expect(cfg.resources[0]?.configEntries[0]?.configValue).toBe('compact');

    const again = await ensureTopics(kafka, [spec]);
    expect(again).toEqual({ created: [], existing: [topic], mismatches: [] });

    const drift = await ensureTopics(kafka, [
      { topic, partitions: 6, config: { 'cleanup.policy': 'delete' } },
    ]);
    expect(drift.mismatches.map((m) => m.problem).sort()).toEqual([
      'cleanup.policy=compact, spec says delete',
      'has 3 partitions, spec says 6',
    ]);
  });
});

describe('produce and consume', () => {
  let consumer: BatchConsumer | undefined;
  afterAll(() => consumer?.stop({ drainMs: 1000 }));

  it('round-trips typed JSON, keyed so one merchant stays on one partition, in order', async () => {
    const topic = name('roundtrip');
    await ensureTopics(kafka, [{ topic, partitions: 4 }]);
    type Ev = { merchantId: string; seq: number; note: string };
    const producer = createJsonProducer<Ev>(kafka, { topic, key: (e) => e.merchantId });
    await producer.connect();
    const sent: Ev[] = [];
    for (let i = 0; i < 40; i++)
      sent.push({ merchantId: `M-${i % 5}`, seq: i, note: 'ünï\u0000"\\' });
    const meta = await producer.send(sent);
    await producer.disconnect();
    expect(meta.length).toBeGreaterThan(0);

    const got: { partition: number; value: Ev }[] = [];
    consumer = createBatchConsumer(kafka, {
      groupId: name('g-roundtrip'),
      topics: [topic],
      fromBeginning: true,
      handleBatch: async (b) => {
        for (const m of b.messages) {
          got.push({ partition: b.partition, value: JSON.parse(m.value!.toString()) as Ev });
        }
      },
    });
    await consumer.start();
    await until('40 messages', () => got.length >= 40);
    expect(got.map((g) => g.value).sort((a, b) => a.seq - b.seq)).toEqual(sent);
    for (let m = 0; m < 5; m++) {
      const mine = got.filter((g) => g.value.merchantId === `M-${m}`);
      expect(new Set(mine.map((g) => g.partition)).size).toBe(1);
      const seqs = mine.map((g) => g.value.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });
});

describe('offsets follow durability', () => {
  it('commits in order only what is durable; a restart redelivers the rest', async () => {
    const topic = name('durable');
    const groupId = name('g-durable');
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    const producer = createJsonProducer<{ i: number }>(kafka, { topic });
    await producer.connect();
    const produce = (from: number) => producer.send([0, 1, 2, 3, 4].map((k) => ({ i: from + k })));
    const commitOf = async () => (await committedOffsets(groupId, topic)).get(0);

    // Sink confirmations, per phase: 0..4 waits for a gate, 5..9 is durable at once,
    // 10..14 never becomes durable (the process "dies" before its flush).
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const never = new Promise<void>(() => {});
    const seenA: number[] = [];
    const a = createBatchConsumer(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      handleBatch: async (b) => {
        const values = b.messages.map((m) => (JSON.parse(m.value!.toString()) as { i: number }).i);
        seenA.push(...values);
        const first = values[0]!;
        return { durable: first < 5 ? gate : first < 10 ? Promise.resolve() : never };
      },
    });
    await a.start();
    // Produce phase by phase, each after the previous was handled: one batch per phase.
    await produce(0);
    await until('0..4 handled', () => seenA.length === 5);
    await produce(5);
    await until('5..9 handled', () => seenA.length === 10);
    // 5..9 are durable, 0..4 are not: committing 10 would skip 0..4 on a crash. Nothing moves.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await commitOf()).toBe('-1');

    openGate();
    await until('commit after 0..9 are durable', async () => (await commitOf()) === '10');

    await produce(10);
    await until('10..14 handled', () => seenA.length === 15);
    await a.stop({ drainMs: 300 });
    expect(await commitOf()).toBe('10');
    expect(seenA).toEqual([...Array(15).keys()]);

    // A new member of the group gets again exactly what never became durable.
    const seenB: number[] = [];
    const b = createBatchConsumer(kafka, {
      groupId,
      topics: [topic],
      handleBatch: async (batch) => {
        for (const m of batch.messages) {
          seenB.push((JSON.parse(m.value!.toString()) as { i: number }).i);
        }
      },
    });
    await b.start();
    await until('redelivery of 10..14', () => seenB.length >= 5);
    await until('B commits all', async () => (await commitOf()) === '15');
    expect(seenB).toEqual([10, 11, 12, 13, 14]);
    await b.stop({ drainMs: 1000 });
    await producer.disconnect();
  });
});
