import { RANGES, validAbsolute } from './time-range';

/**
 * The view's state in the address: `#/<path>?<params>`, so that a link reproduces what its
 * sender saw (window, language, feed filters, search), in any tab. Parsing is lenient: an
 * unknown or bad value is dropped, never an error.
 */
export interface ViewParams {
  /** stats window */
  w?: string;
  lang?: 'en' | 'zh';
  /** feed filters */
  sev?: string;
  state?: string;
  rule?: string;
  /** search: an id or part of one (terminal, merchant, region, rule) */
  q?: string;
  /** the feed's region and merchant filters (exact) */
  region?: string;
  merchant?: string;
  /** the webhooks screen's delivery status filter */
  dlv?: string;
  /** the feed grouped by incident (incidents.ts): 'incident' */
  group?: 'incident';
  /** an entity page's time range (time-range.ts): relative, or absolute from/to */
  range?: string;
  from?: string;
  to?: string;
  /** an entity page's transaction filters: code, category, type, card, issuer, amount (yuan) */
  tcode?: string;
  tcat?: string;
  ttype?: string;
  tcard?: string;
  tissuer?: string;
  tmin?: string;
  tmax?: string;
}

/** the transaction filters' keys and what each accepts */
const TXN_FILTERS = {
  tcode: /^[0-9A-Z]{2}$/,
  tcat: /^(approved|cardholder|issuer|terminal|security|timeout|other)$/,
  ttype: /^(auth|reversal|settlement|heartbeat)$/,
  tcard: /^[A-Za-z0-9_.:-]{1,128}$/,
  tissuer: /^[A-Za-z0-9_.:-]{1,32}$/,
  tmin: /^\d{1,9}(\.\d{1,2})?$/,
  tmax: /^\d{1,9}(\.\d{1,2})?$/,
} as const;
export const TXN_FILTER_KEYS = Object.keys(TXN_FILTERS) as (keyof typeof TXN_FILTERS)[];

const WINDOWS = new Set(['1m', '5m', '15m', '1h']);
const SEVERITIES = new Set(['critical', 'warning', 'info']);
/** 'needs': firing and not closed by a person (state.ts needsAction) */
const STATES = new Set(['needs', 'open', 'acknowledged', 'resolved']);
const DELIVERY_STATUSES = new Set(['pending', 'delivered', 'dead', 'cancelled']);

export function parseHash(hash: string): { path: string; params: ViewParams } {
  const i = hash.indexOf('?');
  const path = i < 0 ? hash : hash.slice(0, i);
  const raw = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
  const params: ViewParams = {};
  const w = raw.get('w');
  if (w && WINDOWS.has(w)) params.w = w;
  const lang = raw.get('lang');
  if (lang === 'en' || lang === 'zh') params.lang = lang;
  const sev = raw.get('sev');
  if (sev && SEVERITIES.has(sev)) params.sev = sev;
  const state = raw.get('state');
  if (state && STATES.has(state)) params.state = state;
  const rule = raw.get('rule');
  if (rule && /^[a-z_]{1,64}$/.test(rule)) params.rule = rule;
  for (const k of ['region', 'merchant'] as const) {
    const v = raw.get(k);
    if (v && /^[A-Za-z0-9_.:-]{1,32}$/.test(v)) params[k] = v;
  }
  const q = raw.get('q')?.trim();
  if (q) params.q = q.slice(0, 64);
  const dlv = raw.get('dlv');
  if (dlv && DELIVERY_STATUSES.has(dlv)) params.dlv = dlv;
  if (raw.get('group') === 'incident') params.group = 'incident';
  const range = raw.get('range');
  if (range && Object.hasOwn(RANGES, range)) params.range = range;
  for (const k of TXN_FILTER_KEYS) {
    const v = raw.get(k)?.trim();
    if (v && TXN_FILTERS[k].test(v)) params[k] = v;
  }
  const from = raw.get('from');
  const to = raw.get('to');
  if (from && to && validAbsolute(from, to)) {
    params.from = from;
    params.to = to;
  }
  return { path, params };
}

/** The hash with these params changed (undefined or '' removes one); keys in a fixed order. */
export function withParams(hash: string, changes: Partial<ViewParams>): string {
  const { path, params } = parseHash(hash);
  const next: Record<string, string | undefined> = { ...params, ...changes };
  const out = new URLSearchParams();
  for (const k of [
    'w',
    'lang',
    'sev',
    'state',
    'rule',
    'q',
    'region',
    'merchant',
    'dlv',
    'group',
    'range',
    'from',
    'to',
    ...TXN_FILTER_KEYS,
  ] as const) {
    const v = next[k];
    if (v) out.set(k, v);
  }
  const qs = out.toString();
  return qs ? `${path}?${qs}` : path;
}
