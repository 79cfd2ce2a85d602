import { categorize, eventTimeToMs } from '@tillwatch/contracts';
import type { Transition } from './score';

/**
 * The naive rule set the detection-quality suite compares against: a static threshold on the
 * failure rate over the last 5 minutes, per terminal, merchant and region, checked every
 * minute of event time. No minimum count, no statistics, no baseline, no hysteresis: it fires
 * when failures / auths > threshold and resolves when it is not. It reads the events the
 * simulator hands to replay, in the same order, so it costs a few map updates per auth.
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

export interface NaiveEvent {
  type: string;
  ts: number | string;
  responseCode?: string;
  terminalId: string;
  merchantId: string;
  region: string;
}

export class NaiveMonitor {
  readonly transitions: Transition[] = [];
  private readonly threshold: number;
  private readonly maps = SCOPES.map(() => new Map<string, Counter>());
  private current = Number.NEGATIVE_INFINITY;

  constructor(opts: NaiveOptions = {}) {
    this.threshold = opts.threshold ?? 0.2;
  }

  push(ev: NaiveEvent): void {
    if (ev.type !== 'auth' || !ev.responseCode) return;
    const minute = Math.floor(eventTimeToMs(ev.ts) / MINUTE);
    while (minute > this.current) {
      if (Number.isFinite(this.current)) this.evaluate(this.current + 1);
      this.current = Number.isFinite(this.current) ? this.current + 1 : minute;
    }
    const failed = categorize(ev.responseCode) !== 'approved';
    const keys = [ev.terminalId, ev.merchantId, ev.region];
    for (let si = 0; si < SCOPES.length; si++) {
      const key = keys[si]!;
      const map = this.maps[si]!;
      let c = map.get(key);
      if (!c) {
        c = {
          auths: new Int32Array(BUCKETS),
          fails: new Int32Array(BUCKETS),
          minute: new Float64Array(BUCKETS).fill(-1),
        };
        map.set(key, c);
      }
      const b = minute % BUCKETS;
      if (c.minute[b] !== minute) {
        c.minute[b] = minute;
        c.auths[b] = 0;
        c.fails[b] = 0;
      }
      c.auths[b]!++;
      if (failed) c.fails[b]!++;
    }
  }

  private evaluate(minuteEnd: number): void {
    const ts = new Date(minuteEnd * MINUTE).toISOString();
    SCOPES.forEach((scope, si) => {
      const map = this.maps[si]!;
      for (const [key, c] of map) {
        let a = 0;
        let f = 0;
        for (let i = 0; i < BUCKETS; i++) {
          if (c.minute[i]! >= minuteEnd - BUCKETS && c.minute[i]! < minuteEnd) {
            a += c.auths[i]!;
            f += c.fails[i]!;
          }
        }
        const high = a > 0 && f / a > this.threshold;
        const rule = 'naive_failure_rate';
        if (high && !c.firing) {
          c.firing = { alertId: `naive|${scope}|${key}|${minuteEnd}` };
          this.transitions.push({
            alertId: c.firing.alertId,
            rule,
            scope,
            key,
            status: 'firing',
            ts,
          });
        } else if (!high && c.firing) {
          this.transitions.push({
            alertId: c.firing.alertId,
            rule,
            scope,
            key,
            status: 'resolved',
            ts,
          });
          c.firing = undefined;
        }
        if (a === 0 && !c.firing) map.delete(key);
      }
    });
  }
}
