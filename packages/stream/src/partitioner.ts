/**
 * key -> partition as Kafka's default partitioner places a keyed record: murmur2 of the key's
 * UTF-8 bytes, made positive, modulo the partition count (the Java client, kafkajs'
 * DefaultPartitioner and Kafka Streams' repartition topics all agree; partitioner.test.ts
 * holds it to kafkajs). pos.events is keyed by merchant, pos.rollups by "<scope>:<key>": the
 * local topology routes with this, so it puts every record where Kafka would.
 */
export function murmur2(data: Uint8Array): number {
  const M = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // the last 1-3 bytes (Kafka's switch falls through from case 3 to case 1)
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h;
}

const encoder = new TextEncoder();

/**
 * A partitioner for `partitions` partitions. Memoised: the stages send a partial per region,
 * firmware and issuer key at every 5 s boundary (murmur2 per message was 6% of the stages'
 * CPU), and those keys are few; merchants are a bounded set too.
 */
export function partitionerFor(partitions: number): (key: string) => number {
  if (!Number.isInteger(partitions) || partitions < 1)
    throw new Error(`partitions must be a positive integer, got ${partitions}`);
  const memo = new Map<string, number>();
  return (key) => {
    let p = memo.get(key);
    if (p === undefined) {
      p = (murmur2(encoder.encode(key)) & 0x7fffffff) % partitions;
      if (memo.size >= 65_536) memo.clear();
      memo.set(key, p);
    }
    return p;
  };
}
