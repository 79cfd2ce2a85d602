import http, { type Agent, type IncomingHttpHeaders } from 'node:http';
import type { LookupFunction } from 'node:net';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';

export interface PostResult {
  statusCode?: number;
  headers: IncomingHttpHeaders;
  latencyMs: number;
  error?: string;
}

/** Enough of a receiver's error page to tell "nginx 502" from "our app said no" in the log. */
const MAX_SNIPPET_BYTES = 256;

/**
 * One POST. Never throws: every failure (refused address, DNS, reset, timeout) becomes
 * `error`. Redirects are not followed (node:http never does): a 3xx is a failed attempt.
 */
export function postWebhook(opts: {
  url: URL;
  headers: Record<string, string>;
  body: string;
  agent: Agent;
  timeoutMs: number;
  /** DNS lookup to use instead of dns.lookup; the agent still filters what it returns. */
  lookup?: LookupFunction;
}): Promise<PostResult> {
  const { url, body, agent, timeoutMs } = opts;
  const request = url.protocol === 'https:' ? https.request : http.request;
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined = undefined; // finish() may run before it is set
    const finish = (r: Omit<PostResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, latencyMs: Math.round((performance.now() - t0) * 10) / 10 });
    };
    let req: http.ClientRequest;
    try {
      req = request(
        {
          ...urlToHttpOptions(url),
          method: 'POST',
          agent,
          ...(opts.lookup ? { lookup: opts.lookup } : {}),
          headers: {
            ...opts.headers,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            'user-agent': 'tillwatch-webhooks/0.1',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < MAX_SNIPPET_BYTES) chunks.push(c);
            size += c.length;
          });
          res.on('error', (e) => finish({ headers: res.headers, error: e.message }));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const ok = status >= 200 && status < 300;
            const snippet = Buffer.concat(chunks)
              .toString('utf8')
              .slice(0, MAX_SNIPPET_BYTES)
              .trim();
            finish({
              statusCode: status,
              headers: res.headers,
              ...(ok
                ? {}
                : {
                    error:
                      status >= 300 && status < 400
                        ? `HTTP ${status}: redirect to ${res.headers.location ?? '(none)'} not followed`
                        : `HTTP ${status}${snippet ? `: ${snippet}` : ''}`,
                  }),
            });
          });
        },
      );
    } catch (e) {
      // e.g. a header value Node refuses: a failed attempt, not an exception in the dispatcher
      finish({ headers: {}, error: (e as Error).message });
      return;
    }
    // Whole-request deadline (connect + send + response), not just socket idle time.
    timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => finish({ headers: {}, error: e.message }));
    req.end(body);
  });
}
