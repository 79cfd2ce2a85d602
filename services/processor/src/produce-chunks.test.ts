import { describe, expect, it } from 'vitest';
import { produceChunks } from './produce-chunks';

const msg = (i: number, bytes: number) => ({ key: `k${i}`, value: 'x'.repeat(bytes) });

describe('produceChunks', () => {
  it('keeps every message, in order per topic, and no request over the limit', () => {
    const input = [
      { topic: 'a', messages: Array.from({ length: 50 }, (_, i) => msg(i, 100 + (i % 7) * 30)) },
      { topic: 'b', messages: Array.from({ length: 30 }, (_, i) => msg(i, 500)) },
    ];
    const chunks = produceChunks(input, 4000);
    expect(chunks.length).toBeGreaterThan(4);
    for (const c of chunks) {
      const bytes = c
        .flatMap((t) => t.messages)
        .reduce((s, m) => s + 32 + String(m.key).length + String(m.value).length, 0);
      expect(bytes).toBeLessThanOrEqual(4000);
    }
    for (const t of ['a', 'b']) {
      const got = chunks.flatMap((c) => c.filter((x) => x.topic === t).flatMap((x) => x.messages));
      expect(got).toEqual(input.find((x) => x.topic === t)!.messages);
    }
  });

  it('sends one request when everything fits, and a message larger than the limit alone', () => {
    const small = [{ topic: 'a', messages: [msg(1, 10), msg(2, 10)] }];
    expect(produceChunks(small, 1000)).toEqual([small]);
    const big = [{ topic: 'a', messages: [msg(1, 10), msg(2, 5000), msg(3, 10)] }];
    expect(produceChunks(big, 1000).map((c) => c[0]!.messages.map((m) => m.key))).toEqual([
      ['k1'],
      ['k2'],
      ['k3'],
    ]);
    expect(produceChunks([], 1000)).toEqual([]);
  });

  it('counts header bytes', () => {
    const withHeaders = [
      {
        topic: 'dlq',
        messages: [1, 2, 3].map((i) => ({
          key: null,
          value: Buffer.alloc(100),
          headers: { reason: 'r'.repeat(400), id: String(i) },
        })),
      },
    ];
    expect(produceChunks(withHeaders, 1200)).toHaveLength(2);
  });
});
