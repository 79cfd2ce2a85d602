import type { ClickHouse } from '@tillwatch/clickhouse';
import type { Logger } from '@tillwatch/config';
import type { RateRow, RuleVerdictCounts } from '@tillwatch/contracts';
import { ClickHouseAlerts } from './clickhouse-alerts';
import { ClickHouseReads } from './clickhouse-reads';
import { ClickHouseSilences } from './clickhouse-silences';
import { DEFAULT_MAX_AUDIT } from './ledger';
import type {
  AlertActionInput,
  AlertFilter,
  AlertRecord,
  DrillDown,
  GatewayStore,
  MerchantBound,
  RatesQuery,
  RawEventsQuery,
  RegionAuthCount,
  RegionAuthsQuery,
  SeriesPoint,
  SeriesQuery,
  Silence,
  SilenceInput,
  StoreEvent,
  TopQuery,
  VerdictQuery,
} from './store';

export interface ClickHouseStoreOptions {
  /** a client bound to the database whose migrations have run (migrate() from @tillwatch/clickhouse) */
  ch: ClickHouse;
  /** look for newly written pane rows this often and emit their keys' windows as `rates`; 0 = off. 1 s. */
  ratesPollMs?: number;
  /**
   * How far back the poll reads panes (pane start), and how far back in writer time
   * (written_ms) it looks again each time (a writer's batch lands up to maxDelay + retries
   * after its rows got their written_ms).
   */
  pollLookbackMs?: number;
  versionOverlapMs?: number;
  /** rows one poll may emit; beyond it the least worrying terminal/merchant rows wait. 5000. */
  maxRowsPerPoll?: number;
  /** re-read silences this often, so another gateway's changes reach this one. 10 s. */
  silencesRefreshMs?: number;
  /** the smallest spacing of series points (a window every pane would be 5 s): 10 s */
  seriesStepMs?: number;
  /** audit entries returned per alert (the first one, when it fired, always kept): 500 */
  maxAuditPerAlert?: number;
  logger?: Logger;
  now?: () => number;
}

/**
 * GatewayStore over ClickHouse (production mode): reads pane_counts, alerts, alert_actions,
 * events_raw and silences through @tillwatch/clickhouse's helpers, whose values all pass its
 * escaping helper after zod. A merchant's bound is part of every query's WHERE
 * (merchant_id = …), not only a filter applied after.
 *
 * Live side: the gateway feeds `ingestAlerts` from pos.alerts (alert-feed.ts) and this store
 * polls pane_counts for panes written since its last look; both become StoreEvents for the
 * socket layer, as MemoryStore's pushes do in the embedded mode.
 */
export class ClickHouseStore implements GatewayStore {
  private readonly ch: ClickHouse;
  private readonly o: Required<Omit<ClickHouseStoreOptions, 'ch' | 'logger' | 'now'>>;
  private readonly log: Logger | undefined;
  private readonly now: () => number;
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private readonly reads: ClickHouseReads;
  private readonly silences: ClickHouseSilences;
  private readonly alerts: ClickHouseAlerts;
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
      pollLookbackMs: opts.pollLookbackMs ?? 300_000,
      versionOverlapMs: opts.versionOverlapMs ?? 30_000,
      maxRowsPerPoll: opts.maxRowsPerPoll ?? 5000,
      silencesRefreshMs: opts.silencesRefreshMs ?? 10_000,
      seriesStepMs: opts.seriesStepMs ?? 10_000,
      maxAuditPerAlert: opts.maxAuditPerAlert ?? DEFAULT_MAX_AUDIT,
    };
    this.reads = new ClickHouseReads(this.ch, this.o, this.now);
    this.silences = new ClickHouseSilences(this.ch, this.now);
    this.alerts = new ClickHouseAlerts({
      ch: this.ch,
      silences: this.silences,
      maxAuditPerAlert: this.o.maxAuditPerAlert,
      emit: (e) => this.emit(e),
      logger: this.log,
      now: this.now,
    });
  }

  /** Loads the silences and starts the pollers. */
  static async open(opts: ClickHouseStoreOptions): Promise<ClickHouseStore> {
    const s = new ClickHouseStore(opts);
    await s.silences.refresh();
    if (s.o.ratesPollMs > 0) s.schedulePoll();
    if (s.o.silencesRefreshMs > 0) {
      s.silenceTimer = setInterval(() => {
        s.silences
          .refresh()
          .catch((err: unknown) => s.log?.warn({ err }, 'silences refresh failed'));
      }, s.o.silencesRefreshMs);
      s.silenceTimer.unref();
    }
    return s;
  }

  // ---- rates and raw events: no ledger in them (clickhouse-reads.ts) -----------------------

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

  regionAuths(q: RegionAuthsQuery): Promise<RegionAuthCount[]> {
    return this.reads.regionAuths(q);
  }

  regionTrafficUpTo(now: number): Promise<number> {
    return this.reads.regionTrafficUpTo(now);
  }

  rawEvents(q: RawEventsQuery): Promise<DrillDown> {
    return this.reads.rawEvents(q);
  }

  // ---- alerts (clickhouse-alerts.ts) -------------------------------------------------------

  listAlerts(f: AlertFilter): Promise<AlertRecord[]> {
    return this.alerts.list(f);
  }

  getAlert(alertId: string, bound: MerchantBound = {}): Promise<AlertRecord | undefined> {
    return this.alerts.get(alertId, bound);
  }

  applyAction(
    alertId: string,
    input: AlertActionInput,
    bound: MerchantBound = {},
  ): Promise<AlertRecord | undefined> {
    return this.alerts.applyAction(alertId, input, bound);
  }

  ruleVerdicts(q: VerdictQuery): Promise<RuleVerdictCounts[]> {
    return this.alerts.ruleVerdicts(q);
  }

  // ---- silences (clickhouse-silences.ts) ---------------------------------------------------

  listSilences(opts: { activeAt?: number } = {}): Promise<Silence[]> {
    return this.silences.list(opts);
  }

  getSilence(id: string): Promise<Silence | undefined> {
    return this.silences.get(id);
  }

  createSilence(input: SilenceInput, createdBy: string): Promise<Silence> {
    return this.silences.create(input, createdBy);
  }

  updateSilence(id: string, input: SilenceInput): Promise<Silence | undefined> {
    return this.silences.update(id, input);
  }

  deleteSilence(id: string): Promise<boolean> {
    return this.silences.delete(id);
  }

  onSilencesChanged(listener: (silences: readonly Silence[]) => void): () => void {
    return this.silences.onChanged(listener);
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
  ingestAlerts(
    values: readonly unknown[],
    opts: { persist?: boolean } = {},
  ): Promise<{ accepted: number; invalid: number }> {
    return this.alerts.ingest(values, opts);
  }

  /** One look at pane_counts for panes written since the last one; emits their keys' windows as `rates`. */
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
      alerts: this.alerts.ingested,
      events: 0,
      series: 0,
      silences: this.silences.current.length,
      rateRowsEmitted: this.rowsEmitted,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.silenceTimer) clearInterval(this.silenceTimer);
    await this.polling?.catch(() => {});
    this.listeners.clear();
    this.silences.clearListeners();
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
}
