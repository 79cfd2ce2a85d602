import type { Fleet } from './fleet';
import type { TradingHours } from './trading-hours';
import type { IncidentScenario } from './types';

/** Targets already taken by other incidents of the same run, so incidents never share one. */
export interface UsedTargets {
  terminals: Set<number>;
  merchants: Set<number>;
  regions: Set<number>;
  issuers: Set<number>;
}

export function emptyUsed(): UsedTargets {
  return { terminals: new Set(), merchants: new Set(), regions: new Set(), issuers: new Set() };
}

export interface IncidentContext {
  fleet: Fleet;
  /** who trades when: targets are picked among shops open through the incident */
  hours: TradingHours;
  intensity: number;
  settlementDeadlineMs: number;
  reversalGraceMs: number;
  used: UsedTargets;
  /** register a firmware version that does not exist yet; returns its index */
  addFirmware(name: string): number;
  firmwareName(index: number): string;
  /** a block of card ids nobody else uses (card testing's fresh cards) */
  freshCards(n: number): number;
}

export interface IncidentRequest {
  scenario: IncidentScenario;
  start: number;
  end: number;
  /** force the target (terminal/merchant id, region, issuer id); chosen by the seed otherwise */
  key?: string;
}
