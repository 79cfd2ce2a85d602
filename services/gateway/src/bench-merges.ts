import { sql, type ClickHouse } from '@tillwatch/clickhouse';

/**
 * For the benches that fill ClickHouse in bulk (entity-page.bench.ts, fleet-reads.bench.ts):
 * a bulk fill leaves merges behind that steady writes would have finished long ago; wait until
 * ClickHouse's own background merges of `database` are done (no OPTIMIZE), at most `maxMs`.
 * Returns the milliseconds waited.
 */
export async function waitForMerges(
  ch: ClickHouse,
  database: string,
  maxMs = 180_000,
): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const [m] = await ch.query<{ n: number }>(
      sql`SELECT count() AS n FROM system.merges WHERE database = ${database}`,
    );
    if (Number(m?.n ?? 0) === 0 || performance.now() - t0 > maxMs) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return performance.now() - t0;
}
