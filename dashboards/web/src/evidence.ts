import { categoryName, lang } from './i18n';
import { int, pct } from './format';

/**
 * An alert's evidence as people read it: one line a fact, its name in the reader's language,
 * numbers formatted (rates and shares as percentages), lists joined, code counts as "TO 41",
 * nested facts indented under their parent. The raw JSON stays available through the API.
 */
export interface EvidenceLine {
  depth: number;
  label: string;
  text: string;
}

/** names of the evidence keys the rules write (packages/rules/src/rules/*.ts), both languages */
const NAMES: Record<string, [string, string]> = {
  auths: ['Auths', '授权数'],
  count: ['Count', '次数'],
  lowerBound: ['Rate, at least', '比率下限'],
  byCategory: ['By category', '按类别'],
  topResponseCodes: ['Top response codes', '主要响应码'],
  topCodes: ['Top response codes', '主要响应码'],
  txnIds: ['Transactions', '交易'],
  transactions: ['Transactions', '交易'],
  inputErrors: ['Input errors', '输入错误'],
  reversals: ['Reversals', '冲正'],
  trigger: ['Trigger', '触发'],
  terminals: ['Terminals', '终端数'],
  errors: ['Errors', '错误数'],
  errorRate: ['Error rate', '错误率'],
  restOfFleetErrorRate: ['Error rate, rest of the fleet', '其余终端错误率'],
  regionTimeoutRate: ['Region timeout rate', '地区超时率'],
  regionAuths: ['Region auths', '地区授权数'],
  affectedTerminals: ['Terminals affected', '受影响终端'],
  affectedTerminalCount: ['Terminals affected (count)', '受影响终端数'],
  volume: ['Volume', '交易量'],
  link: ['Link', '线路'],
  network: ['Network', '网络'],
  silent: ['Silent', '静默'],
  failing: ['Failing', '故障中'],
  silentWhileShopSells: ['Silent while the shop sells on', '店铺仍在交易时静默'],
  silentNeverSwitchedOff: ['Silent, never switched off', '从不关机却静默'],
  share: ['Share', '占比'],
  timeouts: ['Timeouts', '超时'],
  unreversedTimeouts: ['Timeouts not reversed', '未冲正的超时'],
  failedReversals: ['Failed reversals', '冲正失败'],
  settledFailedSales: ['Failed sales settled', '已结算的失败交易'],
  pValue: ['Chance under normal (p)', '正常情况下的概率 (p)'],
  lastSeen: ['Last seen', '最后出现'],
  silentMinutes: ['Silent for (min)', '静默时长（分钟）'],
  expectedEvents: ['Events expected', '预期事件数'],
  basis: ['Basis', '依据'],
  distinctDeclinedCards: ['Distinct declined cards', '被拒的不同卡'],
  smallAmountDeclines: ['Small-amount declines', '小额拒付'],
  smallAmountAuths: ['Small-amount auths', '小额授权'],
  declines: ['Declines', '拒付'],
};

/** "silentWhileShopSells" -> "silent while shop sells" for a key without a name */
function humanize(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

function label(key: string): string {
  const n = NAMES[key];
  if (n) return lang() === 'zh' ? n[1] : n[0];
  return humanize(key);
}

const RATE_KEY = /(rate|share|lowerBound)$/i;

function scalar(key: string, v: unknown): string {
  if (typeof v === 'number') {
    if (key === 'pValue') return v < 0.001 ? v.toExponential(1) : v.toFixed(3);
    if (RATE_KEY.test(key) && v <= 1) return pct(v, v < 0.01 ? 2 : 1);
    return Number.isInteger(v) ? int(v) : String(Math.round(v * 100) / 100);
  }
  if (typeof v === 'boolean') return v ? '✓' : '✗';
  return String(v);
}

/** [{code: 'TO', count: 41}] -> 'TO 41'; [{txnId, ts, amount, why}] -> 'txn (why)' */
function item(v: Record<string, unknown>): string {
  if ('code' in v && 'count' in v) return `${String(v.code)} ${scalar('count', v.count)}`;
  if ('txnId' in v) return `${String(v.txnId)}${v.why ? ` (${String(v.why)})` : ''}`;
  return Object.entries(v)
    .map(([k, x]) => `${humanize(k)} ${scalar(k, x)}`)
    .join(', ');
}

export function evidenceLines(evidence: unknown, depth = 0): EvidenceLine[] {
  if (!evidence || typeof evidence !== 'object' || Array.isArray(evidence)) return [];
  const out: EvidenceLine[] = [];
  for (const [key, v] of Object.entries(evidence as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) {
      const shown = v
        .slice(0, 12)
        .map((x) =>
          x && typeof x === 'object' ? item(x as Record<string, unknown>) : scalar(key, x),
        );
      const more = v.length > 12 ? ` … (+${v.length - 12})` : '';
      out.push({ depth, label: label(key), text: shown.join(', ') + more || '–' });
    } else if (typeof v === 'object') {
      if (key === 'byCategory') {
        const parts = Object.entries(v as Record<string, unknown>)
          .filter(([, n]) => typeof n === 'number' && n > 0)
          .map(([c, n]) => `${categoryName(c)} ${scalar('count', n)}`);
        out.push({ depth, label: label(key), text: parts.join(', ') || '–' });
      } else {
        out.push({ depth, label: label(key), text: '' });
        out.push(...evidenceLines(v, depth + 1));
      }
    } else out.push({ depth, label: label(key), text: scalar(key, v) });
  }
  return out;
}
