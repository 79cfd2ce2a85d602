import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from '@tillwatch/kafka';
import { partitionerFor } from '@tillwatch/stream';
import { loadProcessorConfig } from './config';
import type { ProcessorContext } from './context';
import { createMetrics } from './metrics';
import { MISPARTITION_LOG_EVERY_MS, REROUTED_HEADER, Repartition, producerOf } from './repartition';

const base = { KAFKA_BROKERS: 'k:9092', CLICKHOUSE_URL: 'http://ch:8123' };

function setup(extra: Record<string, string> = {}) {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  const log = { warn: (obj: Record<string, unknown>, msg: string) => lines.push({ obj, msg }) };
  const metrics = createMetrics();
  const ctx = {
    cfg: loadProcessorConfig({ ...base, ...extra }),
    log,
    metrics,
    routeEvent: partitionerFor(4),
  } as unknown as ProcessorContext;
  let now = 1_000_000;
  const r = new Repartition(ctx, () => now);
  return { r, lines, metrics, tick: (ms: number) => (now += ms) };
}

const msg = (key: string | null, offset: string, headers?: KafkaMessage['headers']) =>
  ({
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from('{}'),
    timestamp: '1772413200000',
    offset,
    attributes: 0,
    headers,
  }) as KafkaMessage;

const count = async (metrics: ReturnType<typeof createMetrics>) =>
  (await metrics.mispartitioned.get()).values.map((v) => [v.labels.partition, v.value]);

describe('Repartition: the partition of a merchant is murmur2 of its id', () => {
  // murmur2 of "MK1" over 4 partitions is 2 (kafkajs, Java); librdkafka's CRC32 gives 1
  it('a record in its merchant partition stays; one elsewhere goes there, once counted', async () => {
    const { r, metrics } = setup();
    expect(r.home('MK1', 2, msg('MK1', '5'), true)).toBeUndefined();
    expect(r.home('MK1', 1, msg('MK1', '6'), true)).toBe(2);
    expect(await count(metrics)).toEqual([['1', 1]]);
  });

  it("decides by the event's merchantId, not the record key (absent or other)", () => {
    const { r } = setup();
    expect(r.home('MK1', 1, msg(null, '1'), true)).toBe(2);
    expect(r.home('MK1', 2, msg('some-other-key', '2'), true)).toBeUndefined();
  });

  it('replay (not live): the same decision, neither counted nor logged', async () => {
    const { r, metrics, lines } = setup();
    expect(r.home('MK1', 1, msg('MK1', '6'), false)).toBe(2);
    expect(await count(metrics)).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('a copy keeps key, value, timestamp and headers, and says where it came from', () => {
    const { r } = setup();
    const m = msg('MK1', '42', { 'client-id': Buffer.from('c-switch-7') });
    const c = r.copy(m, 1, 2);
    expect(c).toMatchObject({ partition: 2, key: m.key, value: m.value, timestamp: m.timestamp });
    expect(c.headers).toEqual({ 'client-id': m.headers!['client-id'], [REROUTED_HEADER]: '1@42' });
  });

  it('a copy is never re-routed twice: handled where it is, logged, not counted again', async () => {
    const { r, metrics, lines } = setup();
    const copy = msg('MK1', '7', { [REROUTED_HEADER]: Buffer.from('1@6') });
    expect(r.home('MK1', 3, copy, true)).toBeUndefined();
    expect(await count(metrics)).toEqual([]);
    expect(lines[0]?.msg).toMatch(/handled where it is/);
  });

  it('EVENTS_REPARTITION=off trusts the producer', () => {
    const { r } = setup({ EVENTS_REPARTITION: 'off' });
    expect(r.home('MK1', 1, msg('MK1', '6'), true)).toBeUndefined();
  });

  it('logs once per producer per minute, naming it when a header does, with key and partitions', () => {
    const { r, lines, tick } = setup();
    for (let i = 0; i < 5; i++) r.home('MK1', 1, msg('MK1', String(i)), true);
    r.home('MK1', 3, msg('MK1', '9', { 'client-id': Buffer.from('c-switch-7') }), true);
    expect(lines).toHaveLength(2);
    expect(lines[0]!.obj).toMatchObject({
      partition: 1,
      murmur2Partition: 2,
      key: 'MK1',
      merchantId: 'MK1',
      clientId: null,
    });
    expect(lines[0]!.msg).toMatch(/unknown: records carry no client id/);
    expect(lines[1]!.obj).toMatchObject({ partition: 3, clientId: 'c-switch-7' });
    tick(MISPARTITION_LOG_EVERY_MS);
    r.home('MK1', 1, msg('MK1', '10'), true);
    expect(lines).toHaveLength(3);
    expect(lines[2]!.obj).toMatchObject({ sameProducerSinceLastLine: 4 });
  });

  it('producerOf reads a client id header if there is one', () => {
    expect(producerOf(undefined)).toBeUndefined();
    expect(producerOf({ other: Buffer.from('x') })).toBeUndefined();
    expect(producerOf({ 'client.id': 'rdkafka' })).toBe('rdkafka');
  });
});
