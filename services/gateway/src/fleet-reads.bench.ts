/**
 * `npm run bench:fleet -w @tillwatch/gateway`: the board's whole-scope reads and the live-rates
 * poll at fleet scale, against ClickHouse holding the pane counts of BENCH_TERMINALS terminals
 * (100,000 by default) for BENCH_HOURS hours (2) ending now. Prints tables; asserts nothing.
 *
 * What the board's live view asks the production gateway's store (ClickHouseStore, the code
 * it runs; no HTTP in the measure, the terminal page's bench has it): the regions' and the
 * fleet's current rates (every window), the worst 50 terminals and merchants by fault rate
 * (15 min and 1 h), and once a second the live-rates poll (pollRates: the keys with pane rows
 * written since the last look, then every window of those keys). The poll is timed after one
 * new pane's rows land, as the processor writes them (a terminal with a sale in it, its
 * merchant, every region, the fleet), and once at start (every key written in the last 5 min).
 * The reference: `SELECT 1` through the same client, in the same run.
 *
 * Data, made by ClickHouse itself (INSERT ... SELECT FROM numbers(), seconds for millions of
 * rows): 30 sales per terminal-hour, each in its own 5 s pane (one in each 2-minute stride, at
 * a pseudo-random pane of it), 1 in 20 declined by its issuer; 10 terminals per merchant, 30
 * regions; the merchants', regions' and fleet's pane rows are the sums of their terminals'
 * (GROUP BY), as the processor's stages write them. written_ms = pane end + 2 s. ClickHouse's
 * background merges are let finish (no OPTIMIZE) before the measure, at most 3 minutes.
 *
 * Env: BENCH_TERMINALS, BENCH_HOURS, BENCH_ROUNDS (20), BENCH_KEEP_DB=1. ClickHouse: CLICKHOUSE_URL
 * if set, else started for the run (@tillwatch/testkit) and stopped at the end.
 */
import {
  createClickHouse,
  ensureDatabase,
  ident,
  migrate,
  PANE_COUNTER_COLUMNS,
  PANE_COUNTS_COLUMNS,
  PANE_MS,
  raw,
  sql,
  TABLES,
  type ClickHouse,
  type PaneCounter,
} from '@tillwatch/clickhouse';
import { startServices } from '@tillwatch/testkit/services';
import { waitForMerges } from './bench-merges';
import { ClickHouseStore } from './clickhouse-store';
import type { RateScope } from './store';

const TERMINALS = Number(process.env['BENCH_TERMINALS'] ?? 100_000);
const HOURS = Number(process.env['BENCH_HOURS'] ?? 2);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 20);
const KEEP_DB = process.env['BENCH_KEEP_DB'] === '1';
const PER_MERCHANT = 10;
const REGIONS = 30;
/** sales per terminal-hour: one in each stride of 2 min (24 panes) */
const STRIDE_PANES = 24;
const SALES_PER_HOUR = 3_600_000 / (STRIDE_PANES * PANE_MS);
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

const ms1 = (x: number) => Math.round(x * 10) / 10;
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

/**
 * The terminals' pane rows of strides [from, from + strides) after `firstPaneMs` (a stride: 24
 * panes, a sale of each terminal in one of them). The same stride gives the same rows.
 */
function terminalRows(
  firstPaneMs: number,
  from: number,
  strides: number,
  writtenMs?: number,
): string {
  // n = stride * TERMINALS + terminal; the pane: the stride's start plus 0..23 by a hash
  const n = `number`;
  const t = `(${n} % ${TERMINALS})`;
  const pane = `(${firstPaneMs} + (intDiv(${n}, ${TERMINALS}) * ${STRIDE_PANES} + cityHash64(${n}) % ${STRIDE_PANES}) * ${PANE_MS})`;
  const declined = `(cityHash64(${n}, 7) % 20 = 0)`;
  return `SELECT 'terminal' AS scope, concat('T', toString(${t})) AS key, toUInt64(${pane}) AS pane_ms,
      toDateTime(intDiv(pane_ms, 1000), 'UTC') AS ts,
      concat('M', toString(intDiv(${t}, ${PER_MERCHANT}))) AS merchant_id,
      concat('R', toString(intDiv(${t}, ${PER_MERCHANT}) % ${REGIONS})) AS region,
      ${counters({ auths: '1', approved: `NOT ${declined}`, cat_issuer: declined })},
      toUInt64(${writtenMs ?? `pane_ms + ${PANE_MS + 2000}`}) AS written_ms
    FROM numbers(${from * TERMINALS}, ${strides * TERMINALS})`;
}

/** pane_counts' counters in table order, as a SELECT's list: those given, the others 0. */
function counters(values: Partial<Record<PaneCounter, string>>): string {
  return PANE_COUNTER_COLUMNS.map((c) => `toUInt32(${values[c] ?? '0'}) AS ${c}`).join(', ');
}

// (no aliases: an alias named as the column it sums would be read inside its own aggregate;
// INSERT ... SELECT maps columns by position)
const sums = PANE_COUNTER_COLUMNS.map((c) => `toUInt32(sum(${c}))`).join(', ');
const tsOf = `toDateTime(intDiv(pane_ms, 1000), 'UTC')`;

/** Merchants', regions' and the fleet's rows: their terminals' summed per pane. */
function rollupRows(terminals: string): string[] {
  return [
    `SELECT 'merchant', merchant_id, pane_ms, ${tsOf}, merchant_id, '', ${sums}, max(written_ms)
       FROM (${terminals}) GROUP BY merchant_id, pane_ms`,
    `SELECT 'region', region, pane_ms, ${tsOf}, '', region, ${sums}, max(written_ms)
       FROM (${terminals}) GROUP BY region, pane_ms`,
    `SELECT 'fleet', '*', pane_ms, ${tsOf}, '', '', ${sums}, max(written_ms)
       FROM (${terminals}) GROUP BY pane_ms`,
  ];
}

/** pane_counts' columns in table order: the SELECTs above give them in this order. */
const COLUMNS = PANE_COUNTS_COLUMNS.map(([c]) => c).join(', ');

async function insert(ch: ClickHouse, select: string): Promise<void> {
  await ch.command(sql`INSERT INTO ${ident(TABLES.panes)} (${raw(COLUMNS)}) ${raw(select)}`);
}

async function main(): Promise<void> {
  const services = await startServices({ need: ['clickhouse'], log });
  const database = `tw_bench_fleet_${Date.now().toString(36)}`;
  let ch: ClickHouse | undefined;
  let store: ClickHouseStore | undefined;
  try {
    const u = new URL(services.env.CLICKHOUSE_URL!);
    await ensureDatabase({ url: u.toString() }, database);
    u.pathname = `/${database}`;
    ch = createClickHouse({ url: u.toString(), requestTimeoutMs: 600_000 });
    await migrate(ch);
    const [ver] = await ch.query<{ v: string }>(sql`SELECT version() AS v`);

    // ---- the fill: HOURS of strides ending at the last whole stride before now -------------
    const strideMs = STRIDE_PANES * PANE_MS;
    const strides = Math.round((HOURS * 3_600_000) / strideMs);
    const end = Math.floor(Date.now() / strideMs) * strideMs;
    const first = end - strides * strideMs;
    log(
      `ClickHouse ${ver?.v}, database ${database}: filling ${TERMINALS.toLocaleString()} terminals x ${HOURS} h...`,
    );
    const fill = await timed(async () => {
      // a stride at a time for the rollups' GROUP BY (bounded memory), the terminals at once
      await insert(ch!, terminalRows(first, 0, strides));
      for (let s = 0; s < strides; s += 6) {
        const n = Math.min(6, strides - s);
        for (const q of rollupRows(terminalRows(first, s, n))) await insert(ch!, q);
      }
    });
    const merged = await waitForMerges(ch, database);
    const counts = await ch.query<{ scope: string; rows: string; keys: string }>(
      sql`SELECT scope, count() AS rows, uniqExact(key) AS keys FROM ${ident(TABLES.panes)} GROUP BY scope ORDER BY scope`,
    );
    const [parts] = await ch.query<{ parts: string; MB: string }>(
      sql`SELECT count() AS parts, round(sum(bytes_on_disk) / 1e6, 1) AS MB FROM system.parts
          WHERE database = ${database} AND table = ${TABLES.panes} AND active`,
    );
    console.log(
      `\nPane counts of ${TERMINALS.toLocaleString()} terminals (${SALES_PER_HOUR} sales per terminal-hour, ${PER_MERCHANT} per merchant, ${REGIONS} regions) over ${HOURS} h ending ${new Date(end).toISOString()}: filled in ${ms1(fill.ms / 1000)} s, merges done ${ms1(merged / 1000)} s later; ${parts?.parts} active parts, ${parts?.MB} MB (ClickHouse ${ver?.v})`,
    );
    console.table(
      counts.map((c) => ({ scope: c.scope, rows: Number(c.rows), keys: Number(c.keys) })),
    );

    store = await ClickHouseStore.open({ ch, ratesPollMs: 0, silencesRefreshMs: 0 });
    const s = store;
    const cases: { name: string; run: () => Promise<number> }[] = [
      {
        name: 'reference: SELECT 1',
        run: async () => (await ch!.query(sql`SELECT 1 AS x`)).length,
      },
      ...(['region', 'fleet'] as RateScope[]).map((scope) => ({
        name: `current rates: ${scope === 'fleet' ? 'the fleet' : `every ${scope}`}, 1m/5m/15m/1h`,
        run: async () => (await s.currentRates({ scope })).length,
      })),
      ...(['terminal', 'merchant'] as RateScope[]).flatMap((scope) =>
        ['15m', '1h'].map((window) => ({
          name: `worst 50 ${scope}s by fault rate, ${window}`,
          run: async () =>
            (await s.top({ scope, window, metric: 'faultRate', n: 50, minAuths: 5 })).length,
        })),
      ),
    ];
    const table = [];
    let refP50 = 0;
    for (const c of cases) {
      log(c.name);
      const xs: number[] = [];
      let rows = 0;
      try {
        for (let i = 0; i < 2; i++) await c.run();
        for (let i = 0; i < ROUNDS; i++) {
          const r = await timed(c.run);
          xs.push(r.ms);
          rows = r.value;
        }
      } catch (e) {
        // a read that fails at this size is a result: printed, not hidden
        table.push({
          read: c.name,
          rows: 0,
          'p50 ms': Number.NaN,
          'p95 ms': Number.NaN,
          'p50 / ref': Number.NaN,
        });
        console.log(`${c.name}: failed: ${(e as Error).message.slice(0, 300)}`);
        continue;
      }
      const p50 = quantile(xs, 0.5);
      if (table.length === 0) refP50 = p50;
      table.push({
        read: c.name,
        rows,
        'p50 ms': ms1(p50),
        'p95 ms': ms1(quantile(xs, 0.95)),
        'p50 / ref': Math.round((p50 / refP50) * 10) / 10,
      });
    }

    // ---- the live-rates poll -----------------------------------------------------------------
    const firstPoll = await timed(() => s.pollRates());
    const polls: { ms: number; rows: number; written: number }[] = [];
    for (let i = 0; i < Math.min(ROUNDS, 10); i++) {
      // one new pane after the newest: its terminals (those whose stride picks it), their
      // merchants, the regions and the fleet, written now
      const pane = end + i * PANE_MS;
      const newRows = `SELECT * FROM (${terminalRows(pane, 0, 1, Date.now())}) WHERE pane_ms = ${pane}`;
      const before = await ch.query<{ n: string }>(
        sql`SELECT count() AS n FROM ${ident(TABLES.panes)}`,
      );
      await insert(ch, newRows);
      for (const q of rollupRows(newRows)) await insert(ch, q);
      const after = await ch.query<{ n: string }>(
        sql`SELECT count() AS n FROM ${ident(TABLES.panes)}`,
      );
      const r = await timed(() => s.pollRates());
      polls.push({ ms: r.ms, rows: r.value, written: Number(after[0]!.n) - Number(before[0]!.n) });
    }
    const pollMs = polls.map((p) => p.ms);
    table.push({
      read: `live-rates poll at start (every key written in the last 5 min)`,
      rows: firstPoll.value,
      'p50 ms': ms1(firstPoll.ms),
      'p95 ms': ms1(firstPoll.ms),
      'p50 / ref': Math.round((firstPoll.ms / refP50) * 10) / 10,
    });
    table.push({
      read: `live-rates poll after one pane's rows (${Math.round(
        quantile(
          polls.map((p) => p.written),
          0.5,
        ),
      ).toLocaleString()} rows written)`,
      rows: Math.round(
        quantile(
          polls.map((p) => p.rows),
          0.5,
        ),
      ),
      'p50 ms': ms1(quantile(pollMs, 0.5)),
      'p95 ms': ms1(quantile(pollMs, 0.95)),
      'p50 / ref': Math.round((quantile(pollMs, 0.5) / refP50) * 10) / 10,
    });
    console.log(
      `\nThe board's reads through the production gateway's store (ClickHouseStore), ${ROUNDS} rounds each after 2 warm-up (the poll: ${polls.length} panes); the reference is SELECT 1 through the same client. A poll emits at most 5,000 rows (maxRowsPerPoll): the rest waits for the next.`,
    );
    console.table(table);
  } finally {
    await store?.close().catch(() => {});
    await ch?.close().catch(() => {});
    if (!KEEP_DB && services.env.CLICKHOUSE_URL) {
      const admin = createClickHouse({ url: services.env.CLICKHOUSE_URL, database: 'default' });
      await admin.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`).catch(() => {});
      await admin.close();
    }
    await services.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
