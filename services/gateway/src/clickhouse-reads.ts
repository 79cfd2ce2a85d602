import {
  TABLES,
  ident,
  join,
  queryDrillDown,
  queryLatestRates,
  queryRateChanges,
  queryRateFreshness,
  querySeriesPoints,
  queryTopRates,
  summarizeDrillDown,
  sql,
  type ClickHouse,
  type DrillDownQuery,
  type StoredEvent,
} from '@tillwatch/clickhouse';
import { parseWindowLabel, type RateRow, type TerminalEvent } from '@tillwatch/contracts';
import { codeSummary } from './ledger';
import { regionAuthsFromWindows, rowRange, type RegionWindowsOptions } from './region-windows';
import type {
  DrillDown,
  RatesQuery,
  RawEventsQuery,
  RegionAuthCount,
  RegionAuthsQuery,
  SeriesPoint,
  SeriesQuery,
  TopQuery,
} from './store';

export interface ClickHouseReadsOptions {
  staleAfterMs: number;
  pollLookbackMs: number;
  versionOverlapMs: number;
  maxRowsPerPoll: number;
  seriesStepMs: number;
}

const MIX_SCOPES = new Set(['fleet', 'region', 'firmware', 'issuer']);

/**
 * The windows the processor writes region rows for and their smallest pane: @tillwatch/core's
 * DEFAULT_ENGINE_CONFIG (1m of 5 s panes, 5m of 10 s, 15m of 30 s, 1h of 2 min), which the
 * processor does not make configurable. Region traffic reads them (region-windows.ts).
 */
const REGION_WINDOW_LABELS = ['1m', '5m', '15m', '1h'] as const;
const REGION_WINDOWS: RegionWindowsOptions = {
  paneMs: 5_000,
  shortestMs: 60_000,
  lookbackMs: 3_600_000,
};

/** A chart has at most this many points, whatever its range. */
export const SERIES_MAX_POINTS = 1_000;

/** The step between a series' points: seriesStepMs, or wider so the range holds at most
 *  SERIES_MAX_POINTS (whole seconds). */
export function seriesStep(from: number, to: number, minStepMs: number): number {
  const wide = Math.ceil(Math.max(0, to - from) / SERIES_MAX_POINTS / 1000) * 1000;
  return Math.max(1000, minStepMs, wide);
}

/**
 * ClickHouseStore's reads of window_stats and events_raw (current rates, series, rankings,
 * drill-down) and its look for newly written rate rows. Every value passes
 * @tillwatch/clickhouse's helpers, which escape it after zod.
 */
export class ClickHouseReads {
  private lastVersion = 0;
  /** per scope/window/key the pane end and version last emitted, to skip re-reads */
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

  async currentRates(q: RatesQuery): Promise<RateRow[]> {
    const now = this.now();
    const fresh = await queryRateFreshness(
      this.ch,
      { ...(q.scope ? { scope: q.scope } : {}), ...(q.window ? { window: q.window } : {}) },
      now,
    );
    const limit = q.limit ?? 2000;
    const out: RateRow[] = [];
    for (const f of fresh) {
      if (out.length >= limit) break;
      // a merchant bound never matches rows that mix merchants: skip the query
      if (q.merchantId !== undefined && MIX_SCOPES.has(f.scope)) continue;
      const keys = keyFilter(f.scope, q.key, q.region);
      if (keys && keys.length === 0) continue;
      const rows = await queryLatestRates(
        this.ch,
        {
          scope: f.scope,
          window: f.window,
          since: Math.max(0, f.newest - this.o.staleAfterMs),
          ...(keys ? { keys } : {}),
          ...(q.merchantId !== undefined ? { merchantId: q.merchantId } : {}),
          ...(q.region !== undefined && f.scope !== 'region' ? { region: q.region } : {}),
          limit: Math.min(10_000, limit - out.length),
        },
        now,
      );
      out.push(...rows);
    }
    return out;
  }

  async series(q: SeriesQuery): Promise<SeriesPoint[] | undefined> {
    const now = this.now();
    const from = q.since ?? now - 3_600_000;
    const to = q.until ?? now;
    // the chart's columns only (querySeriesPoints): the rest of a row is not drawn
    const rows = await querySeriesPoints(this.ch, {
      scope: q.scope,
      key: q.key,
      window: q.window,
      from,
      to,
      ...(q.merchantId !== undefined ? { merchantId: q.merchantId } : {}),
      // one point per step in ClickHouse: a month of 1m panes is 518,400 rows, and the limit
      // would cut the range off after its first days
      stepMs: seriesStep(from, to, this.o.seriesStepMs),
      limit: 50_000,
    });
    if (rows.length === 0) return undefined;
    const out: SeriesPoint[] = [];
    let last = -Infinity;
    for (const r of rows) {
      const t = Date.parse(r.ts);
      if (t - last < this.o.seriesStepMs) continue;
      last = t;
      out.push(r);
    }
    return out;
  }

  async top(q: TopQuery): Promise<RateRow[]> {
    if (q.merchantId !== undefined && MIX_SCOPES.has(q.scope)) return [];
    const now = this.now();
    const [fresh] = await queryRateFreshness(this.ch, { scope: q.scope, window: q.window }, now);
    if (!fresh) return [];
    const keys = keyFilter(q.scope, undefined, q.region);
    if (keys && keys.length === 0) return [];
    const base = {
      scope: q.scope,
      window: q.window,
      since: Math.max(0, fresh.newest - this.o.staleAfterMs),
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
    // too (a silent terminal has none), as MemoryStore does
    const rows = (await queryLatestRates(this.ch, { ...base, limit: 10_000 }, now)).filter(
      (r) => r.auths >= q.minAuths || r.volumeRatio !== undefined,
    );
    const drop = (r: RateRow) => 1 - (r.volumeRatio ?? 1);
    return rows.sort((a, b) => drop(b) - drop(a) || b.auths - a.auths).slice(0, q.n);
  }

  /**
   * Auths per region and bucket from the region rows of window_stats (region-windows.ts: exact,
   * from the 1m/5m/15m/1h rows of the hour before each range and the range itself). The sorting
   * key (scope, window, key, ts_ms) skips every other scope; a region's rows of one window and
   * day fill one to three granules, so most of each day's region rows are read (README: Region
   * traffic). A range the rows do not determine for a region (rare: region-windows.ts says when)
   * is counted from events_raw for that region alone.
   */
  async regionAuths(q: RegionAuthsQuery): Promise<RegionAuthCount[]> {
    if (q.starts.length === 0) return [];
    const starts = q.starts.map((s) => Math.max(0, Math.floor(s)));
    const query = { starts, spanMs: Math.floor(q.spanMs), bucketMs: Math.floor(q.bucketMs) };
    const ranges = starts.map((s) => {
      const { from, to } = rowRange(s, query, REGION_WINDOWS);
      // ts is whole seconds: it prunes partitions and granules, ts_ms decides exactly
      return sql`(ts >= ${new Date(Math.floor(from / 1000) * 1000)} AND ts <= ${new Date(Math.ceil(to / 1000) * 1000)}
                 AND ts_ms >= ${from} AND ts_ms <= ${to})`;
    });
    const rows = await this.ch.query<{
      region: string;
      window: string;
      end: string;
      auths: string;
    }>(
      sql`SELECT key AS region, window, ts_ms AS end, argMax(auths, version) AS auths
          FROM ${ident(TABLES.rates)}
          WHERE scope = 'region' AND window IN (${join(
            REGION_WINDOW_LABELS.map((w) => sql`${w}`),
            ', ',
          )}) AND (${join(ranges, ' OR ')})
          GROUP BY key, window, ts_ms`,
    );
    const { counts, unresolved } = regionAuthsFromWindows(
      rows.map((r) => ({
        region: r.region,
        windowMs: parseWindowLabel(r.window),
        end: Number(r.end),
        auths: Number(r.auths),
      })),
      query,
      REGION_WINDOWS,
    );
    if (unresolved.length === 0) return counts;
    return [...counts, ...(await this.regionAuthsFromEvents(query, unresolved))];
  }

  /**
   * The last boundary the processor has written region rows for, when it is behind `now`: its
   * rollup stage closes a boundary once every source partition's watermark passed it (the
   * allowed lateness, 10 s, and more while a source is slow), so the newest minute may not be
   * in window_stats yet. Without a region row in the last 15 minutes nothing is awaited: `now`.
   */
  async regionTrafficUpTo(now: number): Promise<number> {
    const [row] = await this.ch.query<{ t: string; n: string }>(
      sql`SELECT max(ts_ms) AS t, count() AS n FROM ${ident(TABLES.rates)}
          WHERE scope = 'region' AND window = '1m'
            AND ts >= ${new Date(Math.floor((now - 900_000) / 1000) * 1000)}
            AND ts_ms <= ${Math.floor(now) + 60_000}`,
    );
    if (!row || Number(row.n) === 0) return now;
    return Math.min(now, Number(row.t));
  }

  /**
   * The exact count from events_raw for the ranges the region rows leave open, one region each
   * (uniqExact(event_id): ReplacingMergeTree may still hold a redelivered event twice). Each
   * range becomes a ts condition (partition pruning) and multiIf names the range an event falls
   * in; 18.16 has no window functions or query parameters, and needs neither here.
   */
  private async regionAuthsFromEvents(
    q: RegionAuthsQuery,
    ranges: readonly { region: string; start: number }[],
  ): Promise<RegionAuthCount[]> {
    const span = q.spanMs;
    const bucket = Math.max(1, q.bucketMs);
    const byStart = new Map<number, string[]>();
    for (const r of ranges) byStart.set(r.start, [...(byStart.get(r.start) ?? []), r.region]);
    const starts = [...byStart.keys()];
    const within = (s: number) => sql`(ts_ms >= ${s} AND ts_ms < ${s + span})`;
    // ts is whole seconds: floor the start, ceil the end; ts_ms decides exactly
    const coarse = starts.map(
      (s) =>
        sql`(ts >= ${new Date(Math.floor(s / 1000) * 1000)} AND ts < ${new Date(Math.ceil((s + span) / 1000) * 1000 + 1000)}
             AND region IN (${join(
               byStart.get(s)!.map((r) => sql`${r}`),
               ', ',
             )}))`,
    );
    const range = join(
      starts.map((s) => sql`${within(s)}, toUInt64(${s})`),
      ', ',
    );
    const rows = await this.ch.query<{
      region: string;
      start: string;
      bucket: string;
      auths: string;
    }>(
      sql`SELECT region, start, intDiv(ts_ms - start, ${bucket}) AS bucket, uniqExact(event_id) AS auths
          FROM (
            SELECT region, event_id, ts_ms, multiIf(${range}, toUInt64(0)) AS start
            FROM ${ident(TABLES.events)}
            WHERE type = 'auth' AND (${join(coarse, ' OR ')})
          )
          WHERE start != 0 AND ts_ms >= start
          GROUP BY region, start, bucket`,
    );
    const wanted = new Set(ranges.map((r) => `${r.start}\u0000${r.region}`));
    return rows
      .map((r) => ({
        region: r.region,
        start: Number(r.start),
        bucket: Number(r.bucket),
        auths: Number(r.auths),
      }))
      .filter((r) => wanted.has(`${r.start}\u0000${r.region}`));
  }

  async terminalOwner(terminalId: string): Promise<string | undefined> {
    const since = new Date(this.now() - 86_400_000);
    const [row] = await this.ch.query<{ m: string }>(
      sql`SELECT merchant_id AS m FROM ${ident(TABLES.rates)}
          WHERE scope = 'terminal' AND key = ${terminalId} AND ts >= ${since} AND merchant_id != ''
          ORDER BY ts_ms DESC LIMIT 1`,
    );
    if (row?.m) return row.m;
    const [ev] = await this.ch.query<{ m: string }>(
      sql`SELECT merchant_id AS m FROM ${ident(TABLES.events)}
          WHERE terminal_id = ${terminalId} AND ts >= ${since} ORDER BY ts_ms DESC LIMIT 1`,
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
   * Rows written since the last look, newer than what was returned before; capped at
   * maxRowsPerPoll. The caller must not run two at once.
   */
  async rateChanges(): Promise<RateRow[]> {
    const now = this.now();
    const since = now - this.o.pollLookbackMs;
    const changes = await queryRateChanges(this.ch, {
      since,
      afterVersion: Math.max(0, this.lastVersion - this.o.versionOverlapMs),
      limit: 100_000,
    });
    const fresh: RateRow[] = [];
    for (const c of changes) {
      const k = `${c.row.scope}\u0000${c.row.window}\u0000${c.row.key}`;
      const t = Date.parse(c.row.ts);
      const prev = this.sent.get(k);
      if (prev && (t < prev.ts || (t === prev.ts && c.version <= prev.version))) continue;
      this.sent.set(k, { ts: t, version: c.version });
      if (c.version > this.lastVersion) this.lastVersion = c.version;
      fresh.push(c.row);
    }
    for (const [k, v] of this.sent) if (v.ts < since) this.sent.delete(k);
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
