import type { TerminalEvent } from '@tillwatch/contracts';
import type { RegionAuthCount, RegionAuthsQuery } from './store';

const MINUTE = 60_000;

/**
 * MemoryStore's auths per region and minute for the last `minutes` (8 days and an hour by
 * default: the hour compared and its 7 previous days), a ring of counts per region: 11,580
 * minutes × 12 B ≈ 140 kB a region. The raw event ring keeps an hour at most; these counts
 * outlive it, so an embedded run that has been up for a day has a normal for the hour.
 */
export class RegionMinutes {
  private readonly rings = new Map<string, { minute: Float64Array; count: Uint32Array }>();

  constructor(private readonly minutes = 8 * 1440 + 60) {}

  push(events: readonly TerminalEvent[]): void {
    for (const ev of events) {
      if (ev.type !== 'auth' || !(ev.ts >= 0)) continue;
      let r = this.rings.get(ev.region);
      if (!r) {
        r = {
          minute: new Float64Array(this.minutes).fill(-1),
          count: new Uint32Array(this.minutes),
        };
        this.rings.set(ev.region, r);
      }
      const m = Math.floor(ev.ts / MINUTE);
      const slot = m % this.minutes;
      const held = r.minute[slot]!;
      if (held === m) r.count[slot]!++;
      else if (held < m) {
        // the slot held a minute a whole ring ago: reuse it
        r.minute[slot] = m;
        r.count[slot] = 1;
      }
      // else: older than the ring reaches, dropped
    }
  }

  query(q: RegionAuthsQuery): RegionAuthCount[] {
    const out: RegionAuthCount[] = [];
    const perBucket = Math.max(1, Math.round(q.bucketMs / MINUTE));
    const buckets = Math.floor(q.spanMs / q.bucketMs);
    for (const [region, r] of this.rings) {
      for (const start of q.starts) {
        const first = Math.floor(start / MINUTE);
        for (let b = 0; b < buckets; b++) {
          let n = 0;
          for (let i = 0; i < perBucket; i++) {
            const m = first + b * perBucket + i;
            const slot = m % this.minutes;
            if (r.minute[slot] === m) n += r.count[slot]!;
          }
          if (n > 0) out.push({ region, start, bucket: b, auths: n });
        }
      }
    }
    return out;
  }
}
