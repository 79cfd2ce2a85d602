/**
 * A webhook URL as it may appear in logs and notices: scheme, host, port and path only. The
 * query string and fragment (where receivers put their tokens: `?token=…`, `?sig=…`) and any
 * userinfo are cut; `?[redacted]` says a query was there. Something that is not a URL is not
 * echoed at all.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '[not a URL]';
  }
  const cut = u.search !== '' || u.hash !== '';
  return `${u.protocol}//${u.host}${u.pathname}${cut ? '?[redacted]' : ''}`;
}

/** Any http(s) URL inside a message (an error naming a redirect's target), redacted. */
export function redactUrlsIn(text: string): string {
  return text.replace(/\bhttps?:\/\/[^\s"'<>]+/gi, (m) => redactUrl(m));
}

/**
 * `text` without the secret parts of `url` (its query values, fragment, userinfo), wherever a
 * receiver echoed them (an error page quoting the request), and with URLs in it redacted.
 */
export function scrubUrlSecrets(text: string, url: string): string {
  let out = redactUrlsIn(text);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return out;
  }
  const parts = new Set<string>();
  for (const [k, v] of u.searchParams) for (const p of [k, v, `${k}=${v}`]) parts.add(p);
  for (const p of [u.search.slice(1), u.hash.slice(1), u.username, u.password]) parts.add(p);
  for (const p of [...parts].sort((a, b) => b.length - a.length)) {
    if (p.length < 6) continue; // too short to be a token, and would maul the message
    out = out.split(p).join('[redacted]');
    const enc = encodeURIComponent(p);
    if (enc !== p) out = out.split(enc).join('[redacted]');
  }
  return out;
}
