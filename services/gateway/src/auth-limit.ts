import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import { LRUMap } from 'mnemonist';
import { keyFingerprint } from './auth';

/**
 * Characters of a presented key that make its prefix bucket. Keys are at least 16 characters;
 * generated ones are `tw_<role>_` + random, so 16 reach 4 to 9 random characters: nobody fills
 * a real key's bucket (and locks its holder out) without already knowing part of it.
 */
export const KEY_PREFIX_CHARS = 16;

interface Window {
  count: number;
  resetAt: number;
}

export interface FailedAuthLimits {
  max: number;
  windowMs: number;
  /** buckets kept per kind (addresses, prefixes); the least recently failing go first */
  capacity?: number;
  now?: () => number;
}

/**
 * Counts refused credentials, REST and socket handshakes alike, per client address and per
 * key prefix (fixed windows). Once either bucket reached `max`, attempts are refused before
 * the key is looked at, the right key included: otherwise a guesser past the limit would still
 * learn which guess was right. Not @fastify/rate-limit: it counts every request its hook sees,
 * with no way to ask "is this address over?" first, and a socket handshake is no fastify request.
 */
export class FailedAuthLimiter {
  private readonly clients: LRUMap<string, Window>;
  private readonly prefixes: LRUMap<string, Window>;
  private readonly now: () => number;

  constructor(private readonly limits: FailedAuthLimits) {
    this.clients = new LRUMap(limits.capacity ?? 10_000);
    this.prefixes = new LRUMap(limits.capacity ?? 10_000);
    this.now = limits.now ?? Date.now;
  }

  /** Milliseconds until this client, and this key's prefix, may try again; 0: go ahead. */
  retryAfterMs(client: string, token: string | undefined): number {
    const now = this.now();
    const byClient = this.wait(this.clients.peek(client), now);
    return token === undefined
      ? byClient
      : Math.max(byClient, this.wait(this.prefixes.peek(prefixOf(token)), now));
  }

  /** One refused credential; none presented counts against the client only. */
  fail(client: string, token: string | undefined): void {
    const now = this.now();
    this.bump(this.clients, client, now);
    if (token !== undefined) this.bump(this.prefixes, prefixOf(token), now);
  }

  private wait(w: Window | undefined, now: number): number {
    if (!w || w.resetAt <= now || w.count < this.limits.max) return 0;
    return w.resetAt - now;
  }

  private bump(m: LRUMap<string, Window>, k: string, now: number): void {
    const w = m.get(k);
    if (!w || w.resetAt <= now) m.set(k, { count: 1, resetAt: now + this.limits.windowMs });
    else w.count++;
  }
}

/** A digest of the prefix, so the buckets hold no fragment of anybody's credential. */
function prefixOf(token: string): string {
  return keyFingerprint(token.slice(0, KEY_PREFIX_CHARS));
}

export type TrustProxy = (address: string, hop: number) => boolean;

/** One trust function for fastify (`trustProxy`) and the socket handshakes, so both see the
 * same client address; undefined = trust no proxy. */
export function trustProxyFn(setting: boolean | string[]): TrustProxy | undefined {
  if (setting === true) return () => true;
  if (setting === false || setting.length === 0) return undefined;
  return proxyAddr.compile(setting);
}

/** The client address of a raw request (a socket.io handshake), as fastify's `req.ip` would say. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy | undefined): string {
  return trust ? proxyAddr(req, trust) : (req.socket.remoteAddress ?? '');
}
