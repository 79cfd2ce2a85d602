import { ApiError, forbidden, unauthorized } from '@tillwatch/contracts';
import type { Principal } from './types';

export type Scope = { merchantId?: string };

/** What the caller may see: all merchants (admin) or one; throws 401/403 otherwise. */
export function access(principal: Principal | null | undefined): Scope {
  if (!principal) throw unauthorized('authentication required');
  if (principal.role === 'admin') return {};
  if (principal.role === 'merchant' && principal.merchantId) {
    return { merchantId: principal.merchantId };
  }
  throw forbidden('webhook subscriptions are managed by merchants (their own) and admins');
}

/** A merchant naming another merchant in a filter or body. */
export function ownOnly(scope: Scope, merchantId: string | undefined, message: string): void {
  if (scope.merchantId && merchantId && merchantId !== scope.merchantId) throw forbidden(message);
}

/** 404 the same way for what does not exist and for what is another merchant's. */
export const noSuch = (what: string, id: string) =>
  new ApiError(404, 'not_found', `no ${what} ${id}`);
