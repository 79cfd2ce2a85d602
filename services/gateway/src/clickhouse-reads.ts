import {
  PANE_MS,
  TABLES,
  ident,
  paneWindowMs,
  queryDrillDown,
  queryLatestRates,
  queryRateChanges,
  queryRateFreshness,
  queryRegionAuthChunks,
  queryRegionPanesUpTo,
  querySeriesPoints,
  queryTerminalMerchant,
  queryTopRates,
  queryWindowRates,
  summarizeDrillDown,
  sql,
  type ClickHouse,
  type DrillDownQuery,
  type StoredEvent,
} from '@tillwatch/clickhouse';
import type { RateRow, TerminalEvent } from '@tillwatch/contracts';
import { codeSummary } from './ledger';
import { regionAuthsFromChunks } from './region-windows';
import type {
  DrillDown,
  RateScope,
  RatesQuery,
  RawEventsQuery,
  RegionAuthCount,
  RegionAuthsQuery,
  SeriesPoint,
  SeriesQuery,
  TopQuery,
} from './store';

export interface ClickHouseReadsOptions {
  pollLookbackMs: number;
  versionOverlapMs: number;
  maxRowsPerPoll: number;
  seriesStepMs: number;
}

const MIX_SCOPES = new Set(['fleet', 'region', 'firmware', 'issuer']);

/**
 * The windows the gateway serves from the pane counts when none is asked for, and pushes live:
 * the processor's (@tillwatch/core's DEFAULT_ENGINE_CONFIG: 1m, 5m, 15m, 1h), the ones the
 * board offers. Any other window of whole panes up to a day is summed when asked for by name.
 */
export const RATE_WINDOWS: readonly string[] = ['1m', '5m', '15m', '1h'];

/**
 * Key text per live-rates read: the names are in the query text, up to twice (a read that
 * deduplicates some keys lists the rest apart), and max_query_size is 256 KiB. Every read scans
 * the keys' hour of panes, which at fleet scale is most of the hour whatever the keys: 500 keys
 * a read made one pane's 7,893 changed keys 16 reads, 1.7 s (fleet-reads.bench.ts).
 */
const KEY_BYTES_PER_READ = 64 * 1024;

/** `keys` in runs of at most KEY_BYTES_PER_READ of names (each quoted and separated: +4). */
export function byKeyBytes<T extends { key: string }>(keys: readonly T[]): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  let bytes = 0;
  for (const k of keys) {
    const b = Buffer.byteLength(k.key) + 4;
    if (run.length > 0 && bytes + b > KEY_BYTES_PER_READ) {
      out.push(run);
      run = [];
      bytes = 0;
    }
    run.push(k);
    bytes += b;
  }
  if (run.length > 0) out.push(run);
  return out;
}

/** A chart has at most this many points, whatever its range. */
export const SERIES_MAX_POINTS = 1_000;

/**
 * The step between a series' points: seriesStepMs, or wider so the range holds at most
 * SERIES_MAX_POINTS; whole panes (a window ends on a pane boundary). Shorter than the window, it
 * is widened to the next step that divides the window: the series is summed from buckets of
 * gcd(step, window), and a step that divides the window keeps those buckets one per point.
 */
export function seriesStep(from: number, to: number, minStepMs: number, windowMs = 0): number {
  const wide = Math.ceil(Math.max(0, to - from) / SERIES_MAX_POINTS / 1000) * 1000;
  let step = Math.ceil(Math.max(1000, minStepMs, wide) / PANE_MS) * PANE_MS;
  if (windowMs > step && windowMs % PANE_MS === 0) {
    while (windowMs % step !== 0) step += PANE_MS;
  }
  return step;
}

/**
 * ClickHouseStore's reads of pane_counts and events_raw (current rates, series, rankings,
 * region traffic, drill-down) and its look for newly written panes. A window is summed from
 * its panes (@tillwatch/clickhouse queries-rates.ts); every value passes
 * @tillwatch/clickhouse's helpers, which escape it after zod.
 */
export class ClickHouseReads {
  /** the newest written_ms seen by the live-rates poll */
  private lastWritten = 0;
  /** per scope/key, the newest written_ms its windows were last read with */
  private readonly computed = new Map<string, number>();
  /** per scope/window/key the window end and written_ms last emitted, to skip re-reads */
  private readonly sent = new Map<string, { ts: number; version: number }>();

  constructor(
    private readonly ch: ClickHouse,
    private readonly o: ClickHouseReadsOptions,
    private readonly now: () => number,
  ) {}

  /** keys whose rows were emitted recently */
  get tracked(): number {
    return this.sent.size;
  }

  /**
   * Per scope, its windows ending at the scope's newest pane end, summed per key: a key without
   * a pane in the window is not there.
   */
  async currentRates(q: RatesQuery): Promise<RateRow[]> {
    const now = this.now();
    const fresh = await queryRateFreshness(this.ch, q.scope ? { scope: q.scope } : {}, now);
    const windows = q.window !== undefined ? [q.window] : RATE_WINDOWS;
    const limit = q.limit ?? 2000;
    const out: RateRow[] = [];
    for (const f of fresh) {
      // a merchant bound never matches rows that mix merchants: skip the query
      if (q.merchantId !== undefined && MIX_SCOPES.has(f.scope)) continue;
      const keys = keyFilter(f.scope, q.key, q.region);
      if (keys && keys.length === 0) continue;
      for (const window of windows) {
        if (out.length >= limit) return out;
        const rows = await queryLatestRates(
          this.ch,
          {
            scope: f.scope,
            window,
            end: f.newest,
            ...(keys ? { keys } : {}),
            ...(q.merchantId !== undefined ? { merchantId: q.merchantId } : {}),
            ...(q.region !== undefined && f.scope !== 'region' ? { region: q.region } : {}),
            limit: Math.min(10_000, limit - out.length),
          },
          now,
        );
        out.push(...rows);
      }
    }
    return out;
  }

  /**
   * The key's window at every step boundary of the range (a chart), up to its scope's newest
   * pane end: a later end would hold panes the processor has not closed yet and dip.
   */
  async series(q: SeriesQuery): Promise<SeriesPoint[] | undefined> {
    const now = this.now();
    const windowMs = paneWindowMs(q.window);
    if (windowMs === undefined) return undefined;
    const from = q.since ?? now - 3_600_000;
    let to = q.until ?? now;
    const [fresh] = await queryRateFreshness(this.ch, { scope: q.scope }, now);
    if (fresh && fresh.newest < to) to = fresh.newest;
    const rows = await querySeriesPoints(this.ch, {
      scope: q.scope,
      key: q.key,
      window: q.window,
      from: Math.max(0, from),
      to: Math.max(0, to),
      ...(q.merchantId !== undefined ? { merchantId: q.merchantId } : {}),
      stepMs: seriesStep(from, to, this.o.seriesStepMs, windowMs),
      limit: 50_000,
    });
    return rows.length === 0 ? undefined : rows;
  }

  async top(q: TopQuery): Promise<RateRow[]> {
    if (q.merchantId !== undefined && MIX_SCOPES.has(q.scope)) return [];
    const now = this.now();
    const [fresh] = await queryRateFreshness(this.ch, { scope: q.scope }, now);
    if (!fresh) return [];
    const keys = keyFilter(q.scope, undefined, q.region);
    if (keys && keys.length === 0) return [];
    const base = {
      scope: q.scope,
      window: q.window,
      end: fresh.newest,
      ...(keys ? { keys } : {}),
      ...(q.merchantId !== undefined ? { merchantId: q.merchantId } : {}),
      ...(q.region !== undefined && q.scope !== 'region' ? { region: q.region } : {}),
    };
    if (q.metric !== 'volumeDrop') {
      return queryTopRates(
        this.ch,
        { ...base, metric: q.metric, minAuths: q.minAuths, limit: q.n },
        now,
      );
    }
    // the helper ranks columns; a drop is 1 - volumeRatio and ranks rows without enough auths
    // too (a silent terminal has none), as MemoryStore does. Pane counts carry no volume
    // baseline, so here every drop is 0 and the busiest keys come first.
    const rows = (await queryLatestRates(this.ch, { ...base, limit: 10_000 }, now)).filter(
      (r) => r.auths >= q.minAuths || r.volumeRatio !== undefined,
    );
    const drop = (r: RateRow) => 1 - (r.volumeRatio ?? 1);
    return rows.sort((a, b) => drop(b) - drop(a) || b.auths - a.auths).slice(0, q.n);
  }

  /**
   * Auths per region and bucket: the region panes' auths summed per chunk in ClickHouse (each
   * pane once), the chunks put in their buckets here (region-windows.ts). Exact: a pane is 5 s
   * and lies in one bucket; a pane without a row had no auths.
   */
  async regionAuths(q: RegionAuthsQuery): Promise<RegionAuthCount[]> {
    if (q.starts.length === 0) return [];
    const query = {
      starts: q.starts.map((s) => Math.max(0, Math.floor(s))),
      spanMs: Math.floor(q.spanMs),
      bucketMs: Math.floor(q.bucketMs),
    };
    return regionAuthsFromChunks(await queryRegionAuthChunks(this.ch, query), query);
  }

  /**
   * The end of the newest region pane written, when it is behind `now`: the processor writes a
   * pane once every source partition's watermark passed it (the allowed lateness, 10 s, and
   * more while a source is slow), so the newest minute may not be in pane_counts yet. Without
   * a region pane in the last 15 minutes nothing is awaited: `now`.
   */
  async regionTrafficUpTo(now: number): Promise<number> {
    const t = await queryRegionPanesUpTo(this.ch, now);
    return t === undefined ? now : Math.min(now, t);
  }

  async terminalOwner(terminalId: string): Promise<string | undefined> {
    const since = this.now() - 86_400_000;
    const m = await queryTerminalMerchant(this.ch, terminalId, since);
    if (m) return m;
    const [ev] = await this.ch.query<{ m: string }>(
      sql`SELECT merchant_id AS m FROM ${ident(TABLES.events)}
          WHERE terminal_id = ${terminalId} AND ts >= ${new Date(since)} ORDER BY ts_ms DESC LIMIT 1`,
    );
    return ev?.m || undefined;
  }

  async rawEvents(q: RawEventsQuery): Promise<DrillDown> {
    const now = this.now();
    const filter: Omit<DrillDownQuery, 'limit' | 'order'> = {
      from: Math.max(0, Math.floor(q.since ?? now - 3_600_000)),
      // a minute past now: terminal clocks run ahead of ours by a few seconds
      to: Math.max(0, Math.floor(q.until ?? now + 60_000)),
      ...(q.terminalId !== undefined ? { terminalId: q.terminalId } : {}),
      ...(q.merchantId !== undefined ? { merchantId: q.merchantId } : {}),
      ...(q.region !== undefined ? { region: q.region } : {}),
      ...(q.firmware !== undefined ? { firmware: q.firmware } : {}),
      ...(q.issuerId !== undefined ? { issuerId: q.issuerId } : {}),
      ...(q.txnIds !== undefined ? { txnIds: [...q.txnIds] } : {}),
      ...(q.responseCode !== undefined ? { responseCodes: [q.responseCode] } : {}),
      ...(q.category !== undefined ? { categories: [q.category] } : {}),
      ...(q.type !== undefined ? { types: [q.type] } : {}),
      ...(q.cardFingerprint !== undefined ? { cardFingerprint: q.cardFingerprint } : {}),
      ...(q.minAmount !== undefined ? { minAmount: q.minAmount } : {}),
      ...(q.maxAmount !== undefined ? { maxAmount: q.maxAmount } : {}),
    };
    if (filter.to < filter.from) return { events: [], responseCodes: [], matched: 0 };
    const [events, summary] = await Promise.all([
      queryDrillDown(this.ch, { ...filter, order: 'desc', limit: Math.min(q.limit, 10_000) }),
      summarizeDrillDown(this.ch, filter),
    ]);
    return {
      events: events.map(toTerminalEvent),
      responseCodes: codeSummary(Object.entries(summary.byCode)),
      matched: summary.total,
      ...(summary.from !== undefined ? { from: new Date(summary.from).toISOString() } : {}),
      ...(summary.to !== undefined ? { to: new Date(summary.to).toISOString() } : {}),
    };
  }

  /**
   * Live rates: the keys that got pane rows written since the last look (written_ms, the
   * writer's clock, newer than the last seen less versionOverlapMs: a writer's batch lands a
   * while after its rows got their clock), then every served window of those keys ending at
   * their scope's newest pane end. A window already emitted for the same end and writes is not
   * again; capped at maxRowsPerPoll. The caller must not run two at once.
   */
  async rateChanges(): Promise<RateRow[]> {
    const now = this.now();
    const since = Math.max(0, now - this.o.pollLookbackMs);
    const changes = await queryRateChanges(this.ch, {
      since,
      afterWritten: Math.max(0, this.lastWritten - this.o.versionOverlapMs),
      limit: 100_000,
    });
    let newest = this.lastWritten;
    const byScope = new Map<RateScope, { key: string; written: number }[]>();
    for (const c of changes) {
      newest = Math.max(newest, c.written);
      // read again only a key with a pane written after the ones its windows were read with
      if ((this.computed.get(`${c.scope}\u0000${c.key}`) ?? -1) >= c.written) continue;
      let list = byScope.get(c.scope);
      if (!list) byScope.set(c.scope, (list = []));
      list.push(c);
    }
    const fresh: RateRow[] = [];
    if (byScope.size > 0) {
      const ends = new Map(
        (await queryRateFreshness(this.ch, {}, now)).map((f) => [f.scope, f.newest]),
      );
      for (const [scope, keys] of byScope) {
        const end = ends.get(scope);
        if (end === undefined) continue;
        for (const part of byKeyBytes(keys)) {
          const rows = await queryWindowRates(this.ch, {
            scope,
            end,
            windows: [...RATE_WINDOWS],
            keys: part.map((k) => k.key),
          });
          for (const { row, written } of rows) {
            const k = `${row.scope}\u0000${row.window}\u0000${row.key}`;
            const prev = this.sent.get(k);
            if (prev && (end < prev.ts || (end === prev.ts && written <= prev.version))) continue;
            this.sent.set(k, { ts: end, version: written });
            fresh.push(row);
          }
          for (const c of part) this.computed.set(`${scope}\u0000${c.key}`, c.written);
        }
      }
    }
    this.lastWritten = newest;
    for (const [k, v] of this.sent) if (v.ts < since) this.sent.delete(k);
    for (const [k, w] of this.computed) if (w < since) this.computed.delete(k);
    return capRows(fresh, this.o.maxRowsPerPoll);
  }
}

/**
 * Which keys to ask for: one key, or for the region scope a region filter means that region's
 * own row (region rows may not carry a region column). [] = nothing can match.
 */
function keyFilter(
  scope: string,
  key: string | undefined,
  region: string | undefined,
): string[] | undefined {
  if (scope === 'region' && region !== undefined) {
    return key === undefined || key === region ? [region] : [];
  }
  return key !== undefined ? [key] : undefined;
}

/** Rows that mix merchants first (few, and what SREs watch), then the worst fault rates. */
function capRows(rows: RateRow[], max: number): RateRow[] {
  if (rows.length <= max) return rows;
  const mixed = rows.filter((r) => MIX_SCOPES.has(r.scope));
  const own = rows
    .filter((r) => !MIX_SCOPES.has(r.scope))
    .sort((a, b) => b.faultRate - a.faultRate || b.auths - a.auths);
  return [...mixed, ...own].slice(0, max);
}

/** The event as it arrived (raw), else rebuilt from the columns. */
function toTerminalEvent(e: StoredEvent): TerminalEvent {
  try {
    const parsed = JSON.parse(e.raw) as TerminalEvent;
    if (parsed && typeof parsed === 'object' && parsed.eventId === e.eventId) return parsed;
  } catch {
    // fall through: a raw column that is not the event's JSON
  }
  return {
    type: e.type,
    eventId: e.eventId,
    ts: e.ts,
    terminalId: e.terminalId,
    merchantId: e.merchantId,
    region: e.region,
    ...(e.txnId ? { txnId: e.txnId } : {}),
    ...(e.responseCode ? { responseCode: e.responseCode } : {}),
    ...(e.amount !== null ? { amount: e.amount } : {}),
    ...(e.currency ? { currency: e.currency } : {}),
  } as unknown as TerminalEvent;
}
