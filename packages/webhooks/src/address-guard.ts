import ipaddr from 'ipaddr.js';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, Socket, type LookupFunction, type TcpNetConnectOpts } from 'node:net';
import type { Agent } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/**
 * SSRF guard for webhook targets.
 *
 * The rule is an allow-list: an address passes only if it is global unicast. IPv4: ipaddr.js's
 * `unicast` (it already sets apart loopback, RFC 1918, link-local 169.254/16, CGNAT 100.64/10,
 * 0/8, multicast, broadcast, the IETF/TEST-NET/benchmarking/240/4 reserved blocks). IPv6: inside
 * 2000::/3, the only block IANA allocates as global unicast, *and* ipaddr.js's `unicast` (which
 * sets apart 6to4 2002::/16, Teredo 2001::/32, documentation, ORCHID, benchmarking and AS112
 * inside it). Everything else is refused, among it every form that carries an IPv4 address
 * inside an IPv6 one — IPv4-compatible ::/96 (`[::7f00:1]` is 127.0.0.1 to some stacks),
 * IPv4-mapped ::ffff:0:0/96, SIIT ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4
 * and Teredo — whatever the embedded address: a webhook receiver has a plain IPv4 or IPv6
 * address, and a translator in between reaches what the embedded address reaches. A deny-list
 * (the earlier rule, ipaddr.js's `range() !== 'unicast'` alone) let ::/96 through because
 * ipaddr.js has no name for it; an allow-list fails closed on what nobody thought of.
 *
 * Enforcement happens at connect time, in the guarded http(s).Agent (request-filtering-agent's,
 * with this rule checked before its own): it checks the address the socket is about to connect
 * to (IP literals before connecting, names inside the DNS lookup the socket itself uses), so a
 * name that resolves to a public address when the URL is saved and to 127.0.0.1 later (DNS
 * rebinding) is refused on the connection that would reach it.
 *
 * `checkUrl` is an early, friendlier check (a 400 when a subscription is saved): the same rule
 * on IP literals, plus the scheme. It cannot judge names; the agent does.
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

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/** IPv6 forms that carry an IPv4 address, with where it sits (for the refusal's reason). */
const EMBEDS_V4: [name: string, cidr: [ipaddr.IPv6, number], at: (b: number[]) => number[]][] = [
  ['IPv4-compatible ::/96', ipaddr.IPv6.parseCIDR('::/96'), (b) => b.slice(12, 16)],
  ['IPv4-mapped ::ffff:0:0/96', ipaddr.IPv6.parseCIDR('::ffff:0:0/96'), (b) => b.slice(12, 16)],
  ['SIIT ::ffff:0:0:0/96', ipaddr.IPv6.parseCIDR('::ffff:0:0:0/96'), (b) => b.slice(12, 16)],
  ['NAT64 64:ff9b::/96', ipaddr.IPv6.parseCIDR('64:ff9b::/96'), (b) => b.slice(12, 16)],
  ['NAT64 64:ff9b:1::/48', ipaddr.IPv6.parseCIDR('64:ff9b:1::/48'), (b) => b.slice(12, 16)],
  ['6to4 2002::/16', ipaddr.IPv6.parseCIDR('2002::/16'), (b) => b.slice(2, 6)],
  // Teredo: the client's address, inverted, in the last 32 bits
  [
    'Teredo 2001::/32',
    ipaddr.IPv6.parseCIDR('2001::/32'),
    (b) => b.slice(12, 16).map((x) => x ^ 0xff),
  ],
];

/** Why an address is not global unicast, or undefined when it is. */
function notGlobal(addr: ipaddr.IPv4 | ipaddr.IPv6): string | undefined {
  const range = addr.range();
  if (addr.kind() === 'ipv4') return range === 'unicast' ? undefined : range;
  const v6 = addr as ipaddr.IPv6;
  for (const [name, cidr, at] of EMBEDS_V4) {
    if (v6.match(cidr)) {
      const v4 = new ipaddr.IPv4(at(v6.toByteArray())).toString();
      return `${name}, carrying ${v4} (refused whatever the IPv4 address)`;
    }
  }
  if (!v6.match(GLOBAL_UNICAST_V6)) return `outside global unicast 2000::/3 (${range})`;
  return range === 'unicast' ? undefined : range;
}

/**
 * The guard's rule for one address: global unicast only (or listed in `allowAddresses`).
 * The connect-time agent applies the same function.
 */
export function checkAddress(address: string, opts: GuardOptions = {}): GuardDecision {
  const raw = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(raw)) return { allowed: false, reason: `not an IP address: ${address}` };
  const addr = ipaddr.parse(raw);
  const range = addr.range();
  if (inAllowList(addr, raw, opts.allowAddresses ?? []))
    return { allowed: true, address: raw, range };
  const why = notGlobal(addr);
  if (why !== undefined) {
    return {
      allowed: false,
      reason: `address ${raw} is ${why}, not global unicast`,
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

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address?: string | LookupAddress[],
  family?: number,
) => void;

/** A lookup that refuses, for the whole name, any answer the guard refuses. */
function guardedLookup(inner: LookupFunction, opts: GuardOptions): LookupFunction {
  return ((hostname: string, options: LookupOptions, cb: LookupCallback) => {
    (inner as unknown as (h: string, o: LookupOptions, c: LookupCallback) => void)(
      hostname,
      options,
      (err, address, family) => {
        if (err) return cb(err);
        const list = Array.isArray(address) ? address.map((a) => a.address) : [address ?? ''];
        for (const a of list) {
          const d = checkAddress(a, opts);
          if (!d.allowed)
            return cb(new TargetRefusedError(`${hostname}: ${d.reason}; is not allowed`));
        }
        cb(null, address, family);
      },
    );
  }) as unknown as LookupFunction;
}

type ConnectionListener = (error: Error | null, socket: Duplex) => void;

/**
 * The rule above, checked before request-filtering-agent's own (which stays as a second line):
 * IP literals before connecting, names in the lookup the socket makes.
 */
function guarded(opts: GuardOptions) {
  const check = (options: TcpNetConnectOpts, listener: ConnectionListener | undefined) => {
    const host = options.host;
    if (host !== undefined && isIP(host) !== 0) {
      const d = checkAddress(host, opts);
      if (!d.allowed) {
        const err = new TargetRefusedError(`${d.reason}; is not allowed`);
        const socket = new Socket();
        if (listener) listener(err, socket);
        else socket.destroy(err);
        return { socket };
      }
    }
    const lookup = guardedLookup(options.lookup ?? (dnsLookup as unknown as LookupFunction), opts);
    return { options: { ...options, lookup } };
  };
  class Http extends RequestFilteringHttpAgent {
    override createConnection(options: TcpNetConnectOpts, listener?: ConnectionListener) {
      const r = check(options, listener);
      return r.socket ?? super.createConnection(r.options, listener);
    }
  }
  class Https extends RequestFilteringHttpsAgent {
    override createConnection(options: TcpNetConnectOpts, listener?: ConnectionListener) {
      const r = check(options, listener);
      return r.socket ?? super.createConnection(r.options, listener);
    }
  }
  return { Http, Https };
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
  const { Http, Https } = guarded(opts);
  // keepAlive: a retry storm after an outage reuses sockets instead of a TLS handshake each.
  const http = new Http({ ...filter, keepAlive: true, maxSockets: 8 });
  const https = new Https({ ...filter, keepAlive: true, maxSockets: 8 });
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
