import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { partitionerFor } from './partitioner';

/** kafkajs' DefaultPartitioner (murmur2, as the Java client) for a keyed record. */
function kafkajs(partitions: number): (key: string) => number {
  const part = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({
    partitionId: i,
    leader: 0,
    replicas: [0],
    isr: [0],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));
  return (key) => part({ topic: 't', partitionMetadata, message: { key, value: '' } });
}

describe('partitionerFor', () => {
  it('puts every key where kafkajs (and the Java client) put it', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        (key, n) => {
          expect(partitionerFor(n)(key)).toBe(kafkajs(n)(key));
        },
      ),
      { numRuns: 2000 },
    );
    for (const key of ['MK1', 'M00023', 'region:CN-31', 'issuer:BOC', 'firmware:4.4.1', ''])
      for (const n of [1, 2, 3, 4, 5, 8, 12]) expect(partitionerFor(n)(key)).toBe(kafkajs(n)(key));
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionerFor(0)).toThrow(/positive integer/);
  });
});
