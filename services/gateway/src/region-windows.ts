import type { RegionAuthCount, RegionAuthsQuery } from './store';

/**
 * Region auths per bucket from the region pane rows the processor writes to pane_counts.
 *
 * A region pane row holds the region's auths in one 5 s pane; a pane without a row had none.
 * ClickHouse sums the panes per region and chunk, a chunk being the gcd of the bucket length
 * and the range starts (@tillwatch/clickhouse regionChunkMs: a whole number of panes), so every
 * chunk lies in one bucket of at most one range and the buckets are exact sums of chunks.
 */
export interface RegionChunk {
  region: string;
  /** the chunk's start (ms) */
  from: number;
  auths: number;
}

/** The chunks' auths per region, range and bucket; chunks outside every range are ignored. */
export function regionAuthsFromChunks(
  chunks: readonly RegionChunk[],
  q: RegionAuthsQuery,
): RegionAuthCount[] {
  if (q.spanMs % q.bucketMs !== 0) {
    throw new Error('region auths: the buckets divide the span');
  }
  const counts = new Map<string, RegionAuthCount>();
  // a handful of ranges (a day's hour and the same hour of the days before): each chunk is
  // looked up in each, so ranges that overlap each get it
  for (const c of chunks) {
    for (const start of q.starts) {
      if (c.from < start || c.from >= start + q.spanMs) continue;
      const bucket = Math.floor((c.from - start) / q.bucketMs);
      const k = `${c.region}\u0000${start}\u0000${bucket}`;
      const n = counts.get(k);
      if (n) n.auths += c.auths;
      else counts.set(k, { region: c.region, start, bucket, auths: c.auths });
    }
  }
  return [...counts.values()]
    .filter((c) => c.auths !== 0)
    .sort(
      (a, b) =>
        (a.region < b.region ? -1 : a.region > b.region ? 1 : 0) ||
        a.start - b.start ||
        a.bucket - b.bucket,
    );
}
