import { randomUUID } from 'node:crypto';
import {
  alertSchema,
  categorize,
  describeIssues,
  type Alert,
  type RateRow,
  type TerminalEvent,
} from '@tillwatch/contracts';
import { CircularBuffer } from 'mnemonist';
import {
  alertOwnedBy,
  applyWorkflowAction,
  silenceMatches,
  type AlertActionInput,
  type AlertFilter,
  type AlertRecord,
  type AuditEntry,
  type DrillDown,
  type GatewayStore,
  type MerchantBound,
  type RateScope,
  type RatesQuery,
  type RawEventsQuery,
  type SeriesPoint,
  type SeriesQuery,
  type Silence,
  type SilenceInput,
  type StoreEvent,
  type TopQuery,
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

interface TerminalSlot {
  merchantId: string;
  region: string;
  events: CircularBuffer<TerminalEvent>;
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
  private readonly terminals = new Map<string, TerminalSlot>();
  private readonly byMerchant = new Map<string, Set<string>>();
  private readonly byRegion = new Map<string, Set<string>>();
  private readonly events: CircularBuffer<TerminalEvent>;
  private maxEventTs = 0;
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
    this.events = new CircularBuffer<TerminalEvent>(Array, this.o.maxEvents);
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
    const r = alertSchema.safeParse(input);
    if (!r.success) {
      throw new GatewayStoreError(
        'TW_GW_INVALID_ALERT',
        `alert rejected: ${describeIssues(r.error)}`,
      );
    }
    const alert = r.data;
    // scoping relies on these two fields: fill them from the key where the scope implies them
    if (alert.scope === 'merchant' && alert.merchantId === undefined) alert.merchantId = alert.key;
    if (alert.scope === 'region' && alert.region === undefined) alert.region = alert.key;
    const at = new Date(this.now()).toISOString();
    let rec = this.alerts.get(alert.alertId);
    if (!rec) {
      rec = { alert, workflow: { state: 'open' }, audit: [] };
      this.alerts.set(alert.alertId, rec);
      this.audit(rec, {
        action: alert.status === 'firing' ? 'fired' : 'engine_resolved',
        at,
        status: alert.status,
      });
      this.evictAlerts();
    } else {
      const prev = rec.alert;
      rec.alert = alert;
      if (prev.status !== alert.status) {
        this.audit(rec, {
          action: alert.status === 'resolved' ? 'engine_resolved' : 'fired',
          at,
          status: alert.status,
        });
      } else if (prev.severity !== alert.severity) {
        // value updates arrive every tick; only a severity change is worth a line in the record
        this.audit(rec, {
          action: 'updated',
          at,
          status: alert.status,
          note: `severity ${prev.severity} → ${alert.severity}`,
        });
      }
    }
    const silence = [...this.silences.values()].find((s) => silenceMatches(s, alert, this.now()));
    if (silence) rec.silencedBy = silence.id;
    else delete rec.silencedBy;
    this.emit({ type: 'alert', record: rec });
    return rec;
  }

  /** Raw events for drill-down; not broadcast (too many), kept bounded. */
  pushEvents(events: readonly TerminalEvent[]): void {
    for (const ev of events) {
      if (this.events.size === this.o.maxEvents) this.evictOldestEvent();
      this.events.push(ev);
      if (ev.ts > this.maxEventTs) this.maxEventTs = ev.ts;
      let t = this.terminals.get(ev.terminalId);
      if (!t) {
        t = {
          merchantId: ev.merchantId,
          region: ev.region,
          events: new CircularBuffer<TerminalEvent>(Array, this.o.eventsPerTerminal),
        };
        this.terminals.set(ev.terminalId, t);
        index(this.byMerchant, ev.merchantId, ev.terminalId);
        index(this.byRegion, ev.region, ev.terminalId);
      }
      t.events.push(ev);
      this.setOwner(ev.terminalId, ev.merchantId);
    }
    const horizon = this.maxEventTs - this.o.eventRetentionMs;
    for (
      let e = this.events.peekFirst();
      e !== undefined && e.ts < horizon;
      e = this.events.peekFirst()
    ) {
      this.evictOldestEvent();
    }
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
      if (f.since !== undefined && Date.parse(a.lastSeen) < f.since) continue;
      out.push(rec);
    }
    out.sort((x, y) => Date.parse(y.alert.lastSeen) - Date.parse(x.alert.lastSeen));
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
    const at = new Date(this.now()).toISOString();
    rec.workflow = applyWorkflowAction(
      rec.workflow,
      {
        kind: input.action,
        actor: input.actor,
        ...(input.assignee ? { assignee: input.assignee } : {}),
      },
      at,
    );
    const entry = this.audit(rec, {
      action: input.action,
      at,
      actor: input.actor,
      role: input.role,
      ...(input.author ? { author: input.author } : {}),
      ...(input.note ? { note: input.note } : {}),
      ...(input.assignee ? { assignee: input.assignee } : {}),
    });
    this.emit({ type: 'audit', record: rec, entry });
    return rec;
  }

  async rawEvents(q: RawEventsQuery): Promise<DrillDown> {
    let source: Iterable<TerminalEvent>;
    if (q.terminalId !== undefined) {
      source = this.terminals.get(q.terminalId)?.events ?? [];
    } else if (q.merchantId !== undefined || q.region !== undefined) {
      const ids =
        q.merchantId !== undefined
          ? this.byMerchant.get(q.merchantId)
          : this.byRegion.get(q.region!);
      const terminals = this.terminals;
      source = (function* () {
        for (const id of ids ?? []) yield* terminals.get(id)?.events ?? [];
      })();
    } else {
      source = this.events;
    }
    const txns = q.txnIds ? new Set(q.txnIds) : undefined;
    const since = q.since ?? -Infinity;
    const until = q.until ?? Infinity;
    const matched: TerminalEvent[] = [];
    const codes = new Map<string, number>();
    for (const ev of source) {
      if (ev.ts < since || ev.ts > until) continue;
      if (q.terminalId !== undefined && ev.terminalId !== q.terminalId) continue;
      if (q.merchantId !== undefined && ev.merchantId !== q.merchantId) continue;
      if (q.region !== undefined && ev.region !== q.region) continue;
      const e = ev as TerminalEvent & { firmware?: string; issuerId?: string; txnId?: string };
      if (q.firmware !== undefined && e.firmware !== q.firmware) continue;
      if (q.issuerId !== undefined && e.issuerId !== q.issuerId) continue;
      if (txns && (e.txnId === undefined || !txns.has(e.txnId))) continue;
      matched.push(ev);
      if (ev.type === 'auth') codes.set(ev.responseCode, (codes.get(ev.responseCode) ?? 0) + 1);
    }
    matched.sort((a, b) => b.ts - a.ts);
    const first = matched.at(-1);
    const last = matched[0];
    return {
      events: matched.slice(0, q.limit),
      responseCodes: [...codes]
        .map(([code, count]) => ({ code, category: categorize(code), count }))
        .sort((a, b) => b.count - a.count),
      matched: matched.length,
      ...(first ? { from: new Date(first.ts).toISOString() } : {}),
      ...(last ? { to: new Date(last.ts).toISOString() } : {}),
    };
  }

  // ---- silences --------------------------------------------------------------------------

  async listSilences(opts: { activeAt?: number } = {}): Promise<Silence[]> {
    const all = [...this.silences.values()];
    if (opts.activeAt === undefined) return all;
    const t = opts.activeAt;
    return all.filter((s) => Date.parse(s.startsAt) <= t && t < Date.parse(s.endsAt));
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
    const s: Silence = { ...old, ...input, id };
    this.silences.set(id, s);
    this.silencesChanged();
    return s;
  }

  async deleteSilence(id: string): Promise<boolean> {
    const ok = this.silences.delete(id);
    if (ok) this.silencesChanged();
    return ok;
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

  private evictOldestEvent(): void {
    const old = this.events.shift();
    if (!old) return;
    const t = this.terminals.get(old.terminalId);
    if (!t) return;
    // the global ring and each terminal's ring are both FIFO, so the global oldest is the
    // terminal's oldest unless the terminal ring already overwrote it
    if (t.events.peekFirst() === old) t.events.shift();
    if (t.events.size === 0) {
      this.terminals.delete(old.terminalId);
      unindex(this.byMerchant, t.merchantId, old.terminalId);
      unindex(this.byRegion, t.region, old.terminalId);
    }
  }

  private audit(
    rec: AlertRecord,
    e: Omit<AuditEntry, 'id' | 'alertId' | 'actor' | 'role'> &
      Partial<Pick<AuditEntry, 'actor' | 'role'>>,
  ): AuditEntry {
    const entry: AuditEntry = {
      id: randomUUID(),
      alertId: rec.alert.alertId,
      actor: 'engine',
      role: 'engine',
      ...e,
    };
    rec.audit.push(entry);
    if (rec.audit.length > this.o.maxAuditPerAlert) rec.audit.splice(1, 1); // keep the first line: when it fired
    return entry;
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

function index(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}
function unindex(m: Map<string, Set<string>>, k: string, v: string): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}

export type { RateScope };
