import http from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkAddress, checkUrl, createGuardedAgents } from './address-guard';
import { classifyStatus } from './schedule';

/**
 * The guard as a decision, with nothing ever connecting: the real request-filtering agents run
 * their checks, and the base Agent.createConnection they would hand an allowed address to is
 * replaced by a stub that records the call and returns an unconnected socket.
 */
type ConnectOpts = { host?: string; lookup?: LookupFn };
type LookupFn = (
  host: string,
  opts: { all?: boolean; family?: number },
  cb: (err: Error | null, address?: string | LookupAddress[], family?: number) => void,
) => void;

const handedOver: ConnectOpts[] = [];
beforeAll(() => {
  const stub = (opts: ConnectOpts) => {
    handedOver.push(opts);
    return new Socket();
  };
  vi.spyOn(http.Agent.prototype, 'createConnection').mockImplementation(stub as never);
  vi.spyOn(https.Agent.prototype, 'createConnection').mockImplementation(stub as never);
});
afterAll(() => vi.restoreAllMocks());

const agents = createGuardedAgents({});
const agent = agents.agentFor(new URL('https://example.com/')) as unknown as {
  createConnection(o: ConnectOpts & { port: number }, cb: (e: Error | null) => void): Socket;
};

/** Refused (error) or handed over for connecting (stubbed), for an IP literal or a name. */
async function connectDecision(host: string, lookup?: LookupFn): Promise<'refused' | 'allowed'> {
  const before = handedOver.length;
  const err = await new Promise<Error | null>((resolve) => {
    agent.createConnection({ host, port: 443, ...(lookup ? { lookup } : {}) }, (e) => resolve(e));
    setImmediate(() => resolve(null));
  });
  if (err) return 'refused';
  const opts = handedOver[before];
  if (!opts) throw new Error('neither refused nor handed over');
  if (!opts.lookup) return 'allowed';
  // A name: Node would now resolve it through the filtering lookup it was given.
  const resolved = await new Promise<Error | null>((resolve) =>
    opts.lookup!(host, { all: true }, (e) => resolve(e)),
  );
  return resolved ? 'refused' : 'allowed';
}

const hostile: { name: string; url: string; host: string; lookup?: LookupFn }[] = [
  { name: 'IPv4 loopback', url: 'https://127.0.0.1/hook', host: '127.0.0.1' },
  { name: 'IPv6 loopback', url: 'https://[::1]/hook', host: '::1' },
  { name: 'IPv4-mapped loopback', url: 'https://[::ffff:7f00:1]/hook', host: '::ffff:7f00:1' },
  { name: 'cloud metadata', url: 'https://169.254.169.254/latest', host: '169.254.169.254' },
  { name: 'unspecified', url: 'https://0.0.0.0/', host: '0.0.0.0' },
  { name: 'RFC 1918 10/8', url: 'https://10.0.0.1/', host: '10.0.0.1' },
  { name: 'CGNAT 100.64/10', url: 'https://100.64.0.1/', host: '100.64.0.1' },
  { name: 'RFC 1918 192.168/16', url: 'https://192.168.1.1/', host: '192.168.1.1' },
  { name: 'ULA fc00::/7', url: 'https://[fc00::1]/', host: 'fc00::1' },
  { name: 'multicast', url: 'https://224.0.0.1/', host: '224.0.0.1' },
  { name: 'link-local v6', url: 'https://[fe80::1]/', host: 'fe80::1' },
  {
    name: 'localhost (name → 127.0.0.1)',
    url: 'https://localhost/hook',
    host: 'localhost',
    lookup: dnsLookup as unknown as LookupFn,
  },
  {
    name: 'public name → 10.0.0.1',
    url: 'https://hooks.example.com/',
    host: 'hooks.example.com',
    lookup: (_h, o, cb) =>
      o.all ? cb(null, [{ address: '10.0.0.1', family: 4 }]) : cb(null, '10.0.0.1', 4),
  },
];

describe('address guard: hostile targets', () => {
  it('refuses 100% of the hostile list at connect time, every literal already at save time', async () => {
    const rows: { target: string; saveTime: string; connectTime: string }[] = [];
    for (const t of hostile) {
      const save = checkUrl(t.url);
      const connect = await connectDecision(t.host, t.lookup);
      rows.push({
        target: t.name,
        saveTime: save.allowed ? 'ALLOWED' : 'refused',
        connectTime: connect === 'allowed' ? 'ALLOWED' : 'refused',
      });
    }
    // A redirect: node:http never follows one (a 3xx is a failed attempt), and its target is
    // judged like any URL.
    const location = 'http://169.254.169.254/latest/meta-data/';
    rows.push({
      target: 'redirect to metadata',
      saveTime: checkUrl(location).allowed ? 'ALLOWED' : 'refused',
      connectTime: classifyStatus(302) === 'delivered' ? 'ALLOWED' : 'refused',
    });
    const refused = rows.filter((r) => r.connectTime === 'refused');
    console.table(rows);
    console.log(
      `address guard: ${refused.length}/${rows.length} hostile targets refused at connect time; ` +
        `${rows.filter((r) => r.saveTime === 'refused').length}/${rows.length} already at save time`,
    );
    // Connect time is the enforcement and refuses everything on its own; the save-time check
    // also refuses every literal address (only a public-looking name can pass it).
    expect(refused.length).toBe(rows.length);
    expect(rows.filter((r) => r.saveTime === 'ALLOWED').map((r) => r.target)).toEqual([
      'public name → 10.0.0.1',
    ]);
  });

  it('DNS rebinding: the address checked is the one connected to, on every connection', async () => {
    let n = 0;
    const rebinding: LookupFn = (_h, o, cb) => {
      const address = n++ === 0 ? '93.184.216.34' : '127.0.0.1';
      return o.all ? cb(null, [{ address, family: 4 }]) : cb(null, address, 4);
    };
    expect(checkUrl('https://rebind.example.net/').allowed).toBe(true);
    // first connection: public address, handed over (the stub stands in for connecting)
    expect(await connectDecision('rebind.example.net', rebinding)).toBe('allowed');
    // the next one resolves to loopback and is refused
    expect(await connectDecision('rebind.example.net', rebinding)).toBe('refused');
  });

  it('a name that resolves to a public and a private address is refused whole', async () => {
    const mixed: LookupFn = (_h, o, cb) =>
      o.all
        ? cb(null, [
            { address: '93.184.216.34', family: 4 },
            { address: '192.168.0.10', family: 4 },
          ])
        : cb(null, '192.168.0.10', 4);
    expect(await connectDecision('mixed.example.net', mixed)).toBe('refused');
  });

  it('lets public unicast through (decision only, stubbed connect)', async () => {
    expect(checkAddress('93.184.216.34').allowed).toBe(true);
    expect(checkAddress('2606:2800:220:1:248:1893:25c8:1946').allowed).toBe(true);
    expect(await connectDecision('93.184.216.34')).toBe('allowed');
  });
});

/** Finding (low) of issue 16: the guard let IPv4-compatible IPv6 through, e.g. [::7f00:1]. */
const nonGlobal: [name: string, address: string][] = [
  ['IPv4-compatible loopback ::7f00:1', '::7f00:1'],
  ['IPv4-compatible metadata ::a9fe:a9fe', '::a9fe:a9fe'],
  ['IPv4-compatible 10.0.0.1', '::a00:1'],
  ['::/8 reserved ::2', '::2'],
  ['IPv4-mapped public ::ffff:808:808', '::ffff:808:808'],
  ['SIIT ::ffff:0:7f00:1', '::ffff:0:7f00:1'],
  ['NAT64 64:ff9b::7f00:1', '64:ff9b::7f00:1'],
  ['NAT64 64:ff9b::a9fe:a9fe', '64:ff9b::a9fe:a9fe'],
  ['local NAT64 64:ff9b:1::a00:1', '64:ff9b:1::a00:1'],
  ['6to4 of 127.0.0.1', '2002:7f00:1::1'],
  ['Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
  ['discard 100::/64', '100::1'],
  ['documentation 2001:db8::/32', '2001:db8::1'],
  ['documentation 3fff::/20', '3fff::1'],
  ['site-local fec0::/10', 'fec0::1'],
  ['segment routing 5f00::/16', '5f00::1'],
  ['unallocated 4000::/3', '4000::1'],
  ['IETF 192.0.0.0/24', '192.0.0.9'],
  ['benchmarking 198.18/15', '198.18.0.1'],
  ['class E 240/4', '240.0.0.1'],
  ['broadcast', '255.255.255.255'],
];

describe('address guard: only global unicast', () => {
  it('refuses IPv4-compatible IPv6 (::/96, e.g. [::7f00:1]), NAT64 and every other non-global range, at save and at connect time', async () => {
    const rows = [];
    for (const [name, address] of nonGlobal) {
      const literal = address.includes(':') ? `[${address}]` : address;
      const toIt: LookupFn = (_h, o, cb) =>
        o.all
          ? cb(null, [{ address, family: address.includes(':') ? 6 : 4 }])
          : cb(null, address, address.includes(':') ? 6 : 4);
      rows.push({
        target: name,
        save: checkUrl(`https://${literal}/hook`).allowed ? 'ALLOWED' : 'refused',
        literal: await connectDecision(address),
        byName: await connectDecision('hooks.example.com', toIt),
      });
    }
    console.table(rows);
    const allowed = rows.filter((r) => [r.save, r.literal, r.byName].includes('ALLOWED'));
    expect(allowed).toEqual([]);
    expect(checkAddress('::7f00:1')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/IPv4-compatible.*127\.0\.0\.1/),
    });
    expect(checkAddress('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/Teredo.*192\.0\.2\.45/),
    });
  });

  it('still lets global unicast of both families through', async () => {
    for (const a of ['93.184.216.34', '8.8.8.8', '2001:4860:4860::8888', '2606:4700::1111']) {
      expect(checkAddress(a).allowed, a).toBe(true);
      expect(await connectDecision(a), a).toBe('allowed');
    }
  });
});

describe('scheme and development settings', () => {
  it('is https-only by default; http needs the explicit development setting', () => {
    expect(checkUrl('http://hooks.example.com/').allowed).toBe(false);
    expect(checkUrl('http://hooks.example.com/', { allowHttp: true }).allowed).toBe(true);
    expect(checkUrl('ftp://hooks.example.com/', { allowHttp: true }).allowed).toBe(false);
    expect(checkUrl('https://user:pw@hooks.example.com/').allowed).toBe(false);
    expect(checkUrl('not a url').allowed).toBe(false);
    expect(() => agents.agentFor(new URL('http://hooks.example.com/'))).toThrow(/not allowed/);
  });

  it('the allow-list lets exactly the listed loopback address through', async () => {
    const dev = { allowHttp: true, allowAddresses: ['127.0.0.1'] };
    expect(checkUrl('http://127.0.0.1:8080/', dev).allowed).toBe(true);
    expect(checkUrl('http://127.0.0.2:8080/', dev).allowed).toBe(false);
    expect(checkUrl('http://[::1]:8080/', dev).allowed).toBe(false);
    expect(checkAddress('127.0.0.5', { allowAddresses: ['127.0.0.0/8'] }).allowed).toBe(true);
    expect(checkAddress('::1', { allowAddresses: ['127.0.0.0/8'] }).allowed).toBe(false);
  });
});
