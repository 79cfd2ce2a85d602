import type { Principal, Role } from '../auth';
import { forbidden } from '../errors';

export const READERS: readonly Role[] = ['analyst', 'sre', 'admin', 'merchant'];
export const STAFF: readonly Role[] = ['analyst', 'sre', 'admin'];

/** The merchant a caller is bound to (undefined: sees the whole fleet). */
export function boundMerchant(p: Principal): string | undefined {
  return p.role === 'merchant' ? p.merchantId : undefined;
}

/**
 * A merchant naming another merchant explicitly (a filter or a merchant key) gets 403;
 * a resource addressed by id that is not theirs (alert, terminal) gets 404, so its
 * existence is not revealed. Both are enforced here and in the store queries.
 */
export function requireOwnMerchant(p: Principal, merchantId: string | undefined): void {
  const own = boundMerchant(p);
  if (own !== undefined && merchantId !== undefined && merchantId !== own) {
    throw forbidden(`a merchant key may read only merchant ${own}`);
  }
}

/** Aggregates over scopes that mix merchants (region, firmware, issuer, fleet) are staff-only. */
export function requireMerchantScope(p: Principal, scope: string | undefined): void {
  if (
    boundMerchant(p) !== undefined &&
    scope !== undefined &&
    scope !== 'terminal' &&
    scope !== 'merchant'
  ) {
    throw forbidden(`scope ${scope} aggregates other merchants' terminals: staff only`);
  }
}
