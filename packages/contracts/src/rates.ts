import { z } from 'zod';
import { SCOPES } from './alerts';
import { CATEGORIES } from './codes';

/**
 * One scope key's rates over one window, as the processor writes them to ClickHouse and the
 * gateway serves them (REST and the socket.io `rates` event). Rates are fractions in 0..1;
 * counts are whole numbers. `ts` is the window's end (event time).
 */
export const rateRowSchema = z.object({
  scope: z.enum([...SCOPES, 'fleet']),
  key: z.string(),
  window: z.string(),
  ts: z.iso.datetime({ offset: true }),
  merchantId: z.string().optional(),
  region: z.string().optional(),
  auths: z.number().int().nonnegative(),
  approved: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  faults: z.number().int().nonnegative(),
  byCategory: z.record(z.enum(CATEGORIES), z.number().int().nonnegative()),
  inputErrors: z.number().int().nonnegative(),
  reversals: z.number().int().nonnegative(),
  unreversedTimeouts: z.number().int().nonnegative(),
  settlementDue: z.number().int().nonnegative(),
  unsettled: z.number().int().nonnegative(),
  heartbeats: z.number().int().nonnegative(),
  failureRate: z.number().min(0).max(1),
  faultRate: z.number().min(0).max(1),
  reversalRate: z.number().min(0),
  noSettlementRate: z.number().min(0).max(1),
  /** auths in the window divided by the scope's own baseline volume (1 = normal), when known */
  volumeRatio: z.number().nonnegative().optional(),
});
export type RateRow = z.infer<typeof rateRowSchema>;

/** The figures of a RateRow that are derived from its counters rather than counted. */
export interface DerivedRates {
  /** auths not approved */
  failures: number;
  /** failures that are not the cardholder's (declined card, no funds, wrong PIN) */
  faults: number;
  /** failures / auths */
  failureRate: number;
  /** faults / auths */
  faultRate: number;
  /** reversals / auths */
  reversalRate: number;
  /** unsettled / settlementDue */
  noSettlementRate: number;
}

export function newDerivedRates(): DerivedRates {
  return {
    failures: 0,
    faults: 0,
    failureRate: 0,
    faultRate: 0,
    reversalRate: 0,
    noSettlementRate: 0,
  };
}

/**
 * The one definition of RateRow's derived figures, for every maker of rows (Monitor.rates, the
 * gateway's windows summed from pane rows): a rate is 0 when its denominator is (no auths,
 * nothing due). Counts in as numbers and figures out into `out`, so that a caller making many
 * rows reuses one object and allocates nothing per row.
 */
export function deriveRates(
  auths: number,
  approved: number,
  cardholder: number,
  reversals: number,
  settlementDue: number,
  unsettled: number,
  out: DerivedRates,
): DerivedRates {
  const failures = auths - approved;
  const faults = failures - cardholder;
  out.failures = failures;
  out.faults = faults;
  out.failureRate = auths > 0 ? failures / auths : 0;
  out.faultRate = auths > 0 ? faults / auths : 0;
  out.reversalRate = auths > 0 ? reversals / auths : 0;
  out.noSettlementRate = settlementDue > 0 ? unsettled / settlementDue : 0;
  return out;
}
