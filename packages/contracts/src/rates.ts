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
