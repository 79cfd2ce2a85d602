import { randomUUID } from 'node:crypto';
import {
  TABLES,
  alertToRow,
  ident,
  insertAlertActions,
  queryAlertActions,
  queryAlertActionsFor,
  queryAlertTimelines,
  queryAlertTransitions,
  queryAlerts,
  queryDrillDown,
  queryLatestRates,
  queryRateChanges,
  queryRateFreshness,
  querySeries,
  queryTopRates,
  summarizeDrillDown,
  deleteSilences,
  listSilences as chListSilences,
  upsertSilences,
  sql,
  type AlertAction,
  type AlertTimelineRow,
  type ClickHouse,
  type DrillDownQuery,
  type StoredEvent,
} from '@tillwatch/clickhouse';
import type { Logger } from '@tillwatch/config';
import {
  alertSchema,
  categorize,
  describeIssues,
  type Alert,
  type RateRow,
  type TerminalEvent,
} from '@tillwatch/contracts';
import {
  applyWorkflowAction,
  silenceMatches,
  type AlertActionInput,
  type AlertFilter,
  type AlertRecord,
  type AlertWorkflow,
  type AuditEntry,
  type DrillDown,
  type GatewayStore,
  type MerchantBound,
  type RatesQuery,
  type RawEventsQuery,
  type SeriesPoint,
  type SeriesQuery,
  type Silence,
  type SilenceInput,
  type StoreEvent,
  type TopQuery,
} from './store';

export interface ClickHouseStoreOptions {
  /** a client bound to the database whose migrations have run (migrate() from @tillwatch/clickhouse) */
  ch: ClickHouse;
  /** look for new window_stats rows this often and emit them as `rates`; 0 = off. 1 s. */
  ratesPollMs?: number;
  /**
   * A key whose latest pane ended this long before its scope/window's newest is hidden from
   * "current" reads (a terminal that went quiet). 120 s: the processor may skip a quiet key's
   * panes, and a board that drops a row every few seconds is worse than one that keeps it.
   */
  staleAfterMs?: number;
  /**
   * How far back the poll reads panes, and how far back in writer time it looks again each
   * time (a writer's batch lands up to maxDelay + retries after its rows got their version).
   */
  pollLookbackMs?: number;
  versionOverlapMs?: number;
  /** rows one poll may emit; beyond it the least worrying terminal/merchant rows wait. 5000. */
  maxRowsPerPoll?: number;
  /** re-read silences this often, so another gateway's changes reach this one. 10 s. */
  silencesRefreshMs?: number;
  /** spacing of series points (the processor writes one row per pane): 10 s */
  seriesStepMs?: number;
  /** audit entries returned per alert (the first one, when it fired, always kept): 500 */
  maxAuditPerAlert?: number;
  logger?: Logger;
  now?: () => number;
}

const MIX_SCOPES = new Set(['fleet', 'region', 'firmware', 'issuer']);

/**
 * GatewayStore over ClickHouse (production mode): reads window_stats, alerts, alert_actions,
 * events_raw and silences through @tillwatch/clickhouse's helpers, whose values all pass its
 * escaping helper after zod. A merchant's bound is part of every query's WHERE
 * (merchant_id = …), not only a filter applied after.
 *
 * Live side: the gateway feeds `ingestAlerts` from pos.alerts (alert-feed.ts) and this store
 * polls window_stats for rows written since its last look; both become StoreEvents for the
 * socket layer, as MemoryStore's pushes do in the embedded mode.
 */
export class ClickHouseStore implements GatewayStore {
  private readonly ch: ClickHouse;
  private readonly o: Required<Omit<ClickHouseStoreOptions, 'ch' | 'logger' | 'now'>>;
  private readonly log: Logger | undefined;
  private readonly now: () => number;
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private readonly silenceListeners = new Set<(s: readonly Silence[]) => void>();
  private silences: Silence[] = [];
  private silencesKey = '';
  private lastVersion = 0;
  private silenceVersion = 0;
  /** per scope/window/key the pane end and version last emitted, to skip re-reads */
  private readonly sent = new Map<string, { ts: number; version: number }>();
  private alertsIngested = 0;
  private rowsEmitted = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;

  private constructor(opts: ClickHouseStoreOptions) {
    this.ch = opts.ch;
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.o = {
      ratesPollMs: opts.ratesPollMs ?? 1000,
      staleAfterMs: opts.staleAfterMs ?? 120_000,
      pollLookbackMs: opts.pollLookbackMs ?? 300_000,
      versionOverlapMs: opts.versionOverlapMs ?? 30_000,
      maxRowsPerPoll: opts.maxRowsPerPoll ?? 5000,
      silencesRefreshMs: opts.silencesRefreshMs ?? 10_000,
      seriesStepMs: opts.seriesStepMs ?? 10_000,
      maxAuditPerAlert: opts.maxAuditPerAlert ?? 500,
    };
  }

  /** Loads the silences and starts the pollers. */
  static async open(opts: ClickHouseStoreOptions): Promise<ClickHouseStore> {
    const s = new ClickHouseStore(opts);
    await s.refreshSilences();
    if (s.o.ratesPollMs > 0) s.schedulePoll();
    if (s.o.silencesRefreshMs > 0) {
      s.silenceTimer = setInterval(() => {
        s.refreshSilences().catch((err: unknown) =>
          s.log?.warn({ err }, 'silences refresh failed'),
        );
      }, s.o.silencesRefreshMs);
      s.silenceTimer.unref();
    }
    return s;
  }

  // ---- rates -------------------------------------------------------------------------------

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

  // ---- alerts ------------------------------------------------------------------------------

  async listAlerts(f: AlertFilter): Promise<AlertRecord[]> {
    const alerts = await queryAlerts(this.ch, {
      ...(f.status ? { status: f.status } : {}),
      ...(f.rule ? { rule: f.rule } : {}),
      ...(f.scope ? { scope: f.scope } : {}),
      ...(f.severity ? { severity: f.severity } : {}),
      ...(f.merchantId !== undefined ? { merchantId: f.merchantId } : {}),
      ...(f.region !== undefined ? { region: f.region } : {}),
      ...(f.key !== undefined ? { key: f.key } : {}),
      ...(f.since !== undefined ? { from: f.since } : {}),
      limit: Math.min(f.limit, 1000),
    });
    if (alerts.length === 0) return [];
    const ids = alerts.map((a) => a.alertId);
    const [timelines, actions] = await Promise.all([
      queryAlertTimelines(this.ch, ids),
      queryAlertActionsFor(this.ch, ids),
    ]);
    const tl = groupBy(timelines, (t) => t.alertId);
    const ac = groupBy(actions, (a) => a.alertId);
    return alerts.map((a) => this.record(a, tl.get(a.alertId) ?? [], ac.get(a.alertId) ?? []));
  }

  async getAlert(alertId: string, bound: MerchantBound = {}): Promise<AlertRecord | undefined> {
    const transitions = await queryAlertTransitions(this.ch, alertId, bound);
    const alert = transitions.at(-1);
    if (!alert) return undefined;
    const actions = await queryAlertActions(this.ch, alertId);
    const timeline = transitions.map((t) => ({
      alertId,
      status: t.status,
      severity: t.severity,
      ts: Date.parse(t.ts),
    }));
    return this.record(alert, timeline, actions);
  }

  async applyAction(
    alertId: string,
    input: AlertActionInput,
    bound: MerchantBound = {},
  ): Promise<AlertRecord | undefined> {
    const rec = await this.getAlert(alertId, bound);
    if (!rec) return undefined;
    const action: AlertAction = {
      actionId: randomUUID(),
      alertId,
      kind: input.action === 'acknowledge' ? 'ack' : input.action,
      actor: input.actor,
      role: input.role,
      assignee: input.assignee ?? '',
      note: input.note ?? '',
      author: input.author ?? '',
      ts: this.now(),
    };
    await insertAlertActions(this.ch, [action]);
    // read back: the trail as stored is what the caller and the room must see
    const after = (await this.getAlert(alertId, bound)) ?? rec;
    const entry = after.audit.find((e) => e.id === action.actionId) ?? actionEntry(action, alertId);
    this.emit({ type: 'audit', record: after, entry });
    return after;
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
      responseCodes: Object.entries(summary.byCode)
        .filter(([code]) => code !== '') // non-auth events carry no code
        .map(([code, count]) => ({ code, category: categorize(code), count }))
        .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
      matched: summary.total,
      ...(summary.from !== undefined ? { from: new Date(summary.from).toISOString() } : {}),
      ...(summary.to !== undefined ? { to: new Date(summary.to).toISOString() } : {}),
    };
  }

  // ---- silences ----------------------------------------------------------------------------

  async listSilences(opts: { activeAt?: number } = {}): Promise<Silence[]> {
    return (await chListSilences(this.ch, opts)) as Silence[];
  }

  async getSilence(id: string): Promise<Silence | undefined> {
    return (await chListSilences(this.ch, { ids: [id] }))[0] as Silence | undefined;
  }

  async createSilence(input: SilenceInput, createdBy: string): Promise<Silence> {
    const s: Silence = {
      ...input,
      id: randomUUID(),
      createdBy,
      createdAt: new Date(this.now()).toISOString(),
    };
    await upsertSilences(this.ch, [s], this.nextSilenceVersion());
    await this.refreshSilences();
    return s;
  }

  async updateSilence(id: string, input: SilenceInput): Promise<Silence | undefined> {
    const old = await this.getSilence(id);
    if (!old) return undefined;
    const s: Silence = { ...old, ...input, id };
    await upsertSilences(this.ch, [s], this.nextSilenceVersion());
    await this.refreshSilences();
    return s;
  }

  async deleteSilence(id: string): Promise<boolean> {
    const old = await this.getSilence(id);
    if (!old) return false;
    await deleteSilences(this.ch, [old], this.nextSilenceVersion());
    await this.refreshSilences();
    return true;
  }

  onSilencesChanged(listener: (silences: readonly Silence[]) => void): () => void {
    this.silenceListeners.add(listener);
    return () => this.silenceListeners.delete(listener);
  }

  // ---- live feed ---------------------------------------------------------------------------

  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Alert transitions from pos.alerts: validated, written to the alerts table (when `persist`;
   * idempotent by alertId + ts + status), then emitted with their workflow and silence. Resolves
   * once the rows are durable, so the feed commits its offsets after this. Invalid ones are
   * counted and skipped: a malformed message must not stop the feed.
   */
  async ingestAlerts(
    values: readonly unknown[],
    opts: { persist?: boolean } = {},
  ): Promise<{ accepted: number; invalid: number }> {
    const alerts: Alert[] = [];
    let invalid = 0;
    for (const v of values) {
      const r = alertSchema.safeParse(v);
      if (!r.success) {
        invalid++;
        this.log?.warn({ reason: describeIssues(r.error) }, 'alert rejected');
        continue;
      }
      const a = r.data;
      // scoping relies on these two fields: fill them from the key where the scope implies them
      if (a.scope === 'merchant' && a.merchantId === undefined) a.merchantId = a.key;
      if (a.scope === 'region' && a.region === undefined) a.region = a.key;
      alerts.push(a);
    }
    if (alerts.length === 0) return { accepted: 0, invalid };
    if (opts.persist ?? true) await this.ch.insert(TABLES.alerts, alerts.map(alertToRow));
    const ids = [...new Set(alerts.map((a) => a.alertId))];
    const [timelines, actions] = await Promise.all([
      queryAlertTimelines(this.ch, ids),
      queryAlertActionsFor(this.ch, ids),
    ]);
    const tl = groupBy(timelines, (t) => t.alertId);
    const ac = groupBy(actions, (x) => x.alertId);
    const now = this.now();
    for (const a of alerts) {
      const own: AlertTimelineRow = {
        alertId: a.alertId,
        status: a.status,
        severity: a.severity,
        ts: Date.parse(a.ts),
      };
      const timeline = tl.get(a.alertId) ?? [own];
      const rec = this.record(a, timeline, ac.get(a.alertId) ?? [], now);
      this.alertsIngested++;
      this.emit({ type: 'alert', record: rec });
    }
    return { accepted: alerts.length, invalid };
  }

  /** One look at window_stats for rows written since the last one; emits them as `rates`. */
  async pollRates(): Promise<number> {
    if (this.polling) {
      await this.polling;
      return 0;
    }
    let n = 0;
    this.polling = (async () => {
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
      const rows = capRows(fresh, this.o.maxRowsPerPoll);
      if (rows.length) {
        this.rowsEmitted += rows.length;
        this.emit({ type: 'rates', rows });
      }
      n = rows.length;
    })();
    try {
      await this.polling;
    } finally {
      this.polling = undefined;
    }
    return n;
  }

  stats() {
    return {
      rates: this.sent.size,
      alerts: this.alertsIngested,
      events: 0,
      series: 0,
      silences: this.silences.length,
      rateRowsEmitted: this.rowsEmitted,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.silenceTimer) clearInterval(this.silenceTimer);
    await this.polling?.catch(() => {});
    this.listeners.clear();
    this.silenceListeners.clear();
  }

  // ---- internals ---------------------------------------------------------------------------

  private emit(e: StoreEvent): void {
    for (const l of this.listeners) l(e);
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.pollTimer = setTimeout(() => {
      this.pollRates()
        .catch((err: unknown) => this.log?.warn({ err }, 'rates poll failed'))
        .finally(() => this.schedulePoll());
    }, this.o.ratesPollMs);
    this.pollTimer.unref();
  }

  /** Later writers win, also across gateways: µs of the wall clock, strictly increasing here. */
  private nextSilenceVersion(): number {
    this.silenceVersion = Math.max(this.silenceVersion + 1, this.now() * 1000);
    return this.silenceVersion;
  }

  private async refreshSilences(): Promise<void> {
    const all = await this.listSilences();
    const key = JSON.stringify(all);
    this.silences = all;
    if (key === this.silencesKey) return;
    this.silencesKey = key;
    for (const l of this.silenceListeners) l(all);
  }

  /** An alert with its workflow (from the actions) and its trail (transitions + actions). */
  private record(
    alert: Alert,
    timeline: readonly AlertTimelineRow[],
    actions: readonly AlertAction[],
    silenceAt = Date.parse(alert.ts),
  ): AlertRecord {
    const entries: AuditEntry[] = [...engineEntries(alert.alertId, timeline)];
    let workflow: AlertWorkflow = { state: 'open' };
    for (const a of actions) {
      workflow = applyWorkflowAction(
        workflow,
        {
          kind: a.kind === 'ack' ? 'acknowledge' : a.kind,
          actor: a.actor,
          assignee: a.assignee,
        },
        new Date(a.ts).toISOString(),
      );
      entries.push(actionEntry(a, alert.alertId));
    }
    entries.sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
    // a chatty episode must not grow without bound: keep the first line (when it fired)
    const audit =
      entries.length > this.o.maxAuditPerAlert
        ? [entries[0]!, ...entries.slice(entries.length - this.o.maxAuditPerAlert + 1)]
        : entries;
    const silence = this.silences.find((s) => silenceMatches(s, alert, silenceAt));
    return { alert, workflow, audit, ...(silence ? { silencedBy: silence.id } : {}) };
  }
}

/** fired / updated / engine_resolved lines from the transitions, as MemoryStore records them. */
function* engineEntries(
  alertId: string,
  timeline: readonly AlertTimelineRow[],
): Generator<AuditEntry> {
  let prev: AlertTimelineRow | undefined;
  for (const t of timeline) {
    const base = {
      id: `${alertId}@${t.ts}:${t.status}`,
      alertId,
      at: new Date(t.ts).toISOString(),
      actor: 'engine',
      role: 'engine' as const,
      status: t.status,
    };
    if (!prev || prev.status !== t.status) {
      yield { ...base, action: t.status === 'firing' ? 'fired' : 'engine_resolved' };
    } else if (prev.severity !== t.severity) {
      yield { ...base, action: 'updated', note: `severity ${prev.severity} → ${t.severity}` };
    }
    prev = t;
  }
}

function actionEntry(a: AlertAction, alertId: string): AuditEntry {
  const kind = a.kind === 'ack' ? 'acknowledge' : a.kind === 'unack' ? 'note' : a.kind;
  const note = a.kind === 'unack' ? `(unacknowledged) ${a.note}`.trim() : a.note;
  return {
    id: a.actionId,
    alertId,
    at: new Date(a.ts).toISOString(),
    action: kind,
    actor: a.actor,
    role: (a.role || 'analyst') as AuditEntry['role'],
    ...(a.author ? { author: a.author } : {}),
    ...(note ? { note } : {}),
    ...(a.assignee ? { assignee: a.assignee } : {}),
  };
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

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const l = m.get(k);
    if (l) l.push(x);
    else m.set(k, [x]);
  }
  return m;
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
