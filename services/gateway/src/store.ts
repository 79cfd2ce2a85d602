import type {
  Alert,
  AlertWorkflow,
  AuditEntry,
  Category,
  RateRow,
  RuleId,
  RuleVerdictCounts,
  Scope,
  Severity,
  SilenceRecurrence,
  TerminalEvent,
  Verdict,
} from '@tillwatch/contracts';
import type { Role } from './auth';

// Audit lines and workflows reach boards over socket.io and REST: their types are the
// contract's (packages/contracts/src/socket.ts), re-exported for the stores.
export {
  AUDIT_ACTIONS,
  type AlertWorkflow,
  type AuditActionKind,
  type AuditEntry,
  type WorkflowState,
} from '@tillwatch/contracts';

/**
 * What the gateway needs from storage. MemoryStore implements it for the embedded mode; a
 * ClickHouse-backed store implements the same reads over pane_counts / alerts / raw_events.
 * Every read takes the caller's merchant bound (`merchantId`) so scoping is enforced where the
 * data lives, not only in the routes.
 */
export type RateScope = RateRow['scope'];
export const RATE_SCOPES = [
  'terminal',
  'merchant',
  'region',
  'firmware',
  'issuer',
  'fleet',
] as const;
export const RANK_METRICS = [
  'faultRate',
  'failureRate',
  'reversalRate',
  'noSettlementRate',
  'volumeDrop',
] as const;
export type RankMetric = (typeof RANK_METRICS)[number];

export interface RatesQuery {
  scope?: RateScope;
  window?: string;
  key?: string;
  merchantId?: string;
  region?: string;
  limit?: number;
}

export interface SeriesQuery {
  scope: RateScope;
  key: string;
  window: string;
  /** epoch ms, inclusive */
  since?: number;
  until?: number;
  /** Merchant bound: a terminal/merchant key of another merchant yields undefined. */
  merchantId?: string;
}

export interface SeriesPoint {
  ts: string;
  auths: number;
  failureRate: number;
  faultRate: number;
  reversalRate: number;
  noSettlementRate: number;
  volumeRatio: number | null;
}

export interface TopQuery {
  scope: RateScope;
  window: string;
  metric: RankMetric;
  n: number;
  /** Rows with fewer auths are not ranked: 2 failures out of 3 is no signal. */
  minAuths: number;
  merchantId?: string;
  region?: string;
}

export interface AlertFilter {
  status?: Alert['status'];
  rule?: RuleId;
  scope?: Scope;
  severity?: Severity;
  merchantId?: string;
  region?: string;
  key?: string;
  /** epoch ms: alerts whose lastSeen >= since */
  since?: number;
  limit: number;
}

export interface AlertRecord {
  /** the latest transition as the engine sent it */
  alert: Alert;
  workflow: AlertWorkflow;
  audit: AuditEntry[];
  /** id of the silence that matched when the transition arrived */
  silencedBy?: string;
}

/** The merchant a caller is bound to; absent for staff. */
export interface MerchantBound {
  merchantId?: string;
}

/** True when the alert belongs to the merchant (its merchantId, or a merchant-scope key). */
export function alertOwnedBy(a: Alert, merchantId: string): boolean {
  return a.merchantId === merchantId || (a.scope === 'merchant' && a.key === merchantId);
}

export interface AlertActionInput {
  action: 'acknowledge' | 'assign' | 'note' | 'resolve';
  actor: string;
  role: Role;
  author?: string;
  note?: string;
  assignee?: string;
  /** required by the route for `resolve` (closing asks for a verdict); ignored otherwise */
  verdict?: Verdict;
}

/**
 * One step of the workflow: the API's actions, and `unack`, which the stored action log
 * (alert_actions) may hold although the API offers no route for it.
 */
export interface WorkflowAction {
  kind: AlertActionInput['action'] | 'unack';
  /** verified identity of who acted */
  actor: string;
  /** for `assign`; empty or absent leaves the assignee as it was */
  assignee?: string;
  /** for `resolve`: the analyst's verdict; absent on resolutions stored before verdicts existed */
  verdict?: Verdict;
}

/**
 * The workflow after one action at `at` (ISO-8601), as both stores fold their actions. Pure:
 * the workflow passed in is left as it was.
 * - acknowledge: open becomes acknowledged; a resolved alert stays resolved (an ack does not
 *   reopen it). Who and when are recorded either way, the latest ack winning.
 * - unack: acknowledged goes back to open and forgets who acknowledged; open or resolved stay.
 * - assign: sets the assignee, whatever the state.
 * - resolve: resolved from any state, with who and when, and its verdict. Latest wins: a later
 *   resolve with a verdict replaces the earlier verdict with who gave it and when (an alert
 *   closed as `expected` and found to be real is closed again as `true_incident`); a resolve
 *   without one (stored before verdicts existed) leaves the verdict as it was.
 * - note: only the audit trail changes.
 */
export function applyWorkflowAction(
  workflow: Readonly<AlertWorkflow>,
  action: WorkflowAction,
  at: string,
): AlertWorkflow {
  const next: AlertWorkflow = { ...workflow };
  switch (action.kind) {
    case 'acknowledge':
      if (next.state === 'open') next.state = 'acknowledged';
      next.acknowledgedBy = action.actor;
      next.acknowledgedAt = at;
      break;
    case 'unack':
      if (next.state === 'acknowledged') {
        next.state = 'open';
        delete next.acknowledgedBy;
        delete next.acknowledgedAt;
      }
      break;
    case 'assign':
      if (action.assignee) next.assignee = action.assignee;
      break;
    case 'resolve':
      next.state = 'resolved';
      next.resolvedBy = action.actor;
      next.resolvedAt = at;
      if (action.verdict) {
        next.verdict = action.verdict;
        next.verdictBy = action.actor;
        next.verdictAt = at;
      }
      break;
    case 'note':
      break;
  }
  return next;
}

export interface RawEventsQuery {
  terminalId?: string;
  merchantId?: string;
  region?: string;
  firmware?: string;
  issuerId?: string;
  txnIds?: readonly string[];
  since?: number;
  until?: number;
  limit: number;
  /** what the entity page's transaction filters ask: all given must hold */
  responseCode?: string;
  category?: Category;
  type?: TerminalEvent['type'];
  cardFingerprint?: string;
  /** amount in minor units (fen), inclusive; events without an amount never match a bound */
  minAmount?: number;
  maxAmount?: number;
}

export interface DrillDown {
  events: TerminalEvent[];
  /** auths by response code, with the code's category */
  responseCodes: { code: string; category: string; count: number }[];
  /** how many matching events the store holds (events is capped at the limit) */
  matched: number;
  from?: string;
  to?: string;
}

/** The period of the precision report (GET /api/quality). */
export interface VerdictQuery {
  /** epoch ms: episodes whose firstSeen is at or after this */
  since: number;
  /** a merchant caller: only its own alerts' episodes and verdicts */
  merchantId?: string;
}

export interface Silence {
  id: string;
  /** what to mute: every given field must equal the alert's (rule/scope/key/merchantId/region) */
  matchers: { rule?: RuleId; scope?: Scope; key?: string; merchantId?: string; region?: string };
  startsAt: string;
  endsAt: string;
  /** a daily window within [startsAt, endsAt) (a maintenance slot); always on when absent */
  recurring?: SilenceRecurrence;
  comment: string;
  createdBy: string;
  createdAt: string;
}
export type SilenceInput = Omit<Silence, 'id' | 'createdBy' | 'createdAt'>;

/** What the store tells subscribers; the socket layer turns these into room broadcasts. */
export type StoreEvent =
  | { type: 'rates'; rows: RateRow[] }
  | { type: 'alert'; record: AlertRecord }
  | { type: 'audit'; record: AlertRecord; entry: AuditEntry };

/**
 * Auths per region in ranges [start, start + spanMs), each cut into buckets of bucketMs.
 * Starts and bucketMs are whole minutes and the ranges do not overlap (TrafficPlan keeps both).
 */
export interface RegionAuthsQuery {
  starts: readonly number[];
  spanMs: number;
  bucketMs: number;
}

/** Auths of one region in one bucket (0-based) of the range starting at `start`; 0s left out. */
export interface RegionAuthCount {
  region: string;
  start: number;
  bucket: number;
  auths: number;
}

export interface GatewayStore {
  currentRates(q: RatesQuery): Promise<RateRow[]>;
  /** Auth events counted per region and bucket (the region view's traffic and its normal). */
  regionAuths(q: RegionAuthsQuery): Promise<RegionAuthCount[]>;
  /**
   * Up to when regionAuths has every auth, when that is before `now` (the ClickHouse store reads
   * the processor's region rows, written once a boundary closes); absent: up to `now`.
   */
  regionTrafficUpTo?(now: number): Promise<number>;
  series(q: SeriesQuery): Promise<SeriesPoint[] | undefined>;
  top(q: TopQuery): Promise<RateRow[]>;
  /** Owner of a terminal as last seen in rates or events (for merchant scoping). */
  terminalOwner(terminalId: string): Promise<string | undefined>;

  listAlerts(f: AlertFilter): Promise<AlertRecord[]>;
  /** With `merchantId` (a merchant caller), another merchant's alert is undefined. */
  getAlert(alertId: string, bound?: MerchantBound): Promise<AlertRecord | undefined>;
  applyAction(
    alertId: string,
    input: AlertActionInput,
    bound?: MerchantBound,
  ): Promise<AlertRecord | undefined>;
  rawEvents(q: RawEventsQuery): Promise<DrillDown>;
  /**
   * Per rule: episodes raised since `since` and how many carry each verdict (an episode's
   * latest verdict, as its workflow shows it). Rules with nothing raised may be left out.
   */
  ruleVerdicts(q: VerdictQuery): Promise<RuleVerdictCounts[]>;

  listSilences(opts?: { activeAt?: number }): Promise<Silence[]>;
  getSilence(id: string): Promise<Silence | undefined>;
  createSilence(input: SilenceInput, createdBy: string): Promise<Silence>;
  updateSilence(id: string, input: SilenceInput): Promise<Silence | undefined>;
  deleteSilence(id: string): Promise<boolean>;
  /** Fires after every create/update/delete with the full list; returns its unsubscribe. */
  onSilencesChanged(listener: (silences: readonly Silence[]) => void): () => void;

  /** Live feed for the socket layer; returns its unsubscribe. */
  subscribe(listener: (e: StoreEvent) => void): () => void;
  stats(): { rates: number; alerts: number; events: number; series: number };
  close(): Promise<void>;
}

// one rule for the gateway and the board: packages/contracts/src/silence-match.ts
export { silenceMatches } from '@tillwatch/contracts';
