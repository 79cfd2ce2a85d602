import type { AlertItem } from './types';

/**
 * Grouping the feed by incident. The engine folds an alert that a wider one explains (a
 * terminal's network errors during its region's outage) into that incident (the rules'
 * episode tracker): a folded alert that was never sent is only named in the incident's
 * evidence (`folded`, `foldedCount`); one sent before the incident was found carries
 * `evidence.foldedInto` = the incident's alertId, rule, scope and key. The board shows each
 * incident once, with what it explains under it.
 */

/** An alert the incident explains that the board has no alert of its own for. */
export interface ExplainedRef {
  rule: string;
  scope: string;
  key: string;
}

export interface IncidentGroup {
  item: AlertItem;
  /** alerts on the board folded into this one (in the feed's order) */
  children: AlertItem[];
  /** what its evidence names as explained, less those among `children` (up to 50) */
  explained: ExplainedRef[];
  /** how many it explains in all (evidence.foldedCount, at least the two lists' sizes) */
  explainedCount: number;
}

/** The incident an alert was folded into, when its evidence names one. */
export function foldedIntoId(i: AlertItem): string | undefined {
  const f = i.alert.evidence['foldedInto'];
  if (typeof f !== 'object' || f === null) return undefined;
  const id = (f as Record<string, unknown>)['alertId'];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

function explainedOf(i: AlertItem): ExplainedRef[] {
  const list = i.alert.evidence['folded'];
  if (!Array.isArray(list)) return [];
  const out: ExplainedRef[] = [];
  for (const x of list as unknown[]) {
    if (typeof x !== 'object' || x === null) continue;
    const { rule, scope, key } = x as Record<string, unknown>;
    if (typeof rule === 'string' && typeof scope === 'string' && typeof key === 'string') {
      out.push({ rule, scope, key });
    }
  }
  return out;
}

/**
 * The feed's alerts (already in the feed's order) as incidents: an alert folded into another
 * one among `items` goes under it, at the place of the group's first member (a critical
 * terminal alert ranked above its warning-level incident lifts the incident there). An alert
 * whose incident is not among `items` (filtered out, or gone) stands alone.
 */
export function groupByIncident(items: readonly AlertItem[]): IncidentGroup[] {
  const byId = new Map(items.map((i) => [i.alert.alertId, i]));
  const groups = new Map<string, IncidentGroup>();
  const out: IncidentGroup[] = [];
  const groupOf = (head: AlertItem): IncidentGroup => {
    let g = groups.get(head.alert.alertId);
    if (!g) {
      g = { item: head, children: [], explained: [], explainedCount: 0 };
      groups.set(head.alert.alertId, g);
      out.push(g);
    }
    return g;
  };
  for (const i of items) {
    const parentId = foldedIntoId(i);
    const parent =
      parentId !== undefined && parentId !== i.alert.alertId ? byId.get(parentId) : undefined;
    // one level: an incident is never itself folded while it explains others (episodes.ts)
    if (parent && foldedIntoId(parent) === undefined) groupOf(parent).children.push(i);
    else groupOf(i);
  }
  for (const g of out) {
    const shown = new Set(g.children.map((c) => `${c.alert.rule}|${c.alert.scope}|${c.alert.key}`));
    g.explained = explainedOf(g.item).filter((e) => !shown.has(`${e.rule}|${e.scope}|${e.key}`));
    const count = Number(g.item.alert.evidence['foldedCount']);
    g.explainedCount = Math.max(
      Number.isFinite(count) ? count : 0,
      g.children.length + g.explained.length,
    );
  }
  return out;
}
