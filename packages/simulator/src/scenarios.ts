import type { IncidentContext, IncidentRequest } from './incident-context';
import { incidentKit } from './incident-kit';
import {
  cardTesting,
  failedButCharged,
  inputErrors,
  reversalStorm,
  terminalFault,
  terminalNetwork,
  terminalSilent,
} from './incidents-terminal';
import {
  carrierOutage,
  firmwareRegression,
  issuerOutage,
  regionalOutage,
  settlementGap,
} from './incidents-wide';
import type { Rng } from './rng';
import type { Incident } from './types';

export { SCENARIO_SPECS } from './scenario-specs';
export {
  emptyUsed,
  type IncidentContext,
  type IncidentRequest,
  type UsedTargets,
} from './incident-context';
export { faultLatency } from './fault-codes';
export { placeAtClosing, placeIncident } from './placement';

/** Build one incident: choose its target, its effects and its label. */
export function buildIncident(
  ctx: IncidentContext,
  req: IncidentRequest,
  rng: Rng,
  ordinal: number,
): Incident {
  const kit = incidentKit(ctx, req, rng, ordinal);
  switch (req.scenario) {
    case 'regional-outage-errors':
    case 'regional-outage-silence':
    case 'outage-at-closing':
      return regionalOutage(kit);
    case 'carrier-outage':
      return carrierOutage(kit);
    case 'terminal-fault':
      return terminalFault(kit);
    case 'terminal-network':
      return terminalNetwork(kit);
    case 'reversal-storm':
      return reversalStorm(kit);
    case 'failed-but-charged':
      return failedButCharged(kit);
    case 'settlement-gap':
      return settlementGap(kit);
    case 'input-errors':
      return inputErrors(kit);
    case 'card-testing':
      return cardTesting(kit);
    case 'firmware-regression':
      return firmwareRegression(kit);
    case 'issuer-outage':
      return issuerOutage(kit);
    case 'terminal-silent':
      return terminalSilent(kit);
  }
}
