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
