import { mergeSorted } from './rules/context';
import { DIRTY } from './tracker';

/**
 * The ids the rules look at again at an evaluation (Monitor's recheck): those of a recent-ids
 * map (Tracker.recentTerminals, recentMerchants) marked DIRTY since the last take, stamped with
 * this one's time, and those stamped within `span`; the rest leave the map. Sorted, as the
 * rules walk keys (sort() order).
 *
 * Between two takes the map changes by the ids marked DIRTY (events, timers) and the ids that
 * expire, a small part of it; so the list is the last take's list, less the ids that expired,
 * merged with the ids new since (looked up in it by binary search, the few sorted), instead of
 * a sort of every id at every evaluation (a sort of 600 ids: ~160 µs here; this, ~40 µs). It
 * relies on the map losing ids only here: the tracker only marks.
 */
export class RecentList {
  private list: readonly string[] = [];

  take(recent: Map<string, number>, now: number, span: number): readonly string[] {
    const prev = this.list;
    let fresh: string[] | undefined;
    let gone: Set<string> | undefined;
    // (forEach: a `for...of` over the entries allocates an array per entry on this V8)
    recent.forEach((at, k) => {
      if (at === DIRTY) {
        recent.set(k, now);
        if (!has(prev, k)) (fresh ??= []).push(k);
      } else if (at < now - span) {
        recent.delete(k);
        (gone ??= new Set()).add(k);
      }
    });
    let out = gone ? prev.filter((k) => !gone!.has(k)) : prev;
    if (fresh) out = mergeSorted(out, fresh.sort());
    this.list = out;
    return out;
  }
}

/** whether sorted `xs` holds `k` (code-unit order, as sort() sorts) */
function has(xs: readonly string[], k: string): boolean {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = xs[mid]!;
    if (x === k) return true;
    if (x < k) lo = mid + 1;
    else hi = mid;
  }
  return false;
}
