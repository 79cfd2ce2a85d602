import type { Alert } from '@tillwatch/contracts';

/** a child fired this soon after its region's outage resolved is still that outage's (its longest window) */
const RECENT_MS = 3_600_000;

/**
 * Folding across stages. Partition-local rules (terminal_network_errors, terminal_fault_spike,
 * ...) run in the event stages and cannot see a regional_outage, which runs in the rollup
 * stage; so their transitions leave through the rollup stage of their region, and this gate
 * decides there, at the boundary they were raised at and after the cross-partition rules have
 * run for it: a child whose first transition comes while its region's outage is open (or
 * resolved within the hour) is folded, and the rest of its episode with it; others pass.
 * Which rules fold is the rules' `inhibit.regional_outage` list.
 *
 * A folded child stays folded for its episode: a terminal that keeps failing after the outage
 * resolves pages when it fires again, not in the middle of the outage's episode.
 */
export interface FoldGateMemory {
  /** region -> resolve time, null while open */
  outage: [string, number | null][];
  folded: string[];
  passed: string[];
}

export class FoldGate {
  /** region -> open outage (Infinity) or the time it resolved */
  private readonly outage = new Map<string, number>();
  /** alertIds folded, until their resolve */
  private readonly folded = new Set<string>();
  /** alertIds let through, until their resolve */
  private readonly passed = new Set<string>();
  foldedCount = 0;

  constructor(private readonly foldsInto: () => ReadonlySet<string>) {}

  /** What the gate knows, for the rollup stage's memory (sorted: the same state, the same text). */
  save(): FoldGateMemory {
    const sorted = (xs: Iterable<string>) => [...xs].sort();
    return {
      outage: [...this.outage]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([k, t]) => [k, Number.isFinite(t) ? t : null]),
      folded: sorted(this.folded),
      passed: sorted(this.passed),
    };
  }

  load(m: FoldGateMemory): void {
    for (const [k, t] of m.outage) this.outage.set(k, t ?? Number.POSITIVE_INFINITY);
    for (const id of m.folded) this.folded.add(id);
    for (const id of m.passed) this.passed.add(id);
  }

  /** A transition of the rollup stage's own rules. */
  parent(a: Alert): void {
    if (a.rule !== 'regional_outage') return;
    this.outage.set(a.key, a.status === 'firing' ? Number.POSITIVE_INFINITY : Date.parse(a.ts));
  }

  /** Does a partition-local transition go out? */
  pass(a: Alert): boolean {
    const done = a.status === 'resolved';
    if (this.folded.has(a.alertId)) {
      if (done) this.folded.delete(a.alertId);
      return false;
    }
    if (this.passed.has(a.alertId)) {
      if (done) this.passed.delete(a.alertId);
      return true;
    }
    // the resolve of an episode this gate never saw begin (it began before a recovery's
    // replay span): whatever became of its firing, the resolve is no page
    if (done) return true;
    // a feed outage (regional_outage, key `*`) is every region's outage
    const own = a.region === undefined ? undefined : this.outage.get(a.region);
    const feed = this.outage.get('*');
    const until = own === undefined ? feed : feed === undefined ? own : Math.max(own, feed);
    if (
      until !== undefined &&
      Date.parse(a.ts) - until <= RECENT_MS &&
      this.foldsInto().has(a.rule)
    ) {
      this.folded.add(a.alertId);
      this.foldedCount++;
      return false;
    }
    this.passed.add(a.alertId);
    return true;
  }
}
