import type { RollupMessage } from '@tillwatch/stream';

/**
 * pos.rollups carries bundles: every partial and tick that one commit group sends to one rollups
 * partition, in order, as one record `{"k":"b","r":[record, ...]}`. A source partition closes a
 * 5 s pane boundary every ~15 events of the bench's fleet, and each boundary sends a tick to
 * every rollups partition and a partial for every region, firmware and issuer it touched: as
 * single records that was ~0.9 Kafka records per event (275k for 300k events), each with its
 * own record overhead, produce and fetch work and JSON.parse. Bundled, it is a handful of records
 * per commit group.
 *
 * Routing is unchanged: a partial goes to the partition its key "<scope>:<key>" hashes to with
 * kafkajs' default partitioner (murmur2, as the Java client and Kafka Streams' repartition
 * topics; partitionerFor in @tillwatch/stream), a tick to the partition it names. The record timestamp is the latest pane end in the
 * bundle: recovery seeks by timestamp for the first record at or after T, and every record
 * before that one then holds only panes ending before T, as with single records.
 */
export interface RollupOut {
  partition: number;
  value: string;
  timestamp: string;
}

/** JSON bytes per bundle: well inside the broker's 1 MiB record batch (PRODUCE_REQUEST_BYTES). */
export const BUNDLE_BYTES = 256 * 1024;

/** Messages bundled per target partition, in their order, cut at `limit` JSON bytes. */
export function bundleRollups(
  messages: readonly RollupMessage[],
  route: (key: string) => number,
  limit = BUNDLE_BYTES,
): RollupOut[] {
  const open = new Map<number, { parts: string[]; bytes: number; ts: number }>();
  const out: RollupOut[] = [];
  const flush = (partition: number) => {
    const b = open.get(partition);
    if (!b) return;
    open.delete(partition);
    out.push({ partition, value: `{"k":"b","r":[${b.parts.join(',')}]}`, timestamp: String(b.ts) });
  };
  for (const m of messages) {
    const partition = m.partition ?? route(m.key!);
    const json = JSON.stringify(m.value);
    let b = open.get(partition);
    if (b && b.bytes + json.length > limit) {
      flush(partition);
      b = undefined;
    }
    if (!b) open.set(partition, (b = { parts: [], bytes: 16, ts: m.timestamp }));
    b.parts.push(json);
    b.bytes += json.length + 1;
    if (m.timestamp > b.ts) b.ts = m.timestamp;
  }
  for (const partition of [...open.keys()].sort((x, y) => x - y)) flush(partition);
  return out;
}
