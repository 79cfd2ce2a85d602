import {
  errorBodySchema,
  qualityReportSchema,
  type QualityReport,
  type QualityTotal,
} from '@tillwatch/contracts';
import { ConfigError, type Env } from '@tillwatch/config';
import { loadQualityConfig } from '../config';

export interface QualityOptions {
  /** the gateway's base URL; else $TILLWATCH_URL, else http://127.0.0.1:8080 (npm start) */
  url?: string;
  /** an API key; else $TILLWATCH_TOKEN */
  token?: string;
  days?: number;
  json?: boolean;
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** the environment to read TILLWATCH_URL / TILLWATCH_TOKEN from; the process's by default */
  env?: Env;
}

const DEFAULT_URL = 'http://127.0.0.1:8080';
/** a gateway that accepts the connection but never answers must not hang a script */
const TIMEOUT_MS = 30_000;

/**
 * `tillwatch quality`: the gateway's per-rule precision report (GET /api/quality) as a table,
 * or as the gateway's JSON with --json. Exit 0 with the report; 1 when the gateway refused the
 * request, could not be reached or answered something else; 2 for a usage error; 78 for a bad
 * TILLWATCH_URL / TILLWATCH_TOKEN.
 */
export async function qualityCommand(
  opts: QualityOptions,
  io: Io = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  },
): Promise<number> {
  const fail = (code: number, msg: string) => (io.err(`tillwatch quality: ${msg}\n`), code);
  let env;
  try {
    env = loadQualityConfig(io.env);
  } catch (e) {
    // a bad variable stops a command naming it, with EX_CONFIG, as every service does
    if (e instanceof ConfigError) return fail(78, e.message);
    throw e;
  }
  const base = opts.url ?? env.TILLWATCH_URL ?? DEFAULT_URL;
  const token = opts.token ?? env.TILLWATCH_TOKEN;
  if (!token)
    return fail(2, 'no API key: pass --token <key> or set TILLWATCH_TOKEN (any role may read)');
  let url: URL;
  try {
    url = new URL('/api/quality', base);
  } catch {
    return fail(2, `--url must be the gateway's base URL such as ${DEFAULT_URL}, not "${base}"`);
  }
  if (opts.days !== undefined) url.searchParams.set('days', String(opts.days));

  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return fail(
      1,
      `cannot reach the gateway at ${url.origin}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
    );
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const e = errorBodySchema.safeParse(body);
    return fail(
      1,
      `GET ${url.pathname}${url.search} → ${res.status} ${
        e.success ? `${e.data.error}: ${e.data.message}` : res.statusText || text.slice(0, 200)
      }`,
    );
  }
  const report = qualityReportSchema.safeParse(body);
  if (!report.success)
    return fail(
      1,
      `GET ${url.pathname} → ${res.status}, but not a quality report: is ${url.origin} a Tillwatch gateway?`,
    );
  io.out(opts.json ? `${JSON.stringify(report.data, null, 2)}\n` : formatQuality(report.data));
  return 0;
}

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);

/** The report as a plain-text table, one line per rule and a total. */
export function formatQuality(r: QualityReport): string {
  const head = [
    'rule',
    'raised',
    'true',
    'false',
    'expected',
    'no verdict',
    'precision',
    'no verdict %',
  ];
  const line = (name: string, q: QualityTotal) => [
    name,
    String(q.raised),
    String(q.verdicts.true_incident),
    String(q.verdicts.false_alarm),
    String(q.verdicts.expected),
    String(q.withoutVerdict),
    pct(q.precision),
    pct(q.withoutVerdictShare),
  ];
  const rows = [head, ...r.rules.map((q) => line(q.rule, q)), line('total', r.total)];
  const widths = head.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = [
    `Rule quality, last ${r.days} days (alerts first seen ${r.since} .. ${r.until})`,
    'precision = true / (true + false); expected (planned or known) counted apart',
    '',
    fmt(head),
    rule,
    ...rows.slice(1, -1).map(fmt),
    ...(r.rules.length ? [rule] : []),
    fmt(rows.at(-1)!),
  ];
  if (!r.rules.length) out.push('', 'no alerts were raised in this period');
  return `${out.join('\n')}\n`;
}
