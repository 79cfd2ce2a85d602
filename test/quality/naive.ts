import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { categorize, eventTimeToMs } from '@tillwatch/contracts';
import type { Transition } from './score';

/**
 * The naive rule set the detection-quality suite compares against: a static threshold on the
 * failure rate over the last 5 minutes, per terminal, merchant and region, checked every
 * minute of event time. No minimum count, no statistics, no baseline, no hysteresis: it fires
 * when failures / auths > threshold and resolves when it is not.
 */
export interface NaiveOptions {
  threshold?: number;
}

const MINUTE = 60_000;
const BUCKETS = 5;
const SCOPES = ['terminal', 'merchant', 'region'] as const;

interface Counter {
  /** per minute bucket: auths, failures */
  auths: Int32Array;
  fails: Int32Array;
  /** minute index of each bucket */
  minute: Float64Array;
  firing?: { alertId: string };
}

export async function naiveReplay(path: string, opts: NaiveOptions = {}): Promise<Transition[]> {
  const threshold = opts.threshold ?? 0.2;
  const maps = SCOPES.map(() => new Map<string, Counter>());
  const out: Transition[] = [];
  let current = Number.NEGATIVE_INFINITY;

  const evaluate = (minuteEnd: number) => {
    const ts = new Date(minuteEnd * MINUTE).toISOString();
    SCOPES.forEach((scope, si) => {
      for (const [key, c] of maps[si]!) {
        let a = 0;
        let f = 0;
        for (let i = 0; i < BUCKETS; i++) {
          if (c.minute[i]! >= minuteEnd - BUCKETS && c.minute[i]! < minuteEnd) {
            a += c.auths[i]!;
            f += c.fails[i]!;
          }
        }
        const high = a > 0 && f / a > threshold;
        if (high && !c.firing) {
          c.firing = { alertId: `naive|${scope}|${key}|${minuteEnd}` };
          out.push({
            alertId: c.firing.alertId,
            rule: 'naive_failure_rate',
            scope,
            key,
            status: 'firing',
            ts,
          });
        } else if (!high && c.firing) {
          out.push({
            alertId: c.firing.alertId,
            rule: 'naive_failure_rate',
            scope,
            key,
            status: 'resolved',
            ts,
          });
          c.firing = undefined;
        }
        if (a === 0 && !c.firing) maps[si]!.delete(key);
      }
    });
  };

  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    let ev: {
      type?: string;
      ts?: number | string;
      responseCode?: string;
      terminalId?: string;
      merchantId?: string;
      region?: string;
    };
    try {
      ev = JSON.parse(line);
    } catch {
      continue;
    }
    if (ev.type !== 'auth' || ev.ts === undefined || !ev.responseCode) continue;
    const t = eventTimeToMs(ev.ts);
    const minute = Math.floor(t / MINUTE);
    while (minute > current) {
      if (Number.isFinite(current)) evaluate(current + 1);
      current = Number.isFinite(current) ? current + 1 : minute;
    }
    const failed = categorize(ev.responseCode) !== 'approved';
    const keys = [ev.terminalId, ev.merchantId, ev.region];
    SCOPES.forEach((_s, si) => {
      const key = keys[si];
      if (key === undefined) return;
      let c = maps[si]!.get(key);
      if (!c) {
        c = {
          auths: new Int32Array(BUCKETS),
          fails: new Int32Array(BUCKETS),
          minute: new Float64Array(BUCKETS).fill(-1),
        };
        maps[si]!.set(key, c);
      }
      const b = minute % BUCKETS;
      if (c.minute[b] !== minute) {
        c.minute[b] = minute;
        c.auths[b] = 0;
        c.fails[b] = 0;
      }
      c.auths[b]!++;
      if (failed) c.fails[b]!++;
    });
  }
  return out;
}
