import { RollupFrameWriter, encodeRollups, type RollupMessage } from '@tillwatch/stream';

/**
 * pos.rollups carries bundles: every partial, tick and local alert record that one commit group
 * sends to one rollups partition, in order, as one Kafka record. A source partition closes a
 * 5 s pane boundary every ~15 events of the bench's fleet, and each boundary sends a tick to
 * every rollups partition and a partial for every region, firmware and issuer it touched: as
 * single records that was ~0.9 Kafka records per event (275k for 300k events), each with its
 * own record overhead, produce and fetch work and parse. Bundled, it is a handful of records
 * per commit group.
 *
 * A bundle is a binary frame (@tillwatch/stream rollup-codec.ts, docs/contract.md §5): no JSON
 * text built per record nor parsed per bundle. Readers take the legacy JSON bundle
 * `{"k":"b","r":[...]}` too (bundleRollupsJson, older processors).
 *
 * Routing is unchanged: a partial goes to the partition its key "<scope>:<key>" hashes to with
 * kafkajs' default partitioner (murmur2, as the Java client and Kafka Streams' repartition
 * topics; partitionerFor in @tillwatch/stream), a tick to the partition it names. The record timestamp is the latest pane end in the
 * bundle: recovery seeks by timestamp for the first record at or after T, and every record
 * before that one then holds only panes ending before T, as with single records.
 */
export interface RollupOut {
  partition: number;
  value: Buffer;
  timestamp: string;
}

/** Bytes per bundle: well inside the broker's 1 MiB record batch (PRODUCE_REQUEST_BYTES). */
export const BUNDLE_BYTES = 256 * 1024;

/** one writer for the process: its buffer grows to the largest bundle once and stays */
const writer = new RollupFrameWriter(BUNDLE_BYTES + 64 * 1024);

/**
 * Messages bundled per target partition, in their order, each bundle a frame of at most `limit`
 * bytes (a single record larger than that goes alone). Bundles come out by partition, ascending.
 */
export function bundleRollups(
  messages: readonly RollupMessage[],
  route: (key: string) => number,
  limit = BUNDLE_BYTES,
): RollupOut[] {
  const out: RollupOut[] = [];
  for (const [partition, list] of byPartition(messages, route)) {
    writer.reset();
    let ts = Number.NEGATIVE_INFINITY;
    for (const m of list) {
      const mark = writer.bytes;
      writer.add(m.value);
      if (writer.bytes > limit && writer.records > 1) {
        out.push({ partition, value: writer.finish(mark), timestamp: String(ts) });
        writer.reset();
        writer.add(m.value);
        ts = m.timestamp;
      } else if (m.timestamp > ts) ts = m.timestamp;
    }
    out.push({ partition, value: writer.finish(), timestamp: String(ts) });
  }
  return out;
}

/**
 * The legacy form, `{"k":"b","r":[record, ...]}` cut at `limit` JSON bytes, as processors before
 * the binary frame wrote it: written with ROLLUPS_FORMAT=json (the first step of an upgrade from
 * a version that reads only JSON), and by the tests and the codec bench.
 */
export function bundleRollupsJson(
  messages: readonly RollupMessage[],
  route: (key: string) => number,
  limit = BUNDLE_BYTES,
): { partition: number; value: string; timestamp: string }[] {
  const open = new Map<number, { parts: string[]; bytes: number; ts: number }>();
  const out: { partition: number; value: string; timestamp: string }[] = [];
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

/** The messages of each target partition, in order; partitions ascending. */
function byPartition(
  messages: readonly RollupMessage[],
  route: (key: string) => number,
): [number, RollupMessage[]][] {
  const lists = new Map<number, RollupMessage[]>();
  for (const m of messages) {
    const partition = m.partition ?? route(m.key!);
    const list = lists.get(partition);
    if (list) list.push(m);
    else lists.set(partition, [m]);
  }
  return [...lists].sort((x, y) => x[0] - y[0]);
}

/** The bundler of a ROLLUPS_FORMAT (config.ts): binary frames, or the legacy JSON. */
export function bundlerFor(
  format: 'binary' | 'json',
): (
  messages: readonly RollupMessage[],
  route: (key: string) => number,
) => { partition: number; value: Buffer | string; timestamp: string }[] {
  return format === 'json'
    ? (m, route) => bundleRollupsJson(m, route)
    : (m, route) => bundleRollups(m, route);
}

/** An idle tick of source `src` (one of `n`) as one record of a ROLLUPS_FORMAT. */
export function idleTick(format: 'binary' | 'json', src: number, n: number): Buffer | string {
  const tick = { k: 't' as const, src, n, wm: 0, idle: true as const };
  return format === 'json' ? JSON.stringify(tick) : encodeRollups([tick]);
}
