import {
  TABLES,
  ident,
  join,
  queryDrillDown,
  queryLatestRates,
  queryRateChanges,
  queryRateFreshness,
  querySeries,
  queryTopRates,
  summarizeDrillDown,
  sql,
  type ClickHouse,
  type DrillDownQuery,
  type StoredEvent,
} from '@tillwatch/clickhouse';
import type { RateRow, TerminalEvent } from '@tillwatch/contracts';
import { codeSummary } from './ledger';
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
    const rows = await querySeries(this.ch, {
      scope: q.scope,
      key: q.key,
      window: q.window,
      from: q.since ?? now - 3_600_000,
      to: q.until ?? now,
      ...(q.merchantId !== undefined ? { merchantId: q.merchantId } : {}),
      limit: 50_000,
    });
    if (rows.length === 0) return undefined;
    const out: SeriesPoint[] = [];
    let last = -Infinity;
    for (const r of rows) {
      const t = Date.parse(r.ts);
      if (t - last < this.o.seriesStepMs) continue;
      last = t;
      out.push({
        ts: r.ts,
        auths: r.auths,
        failureRate: r.failureRate,
        faultRate: r.faultRate,
        reversalRate: r.reversalRate,
        noSettlementRate: r.noSettlementRate,
        volumeRatio: r.volumeRatio ?? null,
      });
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
   * Auths per region and bucket from events_raw (exact, whatever windows the processor runs;
   * uniqExact(event_id) as ReplacingMergeTree may still hold a redelivered event twice). Each
   * range becomes a ts condition (partition pruning: 8 one-hour ranges touch 8 day partitions)
   * and multiIf names the range an event falls in; 18.16 has no window functions or query
   * parameters, and needs neither here.
   */
  async regionAuths(q: RegionAuthsQuery): Promise<RegionAuthCount[]> {
    if (q.starts.length === 0) return [];
    const span = Math.floor(q.spanMs);
    const bucket = Math.max(1, Math.floor(q.bucketMs));
    const starts = q.starts.map((s) => Math.max(0, Math.floor(s)));
    const within = (s: number) => sql`(ts_ms >= ${s} AND ts_ms < ${s + span})`;
    // ts is whole seconds: floor the start, ceil the end; ts_ms decides exactly
    const coarse = starts.map(
      (s) =>
        sql`(ts >= ${new Date(Math.floor(s / 1000) * 1000)} AND ts < ${new Date(Math.ceil((s + span) / 1000) * 1000 + 1000)})`,
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
    return rows.map((r) => ({
      region: r.region,
      start: Number(r.start),
      bucket: Number(r.bucket),
      auths: Number(r.auths),
    }));
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
