import { RULE_SCOPES, type Alert } from './alerts';

/**
 * What a stream of alert transitions promises its readers (docs/contract.md §3), checked over a
 * whole stream: each episode (`alertId`) begins with a `firing`, keeps its rule, scope, key,
 * merchant, region and `firstSeen`, never lowers its severity, resolves at most once and then
 * says nothing more, and its resolve carries the severity and confidence it last fired with; a
 * `low` or `medium` alert is never `critical`; a terminal's alert names its merchant and region;
 * event times move forward within an episode (and `lastSeen` is never after `ts`); its figures
 * are finite numbers; it carries probable causes and actions; and one (rule, scope, key) has at most one episode
 * open at a time. Returns one readable line per breach (empty when the stream keeps them all).
 */
export type AlertTransition = Pick<
  Alert,
  | 'alertId'
  | 'rule'
  | 'severity'
  | 'status'
  | 'scope'
  | 'key'
  | 'merchantId'
  | 'region'
  | 'confidence'
  | 'firstSeen'
  | 'lastSeen'
  | 'ts'
> &
  Partial<Pick<Alert, 'value' | 'threshold' | 'baseline' | 'probableCauses' | 'actions'>>;

const RANK = { info: 0, warning: 1, critical: 2 } as const;

interface Open {
  first: AlertTransition;
  last: AlertTransition;
  resolved: boolean;
}

export function alertStreamFaults(stream: Iterable<AlertTransition>, max = 50): string[] {
  const faults: string[] = [];
  const byId = new Map<string, Open>();
  /** (rule, scope, key) → the alertId of its open episode */
  const openFor = new Map<string, string>();
  let n = 0;
  const fault = (a: AlertTransition, why: string) => {
    if (faults.length < max) {
      faults.push(
        `#${n} ${a.status} ${a.rule} ${a.scope}/${a.key} (${a.alertId}) at ${a.ts}: ${why}`,
      );
    }
  };
  for (const a of stream) {
    n++;
    if (!RULE_SCOPES[a.rule]?.includes(a.scope)) fault(a, `${a.rule} is not raised on ${a.scope}`);
    if (a.severity === 'critical' && (a.confidence === 'low' || a.confidence === 'medium')) {
      fault(a, `critical with ${a.confidence} confidence`);
    }
    if (a.scope === 'terminal' && (a.merchantId === undefined || a.region === undefined)) {
      fault(a, 'a terminal alert without its merchant and region');
    }
    if (Date.parse(a.firstSeen) > Date.parse(a.lastSeen)) fault(a, 'firstSeen after lastSeen');
    if (Date.parse(a.lastSeen) > Date.parse(a.ts)) fault(a, 'lastSeen after ts');
    for (const f of ['value', 'threshold', 'baseline'] as const) {
      // (NaN and Infinity are written as null: the line would break the schema)
      if (f in a && !Number.isFinite(a[f])) fault(a, `${f} is ${String(a[f])}`);
    }
    for (const f of ['probableCauses', 'actions'] as const) {
      if (f in a && !a[f]?.length) fault(a, `no ${f}`);
    }
    const slot = `${a.rule}|${a.scope}|${a.key}`;
    const ep = byId.get(a.alertId);
    if (!ep) {
      if (a.status !== 'firing') fault(a, 'an episode that begins with a resolve');
      const other = openFor.get(slot);
      if (other !== undefined) fault(a, `opens while ${other} is still open for the same key`);
      byId.set(a.alertId, { first: a, last: a, resolved: a.status === 'resolved' });
      if (a.status === 'firing') openFor.set(slot, a.alertId);
      continue;
    }
    const { first, last } = ep;
    if (ep.resolved) fault(a, 'a transition after the resolve');
    for (const f of ['rule', 'scope', 'key', 'merchantId', 'region', 'firstSeen'] as const) {
      if (a[f] !== first[f]) fault(a, `${f} changed within the episode (${first[f]} → ${a[f]})`);
    }
    if (Date.parse(a.ts) < Date.parse(last.ts)) fault(a, `ts goes back from ${last.ts}`);
    if (a.status === 'firing') {
      if (RANK[a.severity] < RANK[last.severity]) {
        fault(a, `severity lowered from ${last.severity} to ${a.severity}`);
      }
    } else {
      if (a.severity !== last.severity) {
        fault(a, `resolves as ${a.severity}, last sent as ${last.severity}`);
      }
      if ((a.confidence ?? 'high') !== (last.confidence ?? 'high')) {
        fault(
          a,
          `resolves with ${a.confidence ?? 'high'} confidence, last sent with ${last.confidence ?? 'high'}`,
        );
      }
      ep.resolved = true;
      if (openFor.get(slot) === a.alertId) openFor.delete(slot);
    }
    ep.last = a;
  }
  return faults;
}
