import { randomUUID } from 'node:crypto';
import {
  silenceInForce,
  type Alert,
  type RateRow,
  type RuleVerdictCounts,
  type TerminalEvent,
} from '@tillwatch/contracts';
import { CircularBuffer } from 'mnemonist';
import {
  actionFromInput,
  applySilences,
  newRecord,
  newestFirst,
  parseAlert,
  recordAction,
  recordTransition,
  transitionOf,
} from './ledger';
import { EventRing } from './memory-events';
import { RegionMinutes } from './memory-traffic';
import {
  alertOwnedBy,
  silenceMatches,
  type AlertActionInput,
  type AlertFilter,
  type AlertRecord,
  type DrillDown,
  type GatewayStore,
  type MerchantBound,
  type RateScope,
  type RatesQuery,
  type RawEventsQuery,
  type RegionAuthCount,
  type RegionAuthsQuery,
  type SeriesPoint,
  type SeriesQuery,
  type Silence,
  type SilenceInput,
  type StoreEvent,
  type TopQuery,
  type VerdictQuery,
} from './store';

export interface MemoryStoreOptions {
  /** raw events kept in total; 300k × ~400 B ≈ 120 MB worst case, 5 min at 1,000 events/s */
  maxEvents?: number;
  /** raw events kept per terminal, so a quiet terminal's history survives a busy fleet */
  eventsPerTerminal?: number;
  /** raw events older than this (event time, against the newest seen) are dropped: 1 h */
  eventRetentionMs?: number;
  /** a current-rate row not refreshed for this long (event time) is stale and hidden: 15 s */
  staleAfterMs?: number;
  /** series kept (scope × key × window), least recently updated evicted first */
  maxSeries?: number;
  /** points per series and their spacing: 360 × 10 s = 1 h */
  seriesPoints?: number;
  seriesStepMs?: number;
  /** alert records kept; resolved ones are evicted first */
  maxAlerts?: number;
  /** audit entries kept per alert (a chatty episode must not grow without bound) */
  maxAuditPerAlert?: number;
  /** wall clock, injectable for tests */
  now?: () => number;
}

interface SeriesSlot {
  points: CircularBuffer<SeriesPoint>;
  lastTs: number;
  merchantId?: string;
}

export class GatewayStoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retriable = false,
  ) {
    super(message);
    this.name = 'GatewayStoreError';
  }
}

const rateKey = (scope: string, window: string, key: string) =>
  `${scope}\u0000${window}\u0000${key}`;

/**
 * Bounded in-memory store for the embedded mode. Push methods are synchronous and cheap
 * (the engine calls them every second); reads are async to match a ClickHouse store.
 */
export class MemoryStore implements GatewayStore {
  private readonly o: Required<Omit<MemoryStoreOptions, 'now'>>;
  private readonly now: () => number;
  private readonly rates = new Map<string, RateRow>();
  /** newest row ts per scope/window, the reference for staleness */
  private readonly newest = new Map<string, number>();
  private readonly seriesMap = new Map<string, SeriesSlot>();
  private readonly owners = new Map<string, string>();
  private readonly events: EventRing;
  /** auths per region and minute, 8 days (the region view's traffic against its normal) */
  private readonly regionMinutes = new RegionMinutes();
  private readonly alerts = new Map<string, AlertRecord>();
  private readonly silences = new Map<string, Silence>();
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private readonly silenceListeners = new Set<(s: readonly Silence[]) => void>();

  constructor(opts: MemoryStoreOptions = {}) {
    this.o = {
      maxEvents: opts.maxEvents ?? 300_000,
      eventsPerTerminal: opts.eventsPerTerminal ?? 200,
      eventRetentionMs: opts.eventRetentionMs ?? 3_600_000,
      staleAfterMs: opts.staleAfterMs ?? 15_000,
      maxSeries: opts.maxSeries ?? 2000,
      seriesPoints: opts.seriesPoints ?? 360,
      seriesStepMs: opts.seriesStepMs ?? 10_000,
      maxAlerts: opts.maxAlerts ?? 10_000,
      maxAuditPerAlert: opts.maxAuditPerAlert ?? 500,
    };
    this.now = opts.now ?? Date.now;
    this.events = new EventRing(this.o);
  }

  // ---- push side (embedded mode) -------------------------------------------------------

  /** Current rates of any scopes/windows; broadcast to subscribers as one batch. */
  pushRates(rows: readonly RateRow[]): void {
    if (rows.length === 0) return;
    for (const row of rows) {
      const ts = Date.parse(row.ts);
      this.rates.set(rateKey(row.scope, row.window, row.key), row);
      const nk = `${row.scope}\u0000${row.window}`;
      if (!(ts <= (this.newest.get(nk) ?? -Infinity))) this.newest.set(nk, ts);
      if (row.scope === 'terminal' && row.merchantId) this.setOwner(row.key, row.merchantId);
      this.addPoint(row, ts);
    }
    this.emit({ type: 'rates', rows: rows as RateRow[] });
  }

  /** One alert transition (firing, update or resolved); same alertId = same episode. */
  pushAlert(input: Alert): AlertRecord {
    const parsed = parseAlert(input);
    if ('reason' in parsed) {
      throw new GatewayStoreError('TW_GW_INVALID_ALERT', `alert rejected: ${parsed.reason}`);
    }
    const { alert } = parsed;
    let rec = this.alerts.get(alert.alertId);
    const prev = rec && transitionOf(rec.alert);
    if (rec) rec.alert = alert;
    else this.alerts.set(alert.alertId, (rec = newRecord(alert)));
    recordTransition(rec, prev, transitionOf(alert), this.o.maxAuditPerAlert);
    if (!prev) this.evictAlerts();
    applySilences(rec, this.silences.values(), this.now());
    this.emit({ type: 'alert', record: rec });
    return rec;
  }

  /** Raw events for drill-down; not broadcast (too many), kept bounded. */
  pushEvents(events: readonly TerminalEvent[]): void {
    this.events.push(events);
    this.regionMinutes.push(events);
    for (const ev of events) this.setOwner(ev.terminalId, ev.merchantId);
  }

  // ---- reads -----------------------------------------------------------------------------

  async currentRates(q: RatesQuery): Promise<RateRow[]> {
    const out: RateRow[] = [];
    for (const row of this.rates.values()) {
      if (q.scope && row.scope !== q.scope) continue;
      if (q.window && row.window !== q.window) continue;
      if (q.key !== undefined && row.key !== q.key) continue;
      if (q.merchantId !== undefined && row.merchantId !== q.merchantId) continue;
      if (
        q.region !== undefined &&
        row.region !== q.region &&
        !(row.scope === 'region' && row.key === q.region)
      )
        continue;
      if (this.isStale(row)) continue;
      out.push(row);
      if (q.limit !== undefined && out.length >= q.limit) break;
    }
    return out;
  }

  async regionAuths(q: RegionAuthsQuery): Promise<RegionAuthCount[]> {
    return this.regionMinutes.query(q);
  }

  async series(q: SeriesQuery): Promise<SeriesPoint[] | undefined> {
    const s = this.seriesMap.get(rateKey(q.scope, q.window, q.key));
    if (!s) return undefined;
    if (q.merchantId !== undefined && s.merchantId !== q.merchantId) return undefined;
    const since = q.since ?? -Infinity;
    const until = q.until ?? Infinity;
    const out: SeriesPoint[] = [];
    for (const p of s.points) {
      const t = Date.parse(p.ts);
      if (t >= since && t <= until) out.push(p);
    }
    return out;
  }

  async top(q: TopQuery): Promise<RateRow[]> {
    const rows = (
      await this.currentRates({
        scope: q.scope,
        window: q.window,
        ...(q.merchantId !== undefined ? { merchantId: q.merchantId } : {}),
        ...(q.region !== undefined ? { region: q.region } : {}),
      })
    ).filter(
      (r) => r.auths >= q.minAuths || (q.metric === 'volumeDrop' && r.volumeRatio !== undefined),
    );
    const score = (r: RateRow): number =>
      q.metric === 'volumeDrop' ? 1 - (r.volumeRatio ?? 1) : r[q.metric];
    return rows.sort((a, b) => score(b) - score(a) || b.auths - a.auths).slice(0, q.n);
  }

  async terminalOwner(terminalId: string): Promise<string | undefined> {
    return this.owners.get(terminalId);
  }

  async listAlerts(f: AlertFilter): Promise<AlertRecord[]> {
    const out: AlertRecord[] = [];
    for (const rec of this.alerts.values()) {
      const a = rec.alert;
      if (f.status && a.status !== f.status) continue;
      if (f.rule && a.rule !== f.rule) continue;
      if (f.scope && a.scope !== f.scope) continue;
      if (f.severity && a.severity !== f.severity) continue;
      if (f.merchantId !== undefined && a.merchantId !== f.merchantId) continue;
      if (f.region !== undefined && a.region !== f.region) continue;
      if (f.key !== undefined && a.key !== f.key) continue;
      // any transition at or after `since`, as ClickHouse filters: the latest one is rec.alert
      if (f.since !== undefined && Date.parse(a.ts) < f.since) continue;
      out.push(rec);
    }
    out.sort(newestFirst);
    return out.slice(0, f.limit);
  }

  async getAlert(alertId: string, bound: MerchantBound = {}): Promise<AlertRecord | undefined> {
    const rec = this.alerts.get(alertId);
    if (!rec || (bound.merchantId !== undefined && !alertOwnedBy(rec.alert, bound.merchantId)))
      return undefined;
    return rec;
  }

  async applyAction(
    alertId: string,
    input: AlertActionInput,
    bound: MerchantBound = {},
  ): Promise<AlertRecord | undefined> {
    const rec = await this.getAlert(alertId, bound);
    if (!rec) return undefined;
    const action = actionFromInput(input, this.now());
    const entry = recordAction(rec, action, this.o.maxAuditPerAlert);
    this.emit({ type: 'audit', record: rec, entry });
    return rec;
  }

  async rawEvents(q: RawEventsQuery): Promise<DrillDown> {
    return this.events.query(q);
  }

  /**
   * Over the records kept (maxAlerts; resolved ones are evicted first, so a long period in a
   * busy embedded run counts fewer than ClickHouse would). The verdict is the workflow's, i.e.
   * the latest one given.
   */
  async ruleVerdicts(q: VerdictQuery): Promise<RuleVerdictCounts[]> {
    const byRule = new Map<Alert['rule'], RuleVerdictCounts>();
    for (const rec of this.alerts.values()) {
      const a = rec.alert;
      if (!(Date.parse(a.firstSeen) >= q.since)) continue;
      if (q.merchantId !== undefined && !alertOwnedBy(a, q.merchantId)) continue;
      let c = byRule.get(a.rule);
      if (!c) {
        c = { rule: a.rule, raised: 0, true_incident: 0, false_alarm: 0, expected: 0 };
        byRule.set(a.rule, c);
      }
      c.raised++;
      const v = rec.workflow.verdict;
      if (v) c[v]++;
    }
    return [...byRule.values()];
  }

  // ---- silences --------------------------------------------------------------------------

  async listSilences(opts: { activeAt?: number } = {}): Promise<Silence[]> {
    const all = [...this.silences.values()];
    if (opts.activeAt === undefined) return all;
    const t = opts.activeAt;
    return all.filter((s) => silenceInForce(s, t));
  }

  async getSilence(id: string): Promise<Silence | undefined> {
    return this.silences.get(id);
  }

  async createSilence(input: SilenceInput, createdBy: string): Promise<Silence> {
    const s: Silence = {
      ...input,
      id: randomUUID(),
      createdBy,
      createdAt: new Date(this.now()).toISOString(),
    };
    this.silences.set(s.id, s);
    this.silencesChanged();
    return s;
  }

  async updateSilence(id: string, input: SilenceInput): Promise<Silence | undefined> {
    const old = this.silences.get(id);
    if (!old) return undefined;
    // the input replaces the silence whole: a recurrence left out of it is gone
    const s: Silence = { ...input, id, createdBy: old.createdBy, createdAt: old.createdAt };
    this.silences.set(id, s);
    this.silencesChanged();
    return s;
  }

  async deleteSilence(id: string): Promise<boolean> {
    const ok = this.silences.delete(id);
    if (ok) this.silencesChanged();
    return ok;
  }

  /**
   * Silences an earlier store held, as they were (ids, authors and times kept): the embedded
   * all-in-one's state directory hands them back at a start. Listeners hear of them at once.
   */
  restoreSilences(silences: readonly Silence[]): void {
    for (const s of silences) this.silences.set(s.id, s);
    this.silencesChanged();
  }

  onSilencesChanged(listener: (silences: readonly Silence[]) => void): () => void {
    this.silenceListeners.add(listener);
    return () => this.silenceListeners.delete(listener);
  }

  /** Synchronous view for the engine: is this alert muted right now? */
  isSilenced(alert: Alert, now = this.now()): Silence | undefined {
    for (const s of this.silences.values()) if (silenceMatches(s, alert, now)) return s;
    return undefined;
  }

  // ---- live feed -------------------------------------------------------------------------

  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats() {
    return {
      rates: this.rates.size,
      alerts: this.alerts.size,
      events: this.events.size,
      series: this.seriesMap.size,
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.silenceListeners.clear();
  }

  // ---- internals -------------------------------------------------------------------------

  private emit(e: StoreEvent): void {
    for (const l of this.listeners) l(e);
  }

  private silencesChanged(): void {
    const all = [...this.silences.values()];
    for (const l of this.silenceListeners) l(all);
  }

  private isStale(row: RateRow): boolean {
    const newest = this.newest.get(`${row.scope}\u0000${row.window}`);
    return newest !== undefined && Date.parse(row.ts) < newest - this.o.staleAfterMs;
  }

  private setOwner(terminalId: string, merchantId: string): void {
    if (this.owners.get(terminalId) === merchantId) return;
    this.owners.set(terminalId, merchantId);
    // 200k terminals × ~80 B: beyond that forget the oldest mapping (it is relearnt from data)
    if (this.owners.size > 200_000) this.owners.delete(this.owners.keys().next().value as string);
  }

  private addPoint(row: RateRow, ts: number): void {
    const k = rateKey(row.scope, row.window, row.key);
    let s = this.seriesMap.get(k);
    if (!s) {
      if (this.seriesMap.size >= this.o.maxSeries)
        this.seriesMap.delete(this.seriesMap.keys().next().value as string);
      s = {
        points: new CircularBuffer<SeriesPoint>(Array, this.o.seriesPoints),
        lastTs: -Infinity,
      };
      this.seriesMap.set(k, s);
    } else {
      // keep Map order = least recently updated first, so eviction drops a series nobody feeds
      this.seriesMap.delete(k);
      this.seriesMap.set(k, s);
    }
    if (row.merchantId !== undefined) s.merchantId = row.merchantId;
    if (ts - s.lastTs < this.o.seriesStepMs) return;
    s.lastTs = ts;
    s.points.push({
      ts: row.ts,
      auths: row.auths,
      failureRate: row.failureRate,
      faultRate: row.faultRate,
      reversalRate: row.reversalRate,
      noSettlementRate: row.noSettlementRate,
      volumeRatio: row.volumeRatio ?? null,
    });
  }

  private evictAlerts(): void {
    if (this.alerts.size <= this.o.maxAlerts) return;
    for (const [id, rec] of this.alerts) {
      if (rec.alert.status === 'resolved') {
        this.alerts.delete(id);
        return;
      }
    }
    this.alerts.delete(this.alerts.keys().next().value as string);
  }
}

export type { RateScope };
