import { randomUUID } from 'node:crypto';
import {
  TABLES,
  alertToRow,
  insertAlertActions,
  queryAlertActions,
  queryAlertActionsFor,
  queryAlertTimelines,
  queryAlertTransitions,
  queryAlerts,
  deleteSilences,
  listSilences as chListSilences,
  upsertSilences,
  type AlertAction,
  type AlertTimelineRow,
  type ClickHouse,
} from '@tillwatch/clickhouse';
import type { Logger } from '@tillwatch/config';
import type { Alert, RateRow } from '@tillwatch/contracts';
import { ClickHouseReads } from './clickhouse-reads';
import {
  actionFromInput,
  applySilences,
  buildRecord,
  DEFAULT_MAX_AUDIT,
  newestFirst,
  parseAlert,
  recordAction,
  type LedgerAction,
} from './ledger';
import {
  type AlertActionInput,
  type AlertFilter,
  type AlertRecord,
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
  private readonly reads: ClickHouseReads;
  private silenceVersion = 0;
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
      maxAuditPerAlert: opts.maxAuditPerAlert ?? DEFAULT_MAX_AUDIT,
    };
    this.reads = new ClickHouseReads(this.ch, this.o, this.now);
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

  // ---- rates and raw events: no ledger in them (clickhouse-reads.ts) ------------------------

  currentRates(q: RatesQuery): Promise<RateRow[]> {
    return this.reads.currentRates(q);
  }

  series(q: SeriesQuery): Promise<SeriesPoint[] | undefined> {
    return this.reads.series(q);
  }

  top(q: TopQuery): Promise<RateRow[]> {
    return this.reads.top(q);
  }

  terminalOwner(terminalId: string): Promise<string | undefined> {
    return this.reads.terminalOwner(terminalId);
  }

  rawEvents(q: RawEventsQuery): Promise<DrillDown> {
    return this.reads.rawEvents(q);
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
    return alerts
      .map((a) => this.record(a, tl.get(a.alertId) ?? [], ac.get(a.alertId) ?? []))
      .sort(newestFirst);
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
    const action = actionFromInput(input, this.now());
    await insertAlertActions(this.ch, [
      {
        ...action,
        alertId,
        kind: action.kind === 'acknowledge' ? 'ack' : action.kind,
        assignee: action.assignee ?? '',
        note: action.note ?? '',
        author: action.author ?? '',
      },
    ]);
    // read back: the trail as stored is what the caller and the room must see
    let after = await this.getAlert(alertId, bound);
    let entry = after?.audit.find((e) => e.id === action.actionId);
    if (!after || !entry) {
      // not readable yet: the ledger's fold of what was just written
      after = rec;
      entry = recordAction(rec, action, this.o.maxAuditPerAlert);
    }
    this.emit({ type: 'audit', record: after, entry });
    return after;
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
      const r = parseAlert(v);
      if ('reason' in r) {
        invalid++;
        this.log?.warn({ reason: r.reason }, 'alert rejected');
        continue;
      }
      alerts.push(r.alert);
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
      const rows = await this.reads.rateChanges();
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
      rates: this.reads.tracked,
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

  /** An alert with its workflow and trail, folded by the ledger from what is stored. */
  private record(
    alert: Alert,
    timeline: readonly AlertTimelineRow[],
    actions: readonly AlertAction[],
    silenceAt = Date.parse(alert.ts),
  ): AlertRecord {
    const rec = buildRecord(alert, timeline, actions.map(toLedgerAction), this.o.maxAuditPerAlert);
    applySilences(rec, this.silences, silenceAt);
    return rec;
  }
}

/** A row of alert_actions in the ledger's words (the table says `ack`). */
function toLedgerAction(a: AlertAction): LedgerAction {
  return {
    actionId: a.actionId,
    kind: a.kind === 'ack' ? 'acknowledge' : a.kind,
    actor: a.actor,
    role: a.role,
    assignee: a.assignee,
    note: a.note,
    author: a.author,
    ts: a.ts,
  };
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
