import { wilsonLower } from '@tillwatch/contracts';
import type { AlertItem, AuditEntry, RateRow, Snapshot, Workflow } from './types';
import type { ViewParams } from './url-state';
import { silenceMatches, type Silence } from './silences';

/** z of the board's rankings: terminal_fault_spike's (packages/rules/src/default-rules.json) */
export const RANK_Z = 3.5;

/** 0 firing and open, 1 firing and acknowledged, 2 resolved by the engine, 3 closed by a person. */
export function attentionGroup(i: AlertItem): number {
  if (i.workflow.state === 'resolved') return 3;
  if (i.alert.status !== 'firing') return 2;
  return i.workflow.state === 'acknowledged' ? 1 : 0;
}

/** Alerts someone must still act on: firing, not closed by a person. */
export function needsAction(i: AlertItem): boolean {
  return attentionGroup(i) <= 1;
}

/** Whether an alert passes the feed's filters (url-state.ts): severity, rule, region, merchant,
 *  workflow state ('needs': firing and not closed), and a search on its key, merchant, region
 *  or rule. */
export function alertMatches(i: AlertItem, f: ViewParams): boolean {
  const a = i.alert;
  if (f.sev && a.severity !== f.sev) return false;
  if (f.rule && a.rule !== f.rule) return false;
  if (f.region && a.region !== f.region) return false;
  if (f.merchant && a.merchantId !== f.merchant) return false;
  if (f.state && (f.state === 'needs' ? !needsAction(i) : i.workflow.state !== f.state)) {
    return false;
  }
  return !f.q || [a.key, a.merchantId, a.region, a.rule].some((x) => contains(x, f.q!));
}

/** Whether a rate row's key, merchant or region contains the search. */
export function rowMatches(r: RateRow, q: string | undefined): boolean {
  return !q || [r.key, r.merchantId, r.region].some((x) => contains(x, q));
}

function contains(x: string | undefined, q: string): boolean {
  return x !== undefined && x.toLowerCase().includes(q.toLowerCase());
}

/** The fault rate a row has at least, RANK_Z sure. */
export function faultLowerBound(r: RateRow): number {
  return wilsonLower(r.faults, r.auths, RANK_Z);
}

const SEVERITY_ORDER: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/**
 * Everything the board shows, updated by messages as they arrive (cheap map writes) and read
 * by the views once per animation frame.
 */
export class BoardState {
  readonly rows = new Map<string, RateRow>();
  private readonly newest = new Map<string, number>();
  readonly alerts = new Map<string, AlertItem>();
  /** audit entries that arrived live, per alert (the detail view merges them) */
  readonly liveAudit = new Map<string, AuditEntry[]>();
  /** verdicts given (live `resolve` lines, and this board's own): the quality panel reloads */
  verdicts = 0;
  /** rows applied per second, for the header's "updates/s" */
  updates = 0;
  version = 0;
  /** the silences (staff: loaded from /api/silences), to show which alerts one mutes at once */
  silences: Silence[] = [];

  /** snapshots loaded (0: what the board shows is not the server's yet) */
  loads = 0;

  load(s: Snapshot): void {
    this.loads++;
    this.rows.clear();
    this.newest.clear();
    this.applyRows(s.rows);
    this.alerts.clear();
    for (const a of s.alerts) this.alerts.set(a.alert.alertId, a);
    this.version++;
  }

  applyRows(rows: readonly RateRow[]): void {
    for (const r of rows) {
      this.rows.set(`${r.scope}|${r.window}|${r.key}`, r);
      const nk = `${r.scope}|${r.window}`;
      const ts = Date.parse(r.ts);
      if (!(ts <= (this.newest.get(nk) ?? -Infinity))) this.newest.set(nk, ts);
    }
    this.updates += rows.length;
    this.version++;
  }

  applyAlert(item: AlertItem): void {
    const prev = this.alerts.get(item.alert.alertId);
    this.alerts.set(item.alert.alertId, { ...prev, ...item });
    this.version++;
  }

  applyAudit(alertId: string, entry: AuditEntry, workflow: Workflow): void {
    const a = this.alerts.get(alertId);
    if (a) a.workflow = workflow;
    const list = this.liveAudit.get(alertId) ?? [];
    list.push(entry);
    this.liveAudit.set(alertId, list);
    if (entry.action === 'resolve' && entry.verdict) this.verdicts++;
    this.version++;
  }

  /** Rows of one scope and window that are not stale (15 s behind the newest of their kind). */
  current(scope: string, window: string): RateRow[] {
    const newest = this.newest.get(`${scope}|${window}`) ?? 0;
    const out: RateRow[] = [];
    for (const r of this.rows.values()) {
      if (r.scope === scope && r.window === window && Date.parse(r.ts) >= newest - 15_000)
        out.push(r);
    }
    return out;
  }

  /**
   * The rows with faults, worst first by the lower bound of their fault rate (the bound the
   * rules judge by), so that 5 auths at 100 % do not outrank 500 at 30 % by chance, and a
   * second's new auth does not reshuffle a list of small counts.
   */
  worst(scope: string, window: string, n: number, q?: string): RateRow[] {
    return this.current(scope, window)
      .filter((r) => r.faults > 0 && rowMatches(r, q))
      .map((r) => ({ r, low: faultLowerBound(r) }))
      .sort((a, b) => b.low - a.low || b.r.faults - a.r.faults || (a.r.key < b.r.key ? -1 : 1))
      .slice(0, n)
      .map((x) => x.r);
  }

  /** What needs someone first: firing and not yet taken, firing and acknowledged, resolved by
   *  the engine, closed by a person; then severity, then most recent. */
  sortedAlerts(filter: (a: AlertItem) => boolean = () => true): AlertItem[] {
    const now = Date.now();
    return [...this.alerts.values()]
      .map((i) => this.markSilenced(i, now))
      .filter(filter)
      .sort((x, y) => {
        const fx = attentionGroup(x);
        const fy = attentionGroup(y);
        return (
          fx - fy ||
          (SEVERITY_ORDER[x.alert.severity] ?? 3) - (SEVERITY_ORDER[y.alert.severity] ?? 3) ||
          Date.parse(y.alert.lastSeen) - Date.parse(x.alert.lastSeen)
        );
      });
  }

  /** The item with the silence that mutes it now, where the gateway has not said so yet (a
   *  silence made after the alert's last transition). */
  markSilenced(i: AlertItem, now = Date.now()): AlertItem {
    if (i.silencedBy || this.silences.length === 0) return i;
    const s = this.silences.find((x) => silenceMatches(x, i.alert, now));
    return s ? { ...i, silencedBy: s.id } : i;
  }
}

/**
 * Per-room sequence check. `accept` says whether to apply a message (false: the snapshot
 * already had it) and `gap` whether messages were missed (then refetch the snapshot).
 */
export class SeqTracker {
  private readonly last = new Map<string, number>();

  reset(seqs: Record<string, number>): void {
    this.last.clear();
    for (const [room, n] of Object.entries(seqs)) this.last.set(room, n);
  }

  check(room: string, seq: number): { accept: boolean; gap: boolean } {
    const last = this.last.get(room);
    if (last !== undefined && seq <= last) return { accept: false, gap: false };
    this.last.set(room, seq);
    return { accept: true, gap: last !== undefined && seq > last + 1 };
  }
}
