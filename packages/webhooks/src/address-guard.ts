import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';
import type { Agent } from 'node:http';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/**
 * SSRF guard for webhook targets.
 *
 * Enforcement happens at connect time, in `request-filtering-agent`'s http(s).Agent: it checks
 * the address the socket is about to connect to (IP literals before connecting, names inside the
 * DNS lookup the socket itself uses), so a name that resolves to a public address when the URL is
 * saved and to 127.0.0.1 later (DNS rebinding) is refused on the connection that would reach it.
 * Its rule, through ipaddr.js: only `unicast` addresses pass, i.e. loopback, private (RFC 1918),
 * link-local (169.254/16, fe80::/10), CGNAT (100.64/10), multicast, broadcast, 0.0.0.0 and ::,
 * IPv4-mapped IPv6 (::ffff:0:0/96), ULA (fc00::/7), 6to4/Teredo/NAT64 and reserved ranges are
 * all refused.
 *
 * `checkUrl` is an early, friendlier check (a 400 when a subscription is saved): same ipaddr.js
 * rule on IP literals, plus the scheme. It cannot judge names; the agent does.
 *
 * Caveats (documented in docs/webhooks.md):
 * - Only requests made through `agentFor()` are guarded; an HTTP proxy (none is used here) would
 *   connect on our behalf and bypass it.
 * - If a name resolves to several addresses and any one is refused, the whole lookup is refused
 *   (Node 20 happy-eyeballs looks all of them up).
 * - Keep-alive sockets are checked when opened, not per request; they belong to one host.
 * - `allowAddresses` entries that are single IPs match by exact text ('::1' is not
 *   '0:0:0:0:0:0:0:1'); use CIDRs for ranges. Development only.
 */
export interface GuardOptions {
  /** Allow http:// targets. Development and tests only; production is https only. */
  allowHttp?: boolean;
  /** IPs or CIDRs let through although not public unicast, e.g. ['127.0.0.1'] in tests. */
  allowAddresses?: readonly string[];
}

export type GuardDecision =
  | { allowed: true; address?: string; range?: string }
  | { allowed: false; reason: string; address?: string; range?: string };

export class TargetRefusedError extends Error {
  readonly code = 'TW_WEBHOOK_TARGET_REFUSED';
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefusedError';
  }
}

function inAllowList(addr: ipaddr.IPv4 | ipaddr.IPv6, raw: string, list: readonly string[]) {
  for (const entry of list) {
    if (isIP(entry) !== 0) {
      if (entry === raw) return true;
      continue;
    }
    try {
      const cidr = ipaddr.parseCIDR(entry);
      if (addr.kind() === cidr[0].kind() && addr.match(cidr)) return true;
    } catch {
      // an invalid entry allows nothing
    }
  }
  return false;
}

/** The same rule request-filtering-agent applies at connect time (only `unicast` passes). */
export function checkAddress(address: string, opts: GuardOptions = {}): GuardDecision {
  const raw = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(raw)) return { allowed: false, reason: `not an IP address: ${address}` };
  const addr = ipaddr.parse(raw);
  const range = addr.range();
  if (inAllowList(addr, raw, opts.allowAddresses ?? []))
    return { allowed: true, address: raw, range };
  if (range !== 'unicast') {
    return {
      allowed: false,
      reason: `address ${raw} is ${range}, not public`,
      address: raw,
      range,
    };
  }
  return { allowed: true, address: raw, range };
}

/** Scheme, credentials and (for IP literals) the address. Names are judged at connect time. */
export function checkUrl(url: string, opts: GuardOptions = {}): GuardDecision {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { allowed: false, reason: 'not a valid URL' };
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && opts.allowHttp)) {
    return {
      allowed: false,
      reason: opts.allowHttp ? 'URL must be http(s)' : 'URL must be https',
    };
  }
  if (u.username || u.password) return { allowed: false, reason: 'URL must not carry credentials' };
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 || ipaddr.isValid(host)) return checkAddress(host, opts);
  if (host === '' || !host.includes('.')) {
    // single-label names ("localhost", "metadata") resolve through local search domains
    return { allowed: false, reason: `host "${host}" is not a public DNS name` };
  }
  return { allowed: true };
}

/**
 * The guarded agent for a URL's scheme. One pair of agents per option set, so keep-alive
 * sockets are reused across deliveries.
 */
export function createGuardedAgents(opts: GuardOptions = {}): {
  agentFor(url: URL): Agent;
  destroy(): void;
} {
  const filter = {
    allowPrivateIPAddress: false,
    allowMetaIPAddress: false,
    allowIPAddressList: [...(opts.allowAddresses ?? [])],
    denyIPAddressList: [],
  };
  // keepAlive: a retry storm after an outage reuses sockets instead of a TLS handshake each.
  const http = new RequestFilteringHttpAgent({ ...filter, keepAlive: true, maxSockets: 8 });
  const https = new RequestFilteringHttpsAgent({ ...filter, keepAlive: true, maxSockets: 8 });
  return {
    agentFor(url: URL) {
      if (url.protocol === 'https:') return https;
      if (url.protocol === 'http:' && opts.allowHttp) return http;
      throw new TargetRefusedError(`scheme ${url.protocol} is not allowed`);
    },
    destroy() {
      http.destroy();
      https.destroy();
    },
  };
}
