import {
  DEFAULT_CODE_TABLE,
  categorize,
  type Category,
  type CodeTable,
  type TerminalEvent,
} from '@tillwatch/contracts';
import { Calendar, SLOTS } from './calendar';
import { DEFAULT_RULES_CONFIG } from './config';

/**
 * What the rules need beyond the engine's counters, kept in bounded memory per terminal:
 * who the terminal belongs to, when it last spoke, its activity by local hour and kind of day
 * (so a shop closed at night or on Sundays is not "silent"), its recent failed auths (for top response codes, txnIds and
 * issuer attribution in evidence) and its timeouts that were never reversed.
 */

const HOUR = 3_600_000;
const NO_IDS: readonly string[] = [];
const NO_FAILURES: readonly Failure[] = [];
const NO_STATES: readonly TerminalState[] = [];
/** recent non-approved auths kept per terminal: evidence, not counting (the engine counts) */
export const FAILURE_RING = 64;
/** unreversed timeouts / failed reversals kept per terminal (txnIds for failed_but_charged) */
const CHARGED_RING = 32;

export interface Failure {
  ts: number;
  code: string;
  cat: Category;
  txnId: string;
  amount: number;
  issuerId?: string;
  card?: string;
}

export interface Charged {
  ts: number;
  txnId: string;
  amount: number;
  /** `settled`: a settlement arrived for a sale the terminal showed as timed out and that was
   *  not reversed (or whose reversal failed): the charge proven, not suspected */
  why: 'not_reversed' | 'reversal_failed' | 'settled';
}

/** a recent id with events since the last evaluation (Tracker.recentTerminals) */
export const DIRTY = Number.POSITIVE_INFINITY;

export class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  size = 0;
  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }
  push(x: T): void {
    this.items[this.head] = x;
    this.head++;
    if (this.head === this.capacity) this.head = 0;
    if (this.size < this.capacity) this.size++;
  }
  /** The n-th item, oldest first (0 <= n < size): a scan without building an array. */
  at(n: number): T {
    let i = this.head - this.size + n;
    if (i < 0) i += this.capacity;
    return this.items[i]!;
  }
  /** Items, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let n = 0; n < this.size; n++) out.push(this.at(n));
    return out;
  }
}

/**
 * A terminal's latest failures, which also knows the newest time among every failure it was
 * given: `failuresSince` answers "none" without a scan when that is before the time asked.
 * regional_outage asks every terminal of a region at each evaluation (its onset and
 * partial-outage tests), and nearly every answer is empty.
 */
export class FailureRing extends Ring<Failure> {
  /** the newest `ts` pushed (an upper bound of every item's: old items are overwritten) */
  latest = Number.NEGATIVE_INFINITY;
  /** the newest and second-newest `ts` pushed of an outage failure (OUTAGE_CATS): the ring
   *  holds two outage failures at or after a time only if `outage2` is at or after it */
  outage1 = Number.NEGATIVE_INFINITY;
  outage2 = Number.NEGATIVE_INFINITY;
  override push(f: Failure): void {
    super.push(f);
    const ts = f.ts;
    if (ts > this.latest) this.latest = ts;
    if (!isOutage(f.cat)) return;
    if (ts >= this.outage1) {
      this.outage2 = this.outage1;
      this.outage1 = ts;
    } else if (ts > this.outage2) this.outage2 = ts;
  }
}

/**
 * The failure categories of an outage (a region's, a link's): what regional_outage counts
 * (RULE_CATS) and what makes a terminal of a cut link failing; isOutage tests them without a
 * search of the list (FailureRing.push, per failure); failure-ring.test.ts holds the two equal.
 */
export const OUTAGE_CATS: readonly Category[] = ['timeout', 'issuer'];
export function isOutage(cat: Category): boolean {
  return cat === 'timeout' || cat === 'issuer';
}

export interface TerminalState {
  id: string;
  merchantId: string;
  region: string;
  firmware?: string;
  firstSeen: number;
  /** latest auth, reversal or heartbeat (settlements are the acquirer's, not a sign of life) */
  lastSeen: number;
  /** start of the current run of activity (no gap over 10 min since) */
  activeSince: number;
  /** events per hour, decayed with a 30 min time constant, as of lastSeen */
  recentRate: number;
  /** auths (sales) per hour, likewise: a till that only heartbeats is not selling */
  recentSales: number;
  /** its latest auth: a till left on after closing heartbeats, it does not sell */
  lastSale: number;
  /** lastSeen when terminal_silent judged its silence a closing (its shop went quiet with it):
   *  it stays closed, not silent, until it speaks again */
  closedAt?: number;
  /** activity per calendar slot (calendar.ts: working or rest day x local hour): EWMA across
   *  days of events in that hour */
  profile: Float32Array;
  /** days observed per slot */
  profileDays: Uint8Array;
  /** hour bucket (epoch hours) being counted, and its count */
  bucket: number;
  bucketCount: number;
  failures: FailureRing;
  charged?: Ring<Charged>;
  /** set while a terminal_silent episode is open: its empty hours are not learnt as normal */
  silent: boolean;
  /** the link its heartbeats report (ethernet, wifi, cellular) */
  network?: string;
  /** its latest heartbeat; undefined: never heard one (a feed or a till that sends none) */
  lastBeat?: number;
  /** lastSeen when silenceChanges reported it silent; cleared when it speaks again */
  goneAt?: number;
}

/** A silence a source partition reported (rollup side, see noteSilence). */
export interface NotedSilence {
  terminalId: string;
  merchantId: string;
  region: string;
  network: string;
  lastSeen: number;
  /** another terminal of its shop kept selling */
  orphan: boolean;
}

/** [terminalId, merchantId, region, network, lastSeen, kind]: see silenceChanges. */
export type SilenceChange = [string, string, string, string, number, 0 | 1 | 2];

interface PendingTimeout {
  terminalId: string;
  ts: number;
  amount: number;
}

export class Tracker {
  readonly terminals = new Map<string, TerminalState>();
  readonly byMerchant = new Map<string, Set<string>>();
  readonly byRegion = new Map<string, Set<string>>();
  /** sorted copies of byMerchant's and byRegion's sets, dropped when their set changes */
  private readonly sortedOf = new WeakMap<ReadonlySet<string>, readonly string[]>();
  /** byRegion's and byMerchant's sets as their terminals' states, in the set's order and in id
   *  order (statesOf), dropped when their set changes or a terminal's state is replaced */
  private statesInOrder = new WeakMap<ReadonlySet<string>, readonly TerminalState[]>();
  private statesSorted = new WeakMap<ReadonlySet<string>, readonly TerminalState[]>();
  private readonly pendingTimeouts = new Map<string, PendingTimeout>();
  /** terminals reported silent that spoke again since the last silenceChanges */
  private back: TerminalState[] = [];
  /** silences reported by the source partitions (rollup side), by terminal */
  readonly silences = new Map<string, NotedSilence>();
  /**
   * Per region, the newest and the newest second-newest outage failure time (FailureRing's
   * outage1 and outage2) of any terminal while in it: upper bounds that let regional_outage
   * pass over a region none of whose terminals can have an outage failure (or two) since a
   * time, without a walk of its terminals (outageSince). Never lowered: a terminal that moved
   * away or was forgotten leaves a bound that is only too high.
   */
  private readonly regionOutage1 = new Map<string, number>();
  private readonly regionOutage2 = new Map<string, number>();
  /**
   * Terminal and merchant ids the rules look at again (Monitor's recheck): an id with events
   * since the last evaluation maps to DIRTY; the monitor stamps it with that evaluation's time
   * and drops it once its recheck span has passed. Kept across evaluations: a set of dirty ids
   * made anew at every evaluation grew its table again each time.
   */
  readonly recentTerminals = new Map<string, number>();
  readonly recentMerchants = new Map<string, number>();

  /** restored rules memory is whole up to this event time: older events teach nothing */
  learnFrom = Number.NEGATIVE_INFINITY;
  /** hours before this teach the profiles nothing: a settlement rebuild's (Monitor.prime) */
  profileFrom = Number.NEGATIVE_INFINITY;
  readonly failureRing = FAILURE_RING;
  /** the rules' trading calendar: which profile slot an hour belongs to */
  calendar: Calendar = new Calendar(DEFAULT_RULES_CONFIG.calendar);

  constructor(
    private readonly reversalGraceMs: number,
    private readonly codes: CodeTable = DEFAULT_CODE_TABLE,
    /** ids idle this long are forgotten (bounded memory); a week keeps a weekly rhythm */
    private readonly forgetAfterMs = 8 * 24 * HOUR,
  ) {}

  observe(ev: TerminalEvent): void {
    if (ev.type === 'settlement') {
      this.recentMerchants.set(ev.merchantId, DIRTY);
      if (ev.status === 'settled') this.settledCharge(ev.terminalId, ev.txnId, ev.ts);
      return;
    }
    const t = this.terminal(ev);
    this.recentTerminals.set(t.id, DIRTY);
    this.recentMerchants.set(t.merchantId, DIRTY);
    // before a restored memory's time, activity is in the memory already (memory.ts)
    if (ev.ts >= this.learnFrom) this.countActivity(t, ev.ts);
    switch (ev.type) {
      case 'auth': {
        if (ev.ts >= this.learnFrom) t.recentSales += 2;
        if (ev.ts > t.lastSale) t.lastSale = ev.ts;
        if (ev.firmware !== undefined) t.firmware = ev.firmware;
        const cat = categorize(ev.responseCode, this.codes);
        if (cat !== 'approved') {
          const f: Failure = {
            ts: ev.ts,
            code: ev.responseCode,
            cat,
            txnId: ev.txnId,
            amount: ev.amount,
          };
          if (ev.issuerId !== undefined) f.issuerId = ev.issuerId;
          if (ev.cardFingerprint !== undefined) f.card = ev.cardFingerprint;
          t.failures.push(f);
          if (isOutage(cat)) this.boundOutages(t);
        }
        if (cat === 'timeout') {
          this.pendingTimeouts.set(ev.txnId, { terminalId: t.id, ts: ev.ts, amount: ev.amount });
        } else {
          this.pendingTimeouts.delete(ev.txnId);
        }
        return;
      }
      case 'reversal': {
        const p = this.pendingTimeouts.get(ev.txnId);
        if (ev.status === 'succeeded') {
          if (p && ev.ts < p.ts + this.reversalGraceMs) this.pendingTimeouts.delete(ev.txnId);
        } else {
          (t.charged ??= new Ring(CHARGED_RING)).push({
            ts: ev.ts,
            txnId: ev.txnId,
            amount: p?.amount ?? 0,
            why: 'reversal_failed',
          });
        }
        return;
      }
      case 'heartbeat':
        if (t.lastBeat === undefined || ev.ts > t.lastBeat) t.lastBeat = ev.ts;
        if (ev.firmware !== undefined) t.firmware = ev.firmware;
        if (ev.network !== undefined) t.network = ev.network;
        return;
    }
  }

  /**
   * A settlement of a sale its terminal showed as timed out and never reversed (or whose
   * reversal failed): the customer was charged for a sale that failed (失败却扣款), proven by the
   * acquirer's own record. Only sales in the terminal's charged ring (or still in their grace)
   * are matched: an approved sale's settlement is the normal case and costs one lookup.
   */
  private settledCharge(terminalId: string, txnId: string, ts: number): void {
    const pending = this.pendingTimeouts.get(txnId);
    const t = this.terminals.get(terminalId);
    if (!t) return;
    let amount: number | undefined =
      pending?.terminalId === terminalId ? pending.amount : undefined;
    // (every settlement of a till that ever charged comes here: no array per settlement)
    const ring = t.charged;
    if (amount === undefined && ring) {
      for (let n = 0; n < ring.size; n++) {
        const c = ring.at(n);
        if (c.txnId !== txnId) continue;
        if (c.why === 'settled') return; // a duplicate settlement proves nothing new
        amount = c.amount;
      }
    }
    if (amount === undefined) return;
    (t.charged ??= new Ring(CHARGED_RING)).push({ ts, txnId, amount, why: 'settled' });
    this.recentTerminals.set(terminalId, DIRTY);
  }

  /** Timeouts whose reversal grace ran out before `watermark` become "not reversed". */
  expireTimeouts(watermark: number): void {
    // (forEach: a `for...of` over the entries allocates an array per entry on this V8, and this
    // runs at every evaluation)
    this.pendingTimeouts.forEach((p, txnId) => {
      if (p.ts + this.reversalGraceMs >= watermark) return;
      this.pendingTimeouts.delete(txnId);
      const t = this.terminals.get(p.terminalId);
      // The engine counts it as unreversed now: failed_but_charged must look at this terminal.
      this.recentTerminals.set(p.terminalId, DIRTY);
      if (t) {
        (t.charged ??= new Ring(CHARGED_RING)).push({
          ts: p.ts,
          txnId,
          amount: p.amount,
          why: 'not_reversed',
        });
      }
    });
  }

  /**
   * Terminals that went silent (no event for `gapMs`, having spoken within the last `recentMs`)
   * or spoke again since the last call, sorted by id. A silence is kind 2 when another terminal
   * of the shop spoke after it and within the gap: the shop is open, the terminal is cut off
   * (a closing switches a shop's tills off together). Event time only: the same stream gives the
   * same changes in every driver.
   */
  silenceChanges(now: number, gapMs: number, recentMs = 30 * 60_000): SilenceChange[] {
    const out: SilenceChange[] = [];
    const row = (t: TerminalState, kind: 0 | 1 | 2): SilenceChange => [
      t.id,
      t.merchantId,
      t.region,
      t.network ?? '',
      t.lastSeen,
      kind,
    ];
    for (const t of this.back) if (t.goneAt === undefined) out.push(row(t, 0));
    this.back = [];
    for (const t of this.terminals.values()) {
      if (t.goneAt !== undefined || now - t.lastSeen < gapMs || now - t.lastSeen > recentMs) {
        continue;
      }
      t.goneAt = t.lastSeen;
      let open = false;
      for (const id of this.byMerchant.get(t.merchantId) ?? []) {
        const peer = this.terminals.get(id);
        // (sold: a till left on a little longer at closing heartbeats, it does not sell)
        if (
          peer &&
          id !== t.id &&
          peer.lastSale > t.lastSeen + 60_000 &&
          now - peer.lastSeen < gapMs
        ) {
          open = true;
          break;
        }
      }
      out.push(row(t, open ? 2 : 1));
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[5] - b[5]));
  }

  /** Rollup side: a source partition's silence report. */
  noteSilence(c: SilenceChange): void {
    if (c[5] === 0) {
      this.silences.delete(c[0]);
      return;
    }
    this.silences.set(c[0], {
      terminalId: c[0],
      merchantId: c[1],
      region: c[2],
      network: c[3],
      lastSeen: c[4],
      orphan: c[5] === 2,
    });
  }

  /** Forget terminals idle past forgetAfterMs: memory stays bounded by the live fleet. */
  forgetIdle(now: number): void {
    for (const [id, q] of this.silences) if (q.lastSeen < now - 6 * HOUR) this.silences.delete(id);
    for (const [id, t] of this.terminals) {
      if (t.lastSeen >= now - this.forgetAfterMs) continue;
      this.terminals.delete(id);
      this.unindex(this.byMerchant, t.merchantId, id);
      this.unindex(this.byRegion, t.region, id);
    }
  }

  /** Expected events of a terminal during [from, to) from its profile (the slots of that span's
   *  hours), or undefined when some hour of that span has fewer than `minDays` days of history. */
  expectedFromProfile(
    t: TerminalState,
    from: number,
    to: number,
    minDays: number,
  ): number | undefined {
    let sum = 0;
    for (let x = from; x < to;) {
      const hourStart = Math.floor(x / HOUR) * HOUR;
      const next = Math.min(to, hourStart + HOUR);
      const h = this.calendar.slot(hourStart + HOUR / 2, t.region);
      if (t.profileDays[h]! < Math.max(1, minDays)) return undefined;
      sum += (t.profile[h]! * (next - x)) / HOUR;
      x = next;
    }
    return sum;
  }

  /** Whether its profile knows the hour after `t` (its slot) as one the terminal is usually
   *  quiet in: seen on a day at least, with less than two events an hour. */
  usuallyOff(term: TerminalState, t: number): boolean {
    const slot = this.calendar.slot(t + 30 * 60_000, term.region);
    return term.profileDays[slot]! >= 1 && term.profile[slot]! < 2;
  }

  /** Whether its profile knows it selling at this local hour on the other kind of day (working
   *  or rest day): at least `perHour` events an hour there, on a day seen. */
  busyOtherDays(term: TerminalState, t: number, perHour = 6): boolean {
    const slot = (this.calendar.slot(t + 30 * 60_000, term.region) + 24) % SLOTS;
    return term.profileDays[slot]! >= 1 && term.profile[slot]! >= perHour;
  }

  /** Whether its profile knows the terminal as never switched off: every local hour of a whole
   *  working or rest day seen, none with fewer than `perHour` events (a till heartbeats 12 times
   *  an hour while it is on). */
  alwaysOn(t: TerminalState, perHour = 6): boolean {
    for (const day of [0, 24]) {
      let whole = true;
      for (let s = day; s < day + 24 && whole; s++) {
        whole = t.profileDays[s]! >= 1 && t.profile[s]! >= perHour;
      }
      if (whole) return true;
    }
    return false;
  }

  /** Put a restored terminal back (memory.ts). */
  adopt(t: TerminalState): void {
    if (this.terminals.has(t.id)) {
      this.statesInOrder = new WeakMap();
      this.statesSorted = new WeakMap();
    }
    this.terminals.set(t.id, t);
    this.index(this.byMerchant, t.merchantId, t.id);
    this.index(this.byRegion, t.region, t.id);
  }

  /** Close every terminal's hour buckets before hour boundary `at` (rules memory is taken
   *  there): what they learn then, they would learn at their next event anyway. */
  closeHoursBefore(at: number): void {
    const b = Math.floor(at / HOUR);
    for (const t of this.terminals.values()) if (b > t.bucket) this.closeBuckets(t, b);
  }

  private terminal(ev: TerminalEvent): TerminalState {
    let t = this.terminals.get(ev.terminalId);
    if (!t) {
      t = {
        id: ev.terminalId,
        merchantId: ev.merchantId,
        region: ev.region,
        firstSeen: ev.ts,
        lastSeen: Number.NEGATIVE_INFINITY,
        activeSince: ev.ts,
        recentRate: 0,
        recentSales: 0,
        lastSale: Number.NEGATIVE_INFINITY,
        profile: new Float32Array(SLOTS),
        profileDays: new Uint8Array(SLOTS),
        bucket: Math.floor(ev.ts / HOUR),
        bucketCount: 0,
        failures: new FailureRing(FAILURE_RING),
        silent: false,
      };
      this.terminals.set(t.id, t);
      this.index(this.byMerchant, t.merchantId, t.id);
      this.index(this.byRegion, t.region, t.id);
    } else if (t.merchantId !== ev.merchantId || t.region !== ev.region) {
      // A terminal moved (re-assigned to another merchant or region): follow it.
      this.unindex(this.byMerchant, t.merchantId, t.id);
      this.unindex(this.byRegion, t.region, t.id);
      t.merchantId = ev.merchantId;
      t.region = ev.region;
      this.index(this.byMerchant, t.merchantId, t.id);
      this.index(this.byRegion, t.region, t.id);
      this.boundOutages(t);
    }
    return t;
  }

  /** raise terminal t's region's outage bounds to its own (regionOutage1/2) */
  private boundOutages(t: TerminalState): void {
    const r = t.failures;
    if (r.outage1 > (this.regionOutage1.get(t.region) ?? Number.NEGATIVE_INFINITY)) {
      this.regionOutage1.set(t.region, r.outage1);
    }
    if (r.outage2 > (this.regionOutage2.get(t.region) ?? Number.NEGATIVE_INFINITY)) {
      this.regionOutage2.set(t.region, r.outage2);
    }
  }

  /**
   * Whether some terminal of `region` may have `n` (1 or 2) outage failures (OUTAGE_CATS) at or
   * after `from` in its ring: false means none has (exact), true that a walk must tell.
   */
  outageSince(region: string, from: number, n: 1 | 2): boolean {
    const at = (n === 1 ? this.regionOutage1 : this.regionOutage2).get(region);
    return at !== undefined && at >= from;
  }

  private index(map: Map<string, Set<string>>, key: string, id: string): void {
    let s = map.get(key);
    if (!s) map.set(key, (s = new Set()));
    if (s.has(id)) return;
    s.add(id);
    this.changed(s);
  }

  private unindex(map: Map<string, Set<string>>, key: string, id: string): void {
    const s = map.get(key);
    if (s?.delete(id)) this.changed(s);
  }

  private changed(s: ReadonlySet<string>): void {
    this.sortedOf.delete(s);
    this.statesInOrder.delete(s);
    this.statesSorted.delete(s);
  }

  /**
   * The states of a merchant's or a region's terminals (byMerchant, byRegion), in the set's
   * order or (`sorted`) in id order: what the rules walk at every evaluation, without a lookup
   * of each id (regional_outage walks every terminal of every region every 10 s). Made once per
   * change of the set; every id of such a set is a tracked terminal (index and unindex follow
   * `terminals`).
   */
  statesOf(ids: ReadonlySet<string> | undefined, sorted: boolean): readonly TerminalState[] {
    if (!ids) return NO_STATES;
    const cache = sorted ? this.statesSorted : this.statesInOrder;
    let out = cache.get(ids);
    if (!out) {
      const list: TerminalState[] = [];
      for (const id of sorted ? this.sorted(ids) : ids) {
        const t = this.terminals.get(id);
        if (t) list.push(t);
      }
      cache.set(ids, (out = list));
    }
    return out;
  }

  /**
   * A merchant's or a region's terminal ids (byMerchant, byRegion) sorted, as the rules walk
   * them: sorted once per change of the set instead of at every evaluation (regional_outage
   * sorted every region's terminals every 10 s).
   */
  sorted(ids: ReadonlySet<string> | undefined): readonly string[] {
    if (!ids) return NO_IDS;
    let s = this.sortedOf.get(ids);
    if (!s) this.sortedOf.set(ids, (s = [...ids].sort()));
    return s;
  }

  private countActivity(t: TerminalState, ts: number): void {
    // Recent rate: exponential decay, 30 min time constant, in events per hour.
    if (Number.isFinite(t.lastSeen) && ts > t.lastSeen) {
      const decay = Math.exp(-(ts - t.lastSeen) / (30 * 60_000));
      t.recentRate *= decay;
      t.recentSales *= decay;
    }
    t.recentRate += 2; // 1 event / 0.5 h time constant = 2 events per hour at steady state
    if (t.goneAt !== undefined && ts > t.goneAt) {
      t.goneAt = undefined;
      this.back.push(t);
    }
    if (ts - t.lastSeen > 10 * 60_000) t.activeSince = ts;
    if (ts > t.lastSeen) t.lastSeen = ts;
    const b = Math.floor(ts / HOUR);
    if (b > t.bucket) this.closeBuckets(t, b);
    if (b === t.bucket) t.bucketCount++;
  }

  /** Close hour buckets up to (not including) `b`: the hours in between had no events. */
  closeBuckets(t: TerminalState, b: number): void {
    // The hour the terminal was first seen is partial: it would teach a too-low level.
    const firstBucket = Math.floor(t.firstSeen / HOUR);
    const last = Math.min(b, t.bucket + 25);
    const learnFromBucket = Math.ceil(Math.max(this.learnFrom, this.profileFrom) / HOUR);
    for (let x = t.bucket; x < last; x++) {
      if (x < learnFromBucket) continue; // in a restored memory already
      const count = x === t.bucket ? t.bucketCount : 0;
      // (an hour a terminal_silent episode spans is learnt too: a shop that closes earlier
      // than its profile said must teach the profile, or it is paged every evening)
      if (x !== firstBucket)
        this.learn(t, this.calendar.slot(x * HOUR + HOUR / 2, t.region), count);
    }
    t.bucket = b;
    t.bucketCount = 0;
  }

  private learn(t: TerminalState, slot: number, count: number): void {
    const days = t.profileDays[slot]!;
    // First day sets the level; later days blend in at 1/3 so one odd day does not erase it.
    t.profile[slot] = days === 0 ? count : t.profile[slot]! * (2 / 3) + count / 3;
    if (days < 255) t.profileDays[slot] = days + 1;
  }

  /** Failures of terminal `t` (or undefined) at or after `from`. */
  /**
   * Whether the terminal's charged ring holds a transaction at a time in [from, to): without one,
   * failed_but_charged has nothing to count for it there (rules/settlement.ts passes it over).
   */
  chargedIn(terminalId: string, from: number, to: number): boolean {
    const ring = this.terminals.get(terminalId)?.charged;
    if (!ring) return false;
    for (let i = 0; i < ring.size; i++) {
      const ts = ring.at(i).ts;
      if (ts >= from && ts < to) return true;
    }
    return false;
  }

  failuresSince(t: TerminalState | undefined, from: number): readonly Failure[] {
    // (a scan of the ring, not toArray().filter(): regional_outage asks every terminal of every
    // region every 10 s, and nearly all answers are empty: two arrays each were ~1 KB per event)
    if (!t) return NO_FAILURES;
    const ring = t.failures;
    if (ring.latest < from) return NO_FAILURES;
    let out: Failure[] | undefined;
    for (let n = 0; n < ring.size; n++) {
      const f = ring.at(n);
      if (f.ts >= from) (out ??= []).push(f);
    }
    return out ?? NO_FAILURES;
  }
}
