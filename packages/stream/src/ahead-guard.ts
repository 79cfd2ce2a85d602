import { windowLabel, type TerminalEvent } from '@tillwatch/contracts';

/** A held event the guard gave up on: a dead letter, with the driver's tag (offset, line). */
export interface Rejected {
  ev: TerminalEvent;
  reason: string;
  tag: number;
}

/**
 * Held events in time order, with their drivers' tags: arrays read from `head`, so taking the
 * first n does not copy the rest, and an event arriving in time order is pushed (a splice, even
 * at the end, allocates the array it returns: ~0.4 KB per event in an allocation profile, as
 * nearly every event is held as a lead until another terminal's arrives).
 */
class Held {
  private evs: TerminalEvent[] = [];
  private tags: number[] = [];
  private head = 0;

  get length(): number {
    return this.evs.length - this.head;
  }

  /** the i-th held event, 0 the earliest */
  at(i: number): TerminalEvent {
    return this.evs[this.head + i]!;
  }

  insert(ev: TerminalEvent, tag: number): void {
    let i = this.evs.length;
    while (i > this.head && this.evs[i - 1]!.ts > ev.ts) i--;
    if (i === this.evs.length) {
      this.evs.push(ev);
      this.tags.push(tag);
    } else {
      this.evs.splice(i, 0, ev);
      this.tags.splice(i, 0, tag);
    }
  }

  /** Remove and return the first n (their tags dropped). */
  take(n: number): TerminalEvent[] {
    if (n === 0) return EMPTY;
    const out = this.evs.slice(this.head, this.head + n);
    this.head += n;
    if (this.head === this.evs.length) {
      this.evs.length = 0;
      this.tags.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.evs.length) {
      this.evs = this.evs.slice(this.head);
      this.tags = this.tags.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Remove and return the last (the furthest ahead) with its tag. */
  pop(): { ev: TerminalEvent; tag: number } {
    const r = { ev: this.evs.pop()!, tag: this.tags.pop()! };
    if (this.head === this.evs.length) this.clear();
    return r;
  }

  /** Remove and return everything, with the tags. */
  clear(): { evs: TerminalEvent[]; tags: number[] } {
    const all = {
      evs: this.head ? this.evs.slice(this.head) : this.evs,
      tags: this.head ? this.tags.slice(this.head) : this.tags,
    };
    this.evs = [];
    this.tags = [];
    this.head = 0;
    return all;
  }

  /** How many from the start have ts <= t. */
  upTo(t: number): number {
    let n = 0;
    const len = this.length;
    while (n < len && this.at(n).ts <= t) n++;
    return n;
  }
}

/**
 * One terminal with a wrong clock must not move its partition's time. Were its event taken, its
 * time would become the partition's, every boundary up to it would close, and every true event
 * after it would be late: one heartbeat stamped 2100 turned a day's alerts into none, and one
 * till whose clock runs 4 minutes fast made 4 minutes of its whole partition late, every time it
 * sold. Two holds keep a partition's time to what more than one terminal says:
 *
 * - **Jumps.** An event more than `maxAheadMs` past the partition's time is held until the
 *   partition's time reaches it, or a second terminal's event lands within `maxAheadMs` of it
 *   (time really moved: the end of a quiet night, a backlog after an outage); then the held
 *   events up to there go on. The partition's first event waits the same way for a second one
 *   within `maxAheadMs` (alone it would set the time), and events far older than the time two
 *   events agreed on are late.
 * - **Leads.** An event ahead of the partition's robust time — the latest time of the
 *   second-latest terminal, or the latest terminal's own time less `aloneMs` (5 min) when it has
 *   been alone that long (a lone shop at night), or the time the driver's source vouches for
 *   (vouch(): the embedded start's wall clock) — waits until the robust time reaches it.
 *   A till running fast waits for the others; the others go on. Without a source's word
 *   a till more than `aloneMs` fast vouches for its own events after `aloneMs`: a clock 5 to 15
 *   min fast, all day, still moves a replayed partition (the processor refuses such events
 *   against their record's time: EVENT_MAX_SKEW).
 *
 * Nothing is lost: a jump nothing vouches for is rejected (`ts_in_future`, a dead letter) when
 * the hold is full or the input ends; leads always go on, at the latest when the input ends.
 * Each held event keeps its driver's tag (a Kafka offset, a line number). The cost per event: one
 * lookup of the terminal's latest time.
 */
export class AheadGuard {
  /** the latest event time let through (NaN before the first) */
  high = Number.NaN;
  /** held for a jump (first rule), and for a lead (second rule) */
  private readonly jumps = new Held();
  private readonly leads = new Held();
  /** each terminal's latest time among events past the jump rule */
  private readonly latest = new Map<string, number>();
  private top1 = Number.NEGATIVE_INFINITY;
  private top1Id: string | undefined;
  private top2 = Number.NEGATIVE_INFINITY;
  /** a time the driver's source vouches for (vouch()) */
  private floor = Number.NEGATIVE_INFINITY;
  /** rejected, waiting for the stage to hand them to its sink */
  private out: Rejected[] = [];
  /** events rejected so far */
  dropped = 0;
  /** events far older than the time the partition's first two events agreed on (not ingested) */
  lateAtStart = 0;
  /**
   * Held events that other terminals' later arrivals show to be stamped at least NOTE_AHEAD_MS
   * ahead (each noted once), with how far: the stage tells its rules (terminal_clock_drift).
   * A quiet night's next sale is not among them: nothing arrives after it with an earlier time.
   */
  aheadNotes: { ev: TerminalEvent; offsetMs: number }[] = [];
  private readonly noted = new WeakSet<TerminalEvent>();

  constructor(
    /** further than this past the partition's time is a jump */
    readonly maxAheadMs: number,
    /** a terminal alone this long is its partition's time (the lead rule) */
    readonly aloneMs = Math.min(maxAheadMs, DEFAULT_ALONE_MS),
    private readonly capacity = 1_000,
  ) {}

  get holding(): number {
    return this.jumps.length + this.leads.length;
  }

  /** The partition's robust time: what more than one terminal (or one, alone long enough) says. */
  get robust(): number {
    return Math.max(this.top2, this.top1 - this.aloneMs, this.floor);
  }

  /** the partition's time for the jump rule: the latest let through, else the source's word */
  private get base(): number {
    return Number.isNaN(this.high) && this.floor > Number.NEGATIVE_INFINITY
      ? this.floor
      : this.high;
  }

  /** True: process `ev` now. False: it is held (see release()), or rejected (see rejected()). */
  admit(ev: TerminalEvent, tag = -1): boolean {
    if (!(ev.ts <= this.base + this.maxAheadMs)) {
      this.jumps.insert(ev, tag);
      if (this.jumps.length > this.capacity) {
        // the furthest ahead is the least likely to be vouched for
        const { ev: e, tag: t } = this.jumps.pop();
        this.reject(e, t, `more than ${this.capacity} events held`);
      }
      return false;
    }
    return this.pass(ev, tag);
  }

  /** The lead rule for an event past the jump rule; true: it goes in now. */
  private pass(ev: TerminalEvent, tag: number): boolean {
    // an event on the partition's time is a witness for what is held ahead of it (a till
    // running slow is none: it would make every other terminal look ahead)
    if (ev.ts >= this.robust - WITNESS_SLACK_MS) {
      this.noteAhead(this.leads, ev);
      this.noteAhead(this.jumps, ev);
    }
    this.see(ev);
    if (ev.ts <= this.robust) {
      if (!(ev.ts <= this.high)) this.high = ev.ts;
      return true;
    }
    this.leads.insert(ev, tag);
    return false;
  }

  /** `ev` arrived after the furthest held event of another terminal, stamped well before it */
  private noteAhead(h: Held, ev: TerminalEvent): void {
    const n = h.length;
    if (n === 0) return;
    const x = h.at(n - 1);
    if (x.terminalId === ev.terminalId || x.ts - ev.ts < NOTE_AHEAD_MS || this.noted.has(x)) return;
    this.noted.add(x);
    this.aheadNotes.push({ ev: x, offsetMs: x.ts - ev.ts });
  }

  private see(ev: TerminalEvent): void {
    const id = ev.terminalId;
    const prev = this.latest.get(id);
    if (prev !== undefined && ev.ts <= prev) return;
    this.latest.set(id, ev.ts);
    if (id === this.top1Id) this.top1 = ev.ts;
    else if (ev.ts > this.top1) {
      this.top2 = this.top1;
      this.top1 = ev.ts;
      this.top1Id = id;
    } else if (ev.ts > this.top2) this.top2 = ev.ts;
  }

  /**
   * The driver's source vouches that the stream's time has reached `ts` (the embedded start's
   * wall clock; the processor does not, so that it admits what replay admits): leads up to it
   * may go in (release()), and a partition without a time yet has this one.
   */
  vouch(ts: number): void {
    if (ts > this.floor) this.floor = ts;
  }

  /** Rejected events since the last call (empty, and no allocation, when none). */
  rejected(): Rejected[] {
    if (this.out.length === 0) return NONE;
    const r = this.out;
    this.out = [];
    return r;
  }

  /**
   * The input ended: every event held for a jump is given up on (rejected()), unless the
   * partition never had a time (nothing says it is wrong then). Leads stay held, as they would
   * in the processor at the end of a topic: they are the input's last seconds, which no closed
   * window holds either.
   */
  endInput(why = 'the input ended'): void {
    if (Number.isNaN(this.high)) return;
    const { evs, tags } = this.jumps.clear();
    for (let i = 0; i < evs.length; i++) this.reject(evs[i]!, tags[i]!, why);
  }

  private reject(ev: TerminalEvent, tag: number, why: string): void {
    this.dropped++;
    this.out.push({ ev, tag, reason: aheadReason(ev.ts, this.high, this.maxAheadMs, why) });
  }

  /**
   * Held events that may go in now (empty, and no allocation, when none): jumps the partition's
   * time reached or a second terminal vouches for (then past the lead rule), and leads the
   * robust time reached, in time order.
   */
  release(): TerminalEvent[] {
    if (this.holding === 0) return EMPTY;
    let out: TerminalEvent[] = EMPTY;
    if (this.jumps.length) {
      const jumped = Number.isNaN(this.base) ? this.first() : this.vouched();
      for (const e of jumped) {
        if (this.pass(e, -1)) {
          if (out === EMPTY) out = [];
          out.push(e);
        }
      }
    }
    if (this.leads.length && this.leads.at(0).ts <= this.robust) {
      const led = this.leads.take(this.leads.upTo(this.robust));
      for (const e of led) if (!(e.ts <= this.high)) this.high = e.ts;
      out = out === EMPTY ? led : [...out, ...led].sort((a, b) => a.ts - b.ts);
    }
    return out;
  }

  /** Jumps the partition's time reached, or a second terminal vouches for. */
  private vouched(): TerminalEvent[] {
    const held = this.jumps;
    const len = held.length;
    let upTo = held.upTo(this.base + this.maxAheadMs);
    // a second terminal within maxAheadMs of a held event: time moved there
    for (let i = upTo; i < len; i++) {
      const from = held.at(i);
      for (let j = i + 1; j < len && held.at(j).ts - from.ts <= this.maxAheadMs; j++) {
        if (held.at(j).terminalId !== from.terminalId) {
          upTo = j + 1;
          while (upTo < len && held.at(upTo).ts - from.ts <= this.maxAheadMs) upTo++;
          i = len;
          break;
        }
      }
    }
    return held.take(upTo);
  }

  /**
   * Before the partition has a time: the first two held events within maxAheadMs of each other
   * (any terminals: a partition may have one) give it one. They and the held events up to
   * maxAheadMs past them go on; the earlier ones are late (counted, not ingested).
   */
  private first(): TerminalEvent[] {
    const held = this.jumps;
    const len = held.length;
    let i = 0;
    while (i + 1 < len && held.at(i + 1).ts - held.at(i).ts > this.maxAheadMs) i++;
    if (i + 1 >= len) return EMPTY;
    let upTo = i + 2;
    while (upTo < len && held.at(upTo).ts - held.at(i).ts <= this.maxAheadMs) upTo++;
    this.lateAtStart += i;
    this.high = held.at(i).ts;
    held.take(i);
    return held.take(upTo - i);
  }
}

/** how far ahead of a later arrival an event must be to be noted (aheadNotes) */
export const NOTE_AHEAD_MS = 60_000;
/** a later arrival witnesses for aheadNotes if it is no further than this behind the robust time */
const WITNESS_SLACK_MS = 10_000;

/** how long a terminal must be alone before it is its partition's time (the lead rule) */
export const DEFAULT_ALONE_MS = 5 * 60_000;

const EMPTY: TerminalEvent[] = [];
const NONE: Rejected[] = [];

/** "6 min", "3.2 h", "74 d", "73.1 y": how far ahead, for a person. */
export function aheadText(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3_600).toFixed(1)} h`;
  if (s < 31_557_600 * 2) return `${Math.round(s / 86_400)} d`;
  return `${(s / 31_557_600).toFixed(1)} y`;
}

const iso = (ts: number) => (Number.isFinite(ts) ? new Date(ts).toISOString() : String(ts));

/** The dead-letter reason of an event the partition's time never reached. */
export function aheadReason(ts: number, high: number, maxAheadMs: number, why: string): string {
  return (
    `ts_in_future: event time ${iso(ts)} is ${aheadText(ts - high)} ahead of its partition's time ` +
    `${iso(high)} (at most ${windowLabel(maxAheadMs)}) and no other terminal's events reached it; ${why}`
  );
}

/**
 * An event stamped more than `maxSkewMs` past its source's own time (the Kafka record's
 * timestamp: when the producer sent it, or the broker appended it) is a wrong clock, not news
 * from the future: the dead-letter reason, or undefined when it is in time. Decided on the
 * record alone, so a replay of the partition decides the same.
 */
export function aheadOfSource(ts: number, sourceTs: number, maxSkewMs: number): string | undefined {
  if (!(ts - sourceTs > maxSkewMs)) return undefined;
  return (
    `ts_in_future: event time ${iso(ts)} is ${aheadText(ts - sourceTs)} ahead of its record's ` +
    `time ${iso(sourceTs)} (at most ${windowLabel(maxSkewMs)})`
  );
}
