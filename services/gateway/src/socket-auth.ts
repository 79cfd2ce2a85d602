import type { SocketAuthError } from '@tillwatch/contracts';
import type { KeyRing, Principal } from './auth';
import { clientAddress, type FailedAuthLimiter, type TrustProxy } from './auth-limit';
import { retryAfterSeconds } from './errors';
import type { GatewayIo } from './socket';

/**
 * `connect_error` data: the contract's 401, or a 429 (too many refused credentials from this
 * address or for this key, or too many sockets on one key). The board treats anything but
 * 'unauthorized' as "try again later".
 */
/** (the contract's SocketAuthError: 401, or 429 past the limits) */
export type SocketRefusal = SocketAuthError;

export interface SocketGuardOptions {
  keyRing: KeyRing;
  failures: FailedAuthLimiter;
  trust: TrustProxy | undefined;
  socketsPerKey: number;
}

/** What a recovering client's CONNECT carries besides its credential. */
interface RecoveryAuth extends Record<string, unknown> {
  pid?: unknown;
  offset?: unknown;
}

/** socket.io's Namespace as far as this file reaches into it (see bindRecovery). */
interface NamespaceInternals {
  _add(client: unknown, auth: RecoveryAuth, fn: unknown): Promise<void>;
  adapter: {
    restoreSession(pid: string, offset: string): Promise<{ data?: unknown } | null> | null;
  };
}

const tokenOf = (auth: unknown): string | undefined => {
  const t = (auth as { token?: unknown } | undefined)?.token;
  return typeof t === 'string' ? t : undefined;
};

function refusal(data: SocketRefusal): Error & { data: SocketRefusal } {
  return Object.assign(new Error(data.error), { data });
}

/**
 * Who may open a socket, installed on the root namespace before anything is sent:
 * - the handshake's `auth.token` is checked in middleware; refused credentials count against
 *   the client address and the key prefix exactly as REST's do (one FailedAuthLimiter), and
 *   past the limit the key is not looked at (429 `rate_limited`);
 * - at most `socketsPerKey` sockets per key (429 past that): 1,000 sockets on one analyst key
 *   pulled 2.67 GB in 8 s;
 * - a session is recovered only for the principal that owned it (bindRecovery).
 */
export function guardSockets(io: GatewayIo, opts: SocketGuardOptions): void {
  const open = new Map<Principal, number>();
  const addressOf = (req: Parameters<typeof clientAddress>[0]) => clientAddress(req, opts.trust);

  /** The principal the handshake may act as, or why not; counts a refused credential. */
  const admit = (auth: unknown, client: string): Principal | SocketRefusal => {
    const token = tokenOf(auth);
    const wait = opts.failures.retryAfterMs(client, token);
    if (wait > 0) {
      const s = retryAfterSeconds(wait);
      return {
        status: 429,
        error: 'rate_limited',
        message: `too many refused credentials from this address or for this key; retry in ${s} s`,
        retryAfter: s,
      };
    }
    const p = opts.keyRing.authenticate(token);
    if (p) return p;
    opts.failures.fail(client, token);
    return { status: 401, error: 'unauthorized', message: 'send auth: { token: <api key> }' };
  };

  bindRecovery(io, (auth, req) => {
    // no counting here: the middleware judges the same handshake right after and counts it
    const token = tokenOf(auth);
    if (opts.failures.retryAfterMs(addressOf(req), token) > 0) return undefined;
    return opts.keyRing.authenticate(token);
  });

  io.use((socket, next) => {
    const r = admit(socket.handshake.auth, addressOf(socket.request));
    if ('error' in r) return next(refusal(r));
    if ((open.get(r) ?? 0) >= opts.socketsPerKey) {
      return next(
        refusal({
          status: 429,
          error: 'rate_limited',
          message: `this key has ${opts.socketsPerKey} sockets open, the most allowed: close one (GATEWAY_SOCKETS_PER_KEY)`,
        }),
      );
    }
    socket.data.principal = r;
    next();
  });
  // counted on connection, not in the middleware: a handshake that passed it but whose client
  // went away before connecting never connects, so it must not hold a place
  io.on('connection', (socket) => {
    const p = socket.data.principal;
    open.set(p, (open.get(p) ?? 0) + 1);
    socket.once('disconnect', () => {
      const n = (open.get(p) ?? 1) - 1;
      if (n > 0) open.set(p, n);
      else open.delete(p);
    });
  });
}

/**
 * socket.io's connection state recovery builds the socket from the stored session (its rooms,
 * its `data`, and every missed packet, written out at once) before any middleware runs, and the
 * session is found by the `pid` the client presents, whoever it is. So a merchant key with an
 * analyst's pid got the analysts' room, and a bogus token got the missed frames before its 401.
 * socket.io offers no hook between the CONNECT packet and the session lookup, so this wraps the
 * namespace's `_add` (socket.io 4.6+): the pid and offset are passed on only when the presented
 * key is valid (and not rate-limited) and is the principal stored with that session; otherwise
 * the handshake goes on as a fresh one, which the middleware then judges like any other.
 * Fails at start, not open, if socket.io's internals change.
 */
function bindRecovery(
  io: GatewayIo,
  principalOf: (
    auth: RecoveryAuth,
    req: Parameters<typeof clientAddress>[0],
  ) => Principal | undefined,
): void {
  const nsp = io.of('/') as unknown as NamespaceInternals;
  const add = nsp._add;
  if (typeof add !== 'function' || typeof nsp.adapter?.restoreSession !== 'function') {
    throw new Error(
      'socket.io internals changed (Namespace._add / adapter.restoreSession): session recovery cannot be bound to its key; check socket-auth.ts',
    );
  }
  nsp._add = async function (this: NamespaceInternals, client, auth, fn) {
    return add.call(this, client, await recoverable(this, client, auth), fn);
  };

  async function recoverable(
    self: NamespaceInternals,
    client: unknown,
    auth: RecoveryAuth,
  ): Promise<RecoveryAuth> {
    if (auth.pid === undefined && auth.offset === undefined) return auth;
    const { pid, offset, ...fresh } = auth;
    const req = (client as { request?: Parameters<typeof clientAddress>[0] }).request;
    const p = req && principalOf(auth, req);
    if (!p || typeof pid !== 'string' || typeof offset !== 'string') return fresh;
    // restoreSession only reads (the in-memory adapter keeps the session until it expires);
    // socket.io calls it again right after, for the packets missed until then
    let session: { data?: unknown } | null = null;
    try {
      session = await self.adapter.restoreSession(pid, offset);
    } catch {
      // a failing adapter means no recovery, as in socket.io's own lookup, not a rejected _add
    }
    const owner = (session?.data as { principal?: Principal } | undefined)?.principal;
    return owner && samePrincipal(owner, p) ? auth : fresh;
  }
}

/** Field by field: a clustered adapter keeps `data` serialised, not the KeyRing's object. */
function samePrincipal(a: Principal, b: Principal): boolean {
  return a.id === b.id && a.role === b.role && a.merchantId === b.merchantId;
}

/**
 * Close the sockets whose key the ring no longer accepts (a key revoked on the admin screen):
 * a revoked key must not keep receiving alerts on a socket opened before.
 */
export function dropRefusedSockets(io: GatewayIo, keyRing: KeyRing): number {
  let dropped = 0;
  for (const socket of io.of('/').sockets.values()) {
    if (!keyRing.authenticate(tokenOf(socket.handshake.auth))) {
      socket.disconnect(true);
      dropped++;
    }
  }
  return dropped;
}
