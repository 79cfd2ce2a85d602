import type { RuleId, Scope } from '@tillwatch/contracts';
import type { Fleet } from './fleet';
import type { IncidentContext, IncidentRequest, UsedTargets } from './incident-context';
import type { Rng } from './rng';
import { SCENARIO_SPECS } from './scenario-specs';
import { pickBusyTerminal, terminalIndexById } from './targets';
import type { IncidentLabel, IncidentScenario, LabelMatch } from './types';

const iso = (ms: number) => new Date(ms).toISOString();

export interface TerminalTarget {
  t: number;
  tid: string;
  mid: string;
  region: string;
  merchant: number;
}

/** What every scenario's builder works from: the request, its rng and shared helpers. */
export interface IncidentKit {
  ctx: IncidentContext;
  req: IncidentRequest;
  rng: Rng;
  ordinal: number;
  fleet: Fleet;
  /** the run's intensity */
  k: number;
  used: UsedTargets;
  scenario: IncidentScenario;
  start: number;
  end: number;
  /** terminals in the fleet (the length of every mask) */
  nT: number;
  /** the fields every incident starts from */
  base: { issuer: number; silence: boolean; start: number; end: number };
  /** an effect probability scaled by intensity, capped */
  p(base: number, cap: number): number;
  label(
    key: string,
    extra: Partial<IncidentLabel> & { description: string; params: IncidentLabel['params'] },
  ): IncidentLabel;
  /** the target of a terminal-scope incident: the requested one or a busy one; marked used */
  terminalIncident(): TerminalTarget;
}

export const labelMatch = (rule: RuleId, scope: Scope, key: string): LabelMatch => ({
  rule,
  scope,
  key,
});

export function incidentKit(
  ctx: IncidentContext,
  req: IncidentRequest,
  rng: Rng,
  ordinal: number,
): IncidentKit {
  const { fleet, intensity: k, used } = ctx;
  const { scenario, start, end } = req;
  const spec = SCENARIO_SPECS[scenario];
  const nT = fleet.terminals.length;
  const p = (base: number, cap: number) => Math.min(cap, base * k);

  const label = (
    key: string,
    extra: Partial<IncidentLabel> & { description: string; params: IncidentLabel['params'] },
  ): IncidentLabel => ({
    id: `${scenario}#${ordinal}`,
    scenario,
    rule: spec.rule,
    scope: spec.scope,
    key,
    start,
    end,
    startIso: iso(start),
    endIso: iso(end),
    detectFrom: start,
    detectUntil: end,
    alsoMatches: [],
    ...extra,
  });

  const terminalIncident = (): TerminalTarget => {
    const t =
      req.key !== undefined
        ? terminalIndexById(fleet, req.key)
        : pickBusyTerminal(ctx, rng, start, end);
    const term = fleet.terminals[t]!;
    used.terminals.add(t);
    return {
      t,
      tid: term.id,
      mid: fleet.merchants[term.merchant]!.id,
      region: fleet.regions[term.region]!.id,
      merchant: term.merchant,
    };
  };
  const base = { issuer: -1, silence: false, start, end };

  return {
    ctx,
    req,
    rng,
    ordinal,
    fleet,
    k,
    used,
    scenario,
    start,
    end,
    nT,
    base,
    p,
    label,
    terminalIncident,
  };
}
