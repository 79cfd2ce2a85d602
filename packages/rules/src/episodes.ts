import { createHash } from 'node:crypto';
import type { Alert, Language, RuleId, Scope, Severity } from '@tillwatch/contracts';
import type { SilenceSet } from './silences';
import { round } from './stats';
import { RULE_TEXTS, VARIANT_TEXTS, type TextVariant } from './texts';

/**
 * Episodes: one per (rule, scope, key) from the first firing to the resolve. This is where
 * hysteresis, single firing, material updates, silences and hierarchical folding live, so every
 * rule only has to say "fire", "clear" or neither at each evaluation.
 */

/** What a rule says about one key at one evaluation. */
export interface Signal {
  rule: RuleId;
  scope: Scope;
  key: string;
  /** the fire condition holds (minimum count and statistical bound) */
  fire: boolean;
  /** below the lower, resolve level (hysteresis); neither fire nor clear keeps the state */
  clear: boolean;
  severity: Severity;
  window: string;
  metric: string;
  value: number;
  threshold: number;
  baseline: number;
  /** the evidence count used to judge a material change (doubling) */
  count: number;
  merchantId?: string;
  region?: string;
  /** built only when a transition is emitted */
  evidence: () => Record<string, unknown>;
  /** episode id (see episodeKey) of a firing parent this alert folds into */
  parent?: string;
  /** how sure the rule is; omitted = high */
  confidence?: 'high' | 'medium' | 'low';
  /** fold into `parent` even when this episode is already open (and sent): an incident found
   *  after it, which explains it (a feed outage, a region's outage). Otherwise a parent is taken
   *  only when the episode begins. */
  foldOpen?: boolean;
  /** the probable causes and actions of another incident than the rule's usual one */
  texts?: TextVariant;
}

export interface AlertRecord extends Alert {
  i18n: Record<Language, { probableCauses: string[]; actions: string[] }>;
  silenced?: boolean;
}

interface Episode {
  alertId: string;
  rule: RuleId;
  scope: Scope;
  key: string;
  firstSeen: number;
  lastSeen: number;
  clearSince?: number;
  /** firing has been sent to the sinks */
  sent: boolean;
  /** the silence that kept it from the sinks, while one matches */
  silencedBy?: string;
  /** parent episode it is folded into (never sent while folded) */
  foldedInto?: string;
  /** when its parent ended while it still fired */
  orphanSince?: number;
  children: Map<string, { rule: RuleId; scope: Scope; key: string; since: number }>;
  lastSentCount: number;
  lastSentSeverity: Severity;
  /** the confidence last sent (undefined: high) */
  lastSentConfidence?: 'high' | 'medium' | 'low';
  lastSentTs: number;
  lastSentChildren: number;
  last: Signal;
}

/** An EpisodeBook as rules memory keeps it: plain data (the evidence built, not a closure). */
export interface EpisodeMemory {
  open: (Omit<Episode, 'last' | 'children'> & {
    id: string;
    children: [string, { rule: RuleId; scope: Scope; key: string; since: number }][];
    last: Omit<Signal, 'evidence'> & { evidence: Record<string, unknown> };
  })[];
  resolvedAt: [string, number][];
  pending: [string, number][];
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const CONFIDENCE_RANK = { low: 0, medium: 1, high: 2 } as const;

export function episodeKey(rule: RuleId, scope: Scope, key: string): string {
  return `${rule}|${scope}|${key}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface EpisodeOptions {
  lang: Language;
  holdMs: (rule: RuleId) => number;
  reopenGuardMs: number;
  /** a folded child whose parent ended fires on its own after this long (its longest window:
   *  by then its evidence is its own, not the parent's incident) */
  unfoldAfterMs: (rule: RuleId) => number;
  /** minimum spacing of material updates of one episode */
  updateGapMs: number;
}

export interface EpisodeStats {
  fired: number;
  updated: number;
  resolved: number;
  silenced: number;
  folded: number;
}

export class EpisodeBook {
  private readonly open = new Map<string, Episode>();
  /** resolve time per episode key, for the re-fire guard (bounded: pruned past the guard) */
  private readonly resolvedAt = new Map<string, number>();
  /** consecutive fire evaluations of a key under the re-fire guard */
  private readonly pending = new Map<string, number>();
  readonly stats: EpisodeStats = { fired: 0, updated: 0, resolved: 0, silenced: 0, folded: 0 };
  /** recent silenced transitions (bounded), for the record */
  readonly silencedLog: AlertRecord[] = [];

  constructor(
    public opts: EpisodeOptions,
    private readonly silences: SilenceSet,
  ) {}

  get size(): number {
    return this.open.size;
  }

  isOpen(id: string): boolean {
    return this.open.has(id);
  }

  /**
   * The book for rules memory (memory.ts): open episodes (their last signal with its evidence
   * built now), resolve times and pending re-fires, sorted so the same book gives the same text.
   */
  save(): EpisodeMemory {
    const byKey = <T>(m: Map<string, T>) => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return {
      open: byKey(this.open).map(([id, ep]) => {
        const { last, children, ...rest } = ep;
        const { evidence, ...sig } = last;
        return {
          id,
          ...rest,
          children: byKey(children),
          last: { ...sig, evidence: evidence() },
        };
      }),
      resolvedAt: byKey(this.resolvedAt),
      pending: byKey(this.pending),
    };
  }

  load(m: EpisodeMemory): void {
    for (const { id, children, last, ...rest } of m.open) {
      const saved = last.evidence;
      this.open.set(id, {
        ...rest,
        children: new Map(children),
        last: { ...last, evidence: () => structuredClone(saved) },
      } as Episode);
    }
    for (const [k, t] of m.resolvedAt) this.resolvedAt.set(k, t);
    for (const [k, n] of m.pending) this.pending.set(k, n);
  }

  /** The last signal of an open episode, if any. */
  lastSignal(id: string): Signal | undefined {
    return this.open.get(id)?.last;
  }

  /** Open, or resolved less than `withinMs` ago: still the explanation of what follows it. */
  isOpenOrRecent(id: string, now: number, withinMs: number): boolean {
    if (this.open.has(id)) return true;
    const t = this.resolvedAt.get(id);
    return t !== undefined && now - t < withinMs;
  }

  /** Open episode keys of a rule (sorted), for re-evaluation. */
  openKeys(rule: RuleId, scope: Scope): string[] {
    const out: string[] = [];
    for (const e of this.open.values()) if (e.rule === rule && e.scope === scope) out.push(e.key);
    return out.sort();
  }

  /** Whether anything is open on this scope key (its baseline should not learn now). */
  busy(scope: Scope, key: string): boolean {
    for (const e of this.open.values()) if (e.scope === scope && e.key === key) return true;
    return false;
  }

  /** The alerts currently firing and sent (for a board that connects late). */
  active(): AlertRecord[] {
    const out: AlertRecord[] = [];
    for (const e of this.open.values()) {
      if (e.sent) out.push(this.build(e, 'firing', e.lastSeen));
    }
    return out;
  }

  /**
   * Whether a signal could change nothing: it does not fire, its key has no open episode, and no
   * re-fire is pending for any key (apply would only forget the key's pending count). A rule may
   * then leave the signal unbuilt (a signal, its evidence closure and a copy of its counts per
   * judged key were most of the rules' allocation).
   */
  unchangedBy(open: boolean, fire: boolean): boolean {
    return !open && !fire && this.pending.size === 0;
  }

  /** Apply one evaluation. Returns the transitions for the sinks, in order. */
  apply(sig: Signal, now: number, out: AlertRecord[]): void {
    const id = episodeKey(sig.rule, sig.scope, sig.key);
    let ep = this.open.get(id);
    if (!ep) {
      if (!sig.fire) {
        this.pending.delete(id);
        return;
      }
      // Re-firing soon after a resolve needs the condition on 3 evaluations in a row: a
      // borderline key must not flap resolve/fire/resolve.
      const resolved = this.resolvedAt.get(id);
      if (resolved !== undefined && now - resolved < this.opts.reopenGuardMs) {
        const n = (this.pending.get(id) ?? 0) + 1;
        this.pending.set(id, n);
        if (n < 3) return;
      }
      this.pending.delete(id);
      ep = {
        alertId: alertIdOf(sig.rule, sig.scope, sig.key, now),
        rule: sig.rule,
        scope: sig.scope,
        key: sig.key,
        firstSeen: now,
        lastSeen: now,
        sent: false,
        children: new Map(),
        lastSentCount: sig.count,
        lastSentSeverity: sig.severity,
        lastSentTs: now,
        lastSentChildren: 0,
        last: sig,
      };
      this.open.set(id, ep);
      const parent = sig.parent !== undefined ? this.open.get(sig.parent) : undefined;
      if (parent) {
        ep.foldedInto = sig.parent;
        parent.children.set(id, { rule: sig.rule, scope: sig.scope, key: sig.key, since: now });
        this.stats.folded++;
        return;
      }
      // The parent resolved a moment ago: this is its tail (a longer window still holds the
      // parent's evidence). Fold it; it fires on its own only if it outlives that window.
      const ended = sig.parent !== undefined ? this.resolvedAt.get(sig.parent) : undefined;
      if (ended !== undefined) {
        ep.foldedInto = sig.parent;
        ep.orphanSince = ended;
        this.stats.folded++;
        return;
      }
      this.send(ep, now, out);
      return;
    }

    if (sig.fire) {
      ep.lastSeen = now;
      ep.clearSince = undefined;
    } else if (sig.clear) {
      ep.clearSince ??= now;
    } else {
      ep.clearSince = undefined;
    }
    if (sig.fire || !sig.clear) {
      // Severity only escalates within an episode: a rate wobbling around the critical level
      // must not send warning/critical/warning updates.
      // The stronger verdict is kept whole, with its confidence: a thin-evidence warning
      // (confidence medium) raised to a critical already judged would be a critical of medium
      // confidence, which the contract rules out.
      if (SEVERITY_RANK[sig.severity] < SEVERITY_RANK[ep.last.severity]) {
        const { confidence: _thin, ...rest } = sig;
        sig = {
          ...rest,
          severity: ep.last.severity,
          ...(ep.last.confidence ? { confidence: ep.last.confidence } : {}),
        };
      }
      ep.last = sig;
    }

    // Explained by an incident found after it began: folded from now on. If it was sent, one
    // update says so (evidence.foldedInto) and its resolve is still sent, to close it.
    if (sig.foldOpen && sig.parent !== undefined && ep.foldedInto === undefined) {
      const parent = this.open.get(sig.parent);
      if (parent && parent.foldedInto === undefined && sig.parent !== id) {
        ep.foldedInto = sig.parent;
        ep.orphanSince = undefined;
        parent.children.set(id, { rule: sig.rule, scope: sig.scope, key: sig.key, since: now });
        this.stats.folded++;
        if (ep.sent) {
          ep.lastSentTs = now;
          ep.lastSentSeverity = ep.last.severity;
          ep.lastSentConfidence = ep.last.confidence;
          out.push(this.build(ep, 'firing', now));
          this.stats.updated++;
        }
      }
    }

    // Folded: stays quiet while the parent fires; fires on its own if it outlives the parent.
    if (ep.foldedInto !== undefined) {
      if (this.open.has(ep.foldedInto)) {
        ep.orphanSince = undefined;
      } else {
        ep.orphanSince ??= now;
        if (!ep.clearSince && now - ep.orphanSince >= this.opts.unfoldAfterMs(ep.rule)) {
          ep.foldedInto = undefined;
          this.send(ep, now, out);
          return;
        }
      }
    }

    if (ep.clearSince !== undefined && now - ep.clearSince >= this.opts.holdMs(ep.rule)) {
      this.resolve(id, ep, now, out);
      return;
    }

    // Silenced and the silence is over while it still fires: send it now.
    if (!ep.sent && ep.foldedInto === undefined && sig.fire) {
      this.send(ep, now, out);
      return;
    }

    // Material update: severity escalated, an early (thin) alert whose evidence is now whole
    // (its confidence rose), or the evidence grew fourfold (count or folded children), at most
    // every updateGap. Anything less is the same story told again.
    if (ep.sent && sig.fire && ep.foldedInto === undefined) {
      const escalated =
        SEVERITY_RANK[sig.severity] > SEVERITY_RANK[ep.lastSentSeverity] ||
        CONFIDENCE_RANK[sig.confidence ?? 'high'] >
          CONFIDENCE_RANK[ep.lastSentConfidence ?? 'high'];
      const grew =
        (sig.count >= 4 * Math.max(1, ep.lastSentCount) ||
          ep.children.size >= 4 * Math.max(1, ep.lastSentChildren) + 4) &&
        now - ep.lastSentTs >= this.opts.updateGapMs;
      if (escalated || grew) {
        ep.lastSentCount = sig.count;
        ep.lastSentSeverity = sig.severity;
        ep.lastSentConfidence = sig.confidence;
        ep.lastSentTs = now;
        ep.lastSentChildren = ep.children.size;
        out.push(this.build(ep, 'firing', now));
        this.stats.updated++;
      }
    }
  }

  /** Folded children of an open episode (for its evidence). */
  children(id: string): { rule: RuleId; scope: Scope; key: string }[] {
    const ep = this.open.get(id);
    if (!ep) return [];
    return [...ep.children.values()]
      .sort((a, b) =>
        a.rule + a.key < b.rule + b.key ? -1 : a.rule + a.key > b.rule + b.key ? 1 : 0,
      )
      .map(({ rule, scope, key }) => ({ rule, scope, key }));
  }

  /** Drop re-fire guards older than the guard (bounded memory). */
  prune(now: number): void {
    for (const [id, t] of this.resolvedAt) {
      if (now - t >= this.opts.reopenGuardMs) {
        this.resolvedAt.delete(id);
        this.pending.delete(id);
      }
    }
  }

  private send(ep: Episode, now: number, out: AlertRecord[]): void {
    const silence = this.silences.match(
      {
        rule: ep.rule,
        scope: ep.scope,
        key: ep.key,
        merchantId: ep.last.merchantId,
        region: ep.last.region,
      },
      now,
    );
    if (silence) {
      if (ep.silencedBy === undefined) {
        ep.silencedBy = silence.id ?? 'silence';
        this.recordSilenced(this.build(ep, 'firing', now));
      }
      return;
    }
    ep.silencedBy = undefined;
    ep.sent = true;
    ep.lastSentCount = ep.last.count;
    ep.lastSentSeverity = ep.last.severity;
    ep.lastSentConfidence = ep.last.confidence;
    ep.lastSentTs = now;
    ep.lastSentChildren = ep.children.size;
    out.push(this.build(ep, 'firing', now));
    this.stats.fired++;
  }

  private resolve(id: string, ep: Episode, now: number, out: AlertRecord[]): void {
    this.open.delete(id);
    this.resolvedAt.set(id, now);
    // A resolved child stays listed in its parent's evidence: the parent's episode covered it.
    // Children of a resolving parent keep their episodes; they unfold if they outlive it.
    if (ep.sent) {
      out.push(this.build(ep, 'resolved', now));
      this.stats.resolved++;
    } else if (ep.silencedBy !== undefined) {
      this.recordSilenced(this.build(ep, 'resolved', now));
    }
  }

  private recordSilenced(a: AlertRecord): void {
    a.silenced = true;
    this.stats.silenced++;
    this.silencedLog.push(a);
    if (this.silencedLog.length > 1000) this.silencedLog.splice(0, this.silencedLog.length - 1000);
  }

  private build(ep: Episode, status: 'firing' | 'resolved', now: number): AlertRecord {
    const s = ep.last;
    // Once sent, an episode shows the severity and confidence last sent (each firing transition
    // sets them first): a resolve, or the list a late board gets, must not carry a stronger
    // verdict that never fired (a rate that rose while neither firing nor clearing).
    const severity = ep.sent ? ep.lastSentSeverity : s.severity;
    const confidence = ep.sent ? ep.lastSentConfidence : s.confidence;
    const texts = s.texts !== undefined ? VARIANT_TEXTS[s.texts] : RULE_TEXTS[ep.rule];
    const evidence = s.evidence();
    const children = sortChildren(ep.children);
    if (children.length > 0) {
      evidence.foldedCount = children.length;
      evidence.folded = children.slice(0, 50);
    }
    // (only an episode folded after it was sent is ever built while folded)
    const parent = ep.foldedInto !== undefined ? this.open.get(ep.foldedInto) : undefined;
    if (parent) {
      evidence.foldedInto = {
        alertId: parent.alertId,
        rule: parent.rule,
        scope: parent.scope,
        key: parent.key,
      };
    }
    const a: AlertRecord = {
      alertId: ep.alertId,
      rule: ep.rule,
      severity,
      status,
      scope: ep.scope,
      key: ep.key,
      merchantId: s.merchantId,
      region: s.region,
      window: s.window,
      metric: s.metric,
      value: round(s.value),
      threshold: round(s.threshold),
      baseline: round(s.baseline),
      evidence,
      ...(confidence ? { confidence } : {}),
      probableCauses: [...texts[this.opts.lang].probableCauses],
      actions: [...texts[this.opts.lang].actions],
      firstSeen: iso(ep.firstSeen),
      lastSeen: iso(ep.lastSeen),
      ts: iso(now),
      i18n: {
        en: { probableCauses: [...texts.en.probableCauses], actions: [...texts.en.actions] },
        zh: { probableCauses: [...texts.zh.probableCauses], actions: [...texts.zh.actions] },
      },
    };
    if (a.merchantId === undefined) delete a.merchantId;
    if (a.region === undefined) delete a.region;
    return a;
  }
}

function sortChildren(
  children: Episode['children'],
): { rule: RuleId; scope: Scope; key: string }[] {
  return [...children.values()]
    .map(({ rule, scope, key }) => ({ rule, scope, key }))
    .sort((a, b) => {
      const x = `${a.rule}|${a.key}`;
      const y = `${b.rule}|${b.key}`;
      return x < y ? -1 : x > y ? 1 : 0;
    });
}

/** Deterministic id of an episode: same stream, same ids. */
export function alertIdOf(rule: RuleId, scope: Scope, key: string, firstSeen: number): string {
  const h = createHash('sha1').update(`${rule}|${scope}|${key}|${firstSeen}`).digest('hex');
  return `al_${h.slice(0, 20)}`;
}
