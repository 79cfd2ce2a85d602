import type { Producer } from '@tillwatch/kafka';
import { describe, expect, it } from 'vitest';
import { Transactions, type ProcessorContext } from './context';
import { createMetrics } from './metrics';

/**
 * A transactional producer with kafkajs' state rules (producer/eosManager): a transaction
 * starts only in READY, abort is legal only in TRANSACTING, and a commit whose EndTxn fails
 * stays in COMMITTING. `failNextCommit` makes the next EndTxn fail as a dead broker does.
 */
function fakeProducer(
  id: number,
  fleet: { failNextCommit: boolean; refuseConnects: number; committed: string[] },
) {
  let state: 'READY' | 'TRANSACTING' | 'COMMITTING' | 'ABORTING' = 'READY';
  const illegal = (call: string) =>
    Object.assign(
      new Error(`Transaction state exception: Cannot call "${call}" in state "${state}"`),
      { name: 'KafkaJSNonRetriableError' },
    );
  const producer = {
    id,
    connected: false,
    disconnected: false,
    connect: async () => {
      if (fleet.refuseConnects-- > 0) throw new Error('Connection error: connect ECONNREFUSED');
      producer.connected = true;
    },
    disconnect: async () => {
      producer.disconnected = true;
    },
    transaction: async () => {
      if (state !== 'READY') throw illegal('beginTransaction');
      state = 'TRANSACTING';
      const sent: string[] = [];
      return {
        send: async ({ topic }: { topic: string }) => void sent.push(topic),
        commit: async () => {
          state = 'COMMITTING';
          if (fleet.failNextCommit) {
            fleet.failNextCommit = false;
            throw Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
              name: 'KafkaJSConnectionError',
              retriable: true,
            });
          }
          fleet.committed.push(...sent.map((t) => `${id}:${t}`));
          state = 'READY';
        },
        abort: async () => {
          if (state !== 'TRANSACTING') throw illegal('abort');
          state = 'READY';
        },
      };
    },
  };
  return producer;
}

function setup() {
  const fleet = { failNextCommit: false, refuseConnects: 0, committed: [] as string[] };
  const made: ReturnType<typeof fakeProducer>[] = [];
  const warnings: string[] = [];
  const metrics = createMetrics();
  const ctx = {
    log: { warn: (_o: unknown, msg: string) => warnings.push(msg) },
    metrics,
  } as unknown as ProcessorContext;
  const txns = new Transactions(ctx, () => {
    const p = fakeProducer(made.length + 1, fleet);
    made.push(p);
    return p as unknown as Producer;
  });
  const send = (topic: string) =>
    txns.run(async (tx) => {
      await tx.send({ topic, messages: [] });
    });
  return { fleet, made, warnings, metrics, ctx, txns, send };
}

describe('Transactions', () => {
  it('replaces a producer left in COMMITTING by a failed EndTxn, so later transactions run', async () => {
    const { fleet, made, warnings, metrics, ctx, txns, send } = setup();
    await txns.connect();
    await send('a');
    fleet.failNextCommit = true;
    await expect(send('b')).rejects.toThrow(/ECONNREFUSED/);
    // the failed commit's producer cannot begin again: the next run uses a new one
    await send('c');
    await send('d');
    expect(fleet.committed).toEqual(['1:a', '2:c', '2:d']);
    expect(made.map((p) => [p.id, p.connected, p.disconnected])).toEqual([
      [1, true, true],
      [2, true, false],
    ]);
    expect(ctx.producer).toBe(made[1]);
    expect(warnings).toEqual([
      'Kafka producer left mid-commit or mid-abort: replacing it (same transactional id)',
    ]);
    expect((await metrics.producerReplaced.get()).values[0]?.value).toBe(1);
  });

  it('keeps the producer when a failed body was aborted cleanly', async () => {
    const { made, txns, send, fleet } = setup();
    await txns.connect();
    await expect(
      txns.run(async () => {
        throw new Error('send failed');
      }),
    ).rejects.toThrow('send failed');
    await send('e');
    expect(made).toHaveLength(1);
    expect(fleet.committed).toEqual(['1:e']);
  });

  it('a replacement that cannot connect fails that run and is tried again at the next', async () => {
    const { fleet, made, txns, send } = setup();
    await txns.connect();
    fleet.failNextCommit = true;
    await expect(send('a')).rejects.toThrow(/ECONNREFUSED/);
    // the broker is still away when the next transaction comes: the new producer's connect fails
    fleet.refuseConnects = 1;
    await expect(send('b')).rejects.toThrow(/ECONNREFUSED/);
    await send('c');
    expect(fleet.committed).toEqual(['3:c']);
    expect(made.map((p) => p.connected)).toEqual([true, false, true]);
  });
});
