import { windowLabel, type RuleId, type Severity } from '@tillwatch/contracts';
import { FLEET_KEY, M, SCOPE } from '@tillwatch/core';
import type { RateRuleConfig, RulesConfig } from '../config';

type RegionalOutageConfig = RulesConfig['rules']['regional_outage'];
import type { Signal } from '../episodes';
import { judgeEarly } from './rate-rule';
import { nearFullHour } from './terminal';
import { explainedBy, explainsEvidence, feedParent, isFeedKey } from './feed-outage';
import { poissonCdf, poissonSf, round, wilsonLower } from '../stats';
import { isOutage, type Failure } from '../tracker';
import {
  METRICS,
  RULE_CATS,
  bufs,
  durationMs,
  emit,
  fleetRate,
  gone,
  judgeRate,
  keyBaseline,
  markElevated,
  read,
  windowBuf,
  withOpen,
  type Ctx,
  type Metric,
  type RateVerdict,
  type RegionVolume,
} from './context';
import {
  breadth,
  categoryCounts,
  allFailures,
  failuresIn,
  failuresOf,
  rateEvidence,
  scopeTerminals,
  terminalsByCount,
  topCodes,
  windowStart,
} from './evidence';

/**
 * Rules whose keys span every source partition (CROSS_PARTITION_RULES): a region, an issuer, a
 * firmware version. Their alerts are the parents that terminal and merchant alerts fold into.
 */

export function regionalOutage(ctx: Ctx): void {
  const p = ctx.cfg.rules.regional_outage;
  if (!p.enabled) return;
  const rule: RuleId = 'regional_outage';
  const m = bufs[0]!;
  const f = bufs[1]!;
  const wins = [...new Set(p.windows.map((l) => ctx.win(l)))];
  const prior = fleetRate(ctx, METRICS.outageErrors, METRICS.auths);
  const mainCollapse = ctx.win(p.collapse.window);
  const fastCollapse = ctx.win(p.collapse.fastWindow);
  const quarterWin = ctx.win(p.collapse.suddenWindow);
  const collapseWins = [...new Set([fastCollapse, mainCollapse])];
  const slotMs = durationMs(ctx.cfg.baseline.updateEvery);
  const cand = withOpen(ctx, rule, 'region', ctx.engine.keys(SCOPE.region));
  const silent = p.partial.enabled ? silentByRegion(ctx) : undefined;
  for (const key of cand.keys) {
    if (isFeedKey(key)) continue; // every region at once: feed-outage.ts
    const base = Math.max(
      prior,
      keyBaseline(ctx, 'region', key, METRICS.outageErrors, METRICS.auths, prior),
    );
    // (a) error surge, judged on the short window first (seconds matter to SREs), and against
    // the rest of the fleet right now: an issuer outage raises every region alike.
    let surge: SurgeVerdict | undefined;
    let surgeClear = true;
    let errorsSuspect = false;
    let lastV: SurgeVerdict | undefined;
    let maxRef = base;
    for (const w of wins) {
      if (!read(ctx, 'region', key, w, m)) continue;
      read(ctx, 'fleet', FLEET_KEY, w, f);
      const k = METRICS.outageErrors(m);
      const n = m[M.auths]!;
      const restN = f[M.auths]! - n;
      const rest = restN > 0 ? (METRICS.outageErrors(f) - k) / restN : 0;
      const ref = Math.max(base, rest);
      const v: SurgeVerdict = Object.assign(judgeRate(k, n, ref, p), { w, k, n, rest, ref }); // (rate-rule.ts: not a spread)
      // thin evidence said early (config `early`): a warning with confidence medium
      if (
        !v.fire &&
        !cand.open.has(key) &&
        p.early &&
        judgeEarly(k, n, ref, v.threshold, p.early)
      ) {
        v.fire = true;
        v.early = true;
      }
      if (v.suspect) {
        markElevated(ctx, 'region', key);
        errorsSuspect = true;
      }
      if (!v.clear) surgeClear = false;
      lastV ??= v;
      if (v.fire && (!surge || (surge.early && !v.early))) surge = v;
      maxRef = Math.max(maxRef, ref);
    }
    // The errors since the surge began, when no window holds them all on thin evidence: a quiet
    // region's first errors fall out of the 1 min window before its sixth arrives, and the 5 min
    // window dilutes them with the calm minutes before (a 37-till region's sixth outage error
    // was judged only at its seventh).
    if (!surge && !cand.open.has(key) && p.early) {
      surge = judgeOnset(ctx, key, wins[wins.length - 1]!, maxRef, lastV?.rest ?? 0, p, p.early);
    }
    let surgeTerminals = 0;
    if (surge) {
      const list = failuresIn(
        ctx,
        ctx.tracker.statesOf(ctx.tracker.byRegion.get(key), false),
        windowStart(ctx, surge.w),
        RULE_CATS.regional_outage,
      );
      surgeTerminals = breadth(list, 'terminal', ctx);
      const need = surge.early ? (p.early?.minTerminals ?? p.minTerminals) : p.minTerminals;
      if (surgeTerminals < need) surge = undefined;
      else if (issuerExplains(ctx, surge, list, p)) surge = undefined;
    }

    // (b) traffic collapse: auths and heartbeats far below the region's normal for this slot
    // (calendar.ts: its local hour on a working or rest day), judged on the short window first.
    // Shops of a region close together (malls close at the minute and switch their tills off),
    // so a drop alone is not an outage: only a near-total silence is (24-hour shops, hotels and
    // petrol stations never close together with the malls), or a drop below a profile that has
    // seen this slot before; the latter is a `warning`, never a page. On day one (no profile
    // for the slot) a partial drop does not fire at all: closings give exactly that.
    let collapse: Collapse | undefined;
    let collapseClear = true;
    let fastBack = false;
    let shown: Collapse | undefined;
    const vol = ctx.regionVolume.get(key);
    // a profile counts once it has seen this slot on two days (one Saturday says little
    // about a Sunday); before that, the last half hour's rate is the reference
    const ea = vol?.auths.expected(ctx.now, 2);
    const eh = vol?.heartbeats.expected(ctx.now, 2);
    if (ea) {
      // A region dark for longer than the short window: not one more event since the start of
      // the first empty read of it (quietSince: that evaluation), judged over the whole gap, so
      // a cut is paged in about two minutes instead of after the 5 min window has emptied. A
      // read at `now` covers the window's closed panes, [E - window, E) with E = now floored to
      // a pane (both engines), so the gap is E(now) - E(quietSince) + window; and at least the
      // time since the region's last event (exact in one engine; in the rollup its newest
      // pane's end, which forwarded records move on, so the first bound decides there). (It was
      // a pane less: a region cut at 20:55:00 was judged dark for 115 s at 20:57:00, and paged
      // 10 s after its 120 s figure, its p-value short of darkPValue by 0.3 %.)
      const fastMs = ctx.engine.config.windowsMs[fastCollapse]!;
      if (read(ctx, 'region', key, fastCollapse, m) && m[M.auths]! + m[M.heartbeats]! === 0) {
        vol!.quietSince ??= ctx.now;
      } else if (vol) delete vol.quietSince;
      const pane = ctx.engine.config.panesMs[fastCollapse]!;
      const floorPane = (t: number) => Math.floor(t / pane) * pane;
      const last = ctx.engine.lastSeen(SCOPE.region, key);
      const gapMs =
        vol?.quietSince !== undefined
          ? Math.max(
              floorPane(ctx.now) - floorPane(vol.quietSince) + fastMs,
              Number.isFinite(last) ? ctx.now - last : 0,
            )
          : 0;
      for (const cw of gapMs > fastMs ? [-1, ...collapseWins] : collapseWins) {
        const w = cw < 0 ? fastCollapse : cw;
        if (!read(ctx, 'region', key, w, m)) continue;
        // What the window should have held is what the hours it covers hold: at 08:00:00 a
        // 5 min window is 07:55-08:00, before the shops open, not the 08:00 hour's traffic
        // (three mornings of a region paged as a collapse at the hour sharp in a tuning week).
        const span = cw < 0 ? gapMs : ctx.engine.config.windowsMs[w]!;
        const mid = ctx.now - span / 2;
        const c = judgeCollapse(
          ctx,
          quarterWin,
          vol!,
          p.collapse,
          w,
          m,
          vol!.auths.expected(mid, 2) ?? ea,
          vol!.heartbeats.expected(mid, 2)?.value ?? eh?.value ?? 0,
          slotMs,
          cw < 0 ? gapMs : undefined,
        );
        if (cw < 0) {
          if (c.level !== 'none' && c.level !== 'closing') collapse = c;
          else if (c.level === 'closing' && errorsSuspect) collapse = c;
          continue;
        }
        // (active: more than the collapse ratio; the last few tills switched off after closing
        // keep a closing's silence from starting on the hour)
        if (cw === fastCollapse && c.seen > p.collapse.ratio * c.expected) {
          vol!.activeAt = ctx.now;
        }
        // recovered only when every window is back (the short one first, the long one after)
        if (c.seen < 0.6 * c.expected) collapseClear = false;
        if (cw === mainCollapse) shown ??= c;
        // traffic back in the short window: the long one is still filling, not silent
        if (cw !== fastCollapse && fastBack && c.level !== 'profiled') continue;
        if (cw === fastCollapse) fastBack = c.seen > p.collapse.nearTotal * c.expected;
        // a likely closing is said (as a warning) only when the region also shows outage
        // errors; alone, it is what every evening of a small region looks like
        if (c.level === 'closing' && !errorsSuspect) continue;
        if (c.level !== 'none' && !collapse) collapse = c;
      }
    }
    // (c) part of the region cut off: one link's terminals (a carrier's cellular lines) silent
    // or failing while the same shops sell on their other terminals.
    const part = silent ? judgePartial(ctx, p.partial, key, silent.get(key) ?? 0) : undefined;
    const fire = surge !== undefined || collapse !== undefined || part?.fire === true;
    const clear = surgeClear && collapseClear && (part?.clear ?? true);
    if (!fire && !cand.open.has(key)) continue;
    const v = surge ?? lastV;
    // A collapse that has not recovered yet is still the story, not an error surge.
    const col = collapse ?? shown;
    const usePartial = !surge && !collapse && part !== undefined && (part.fire || !part.clear);
    const useCollapse =
      !surge && !usePartial && col !== undefined && (collapse !== undefined || !collapseClear);
    const expectedAuths = col?.expectedAuths ?? 0;
    const observed = col?.auths ?? 0;
    // Only errors or a near-total silence page; anything less sure is at most a warning.
    const severity: Severity =
      (surge && !surge.early) ||
      (collapse?.level === 'total' && !collapse.thin) ||
      (part?.fire && part.sure)
        ? p.severity
        : atMost(p.severity, 'warning');
    const now = ctx.now;
    const counts = Float64Array.from(m);
    const sig: Signal = {
      rule,
      scope: 'region',
      key,
      fire,
      clear,
      severity,
      ...(collapse && !surge && !part?.fire && collapse.level !== 'total'
        ? { confidence: collapse.level === 'closing' ? ('low' as const) : ('medium' as const) }
        : (surge?.early && collapse?.level !== 'total' && !part?.fire) ||
            (collapse?.thin && !surge && !part?.fire) ||
            (part?.fire && !part.sure && !surge && collapse?.level !== 'total')
          ? { confidence: 'medium' as const }
          : {}),
      ...(usePartial
        ? {
            window: p.partial.gap,
            metric: 'link_terminals_affected',
            value: part.share,
            threshold: p.partial.share,
            baseline: part.otherShare,
            count: part.affected.length,
          }
        : useCollapse
          ? {
              window: windowLabel(ctx.engine.config.windowsMs[col.w]!),
              metric: 'auth_volume',
              value: observed,
              threshold: p.collapse.ratio * expectedAuths,
              baseline: expectedAuths,
              count: Math.round(expectedAuths - observed),
            }
          : {
              window: windowLabel(ctx.engine.config.windowsMs[v?.w ?? 0]!),
              metric: 'outage_error_rate',
              value: v?.rate ?? 0,
              threshold: v?.threshold ?? 0,
              baseline: base,
              count: v?.k ?? 0,
            }),
      region: key,
      evidence: () => {
        const terms = ctx.tracker.byRegion.get(key) ?? new Set<string>();
        const ev: Record<string, unknown> = {
          trigger: usePartial ? 'partial_outage' : useCollapse ? 'traffic_collapse' : 'error_surge',
          terminals: terms.size,
        };
        if (part && (part.fire || !part.clear)) {
          ev.link = {
            network: part.network,
            liveTerminals: part.members,
            silent: part.silent,
            failing: part.failing,
            silentWhileShopSells: part.openShops,
            silentNeverSwitchedOff: part.alwaysOn,
            share: round(part.share),
            otherLinksSilentShare: round(part.otherShare),
            affectedTerminals: part.affected.slice(0, 20),
          };
        }
        if (surge?.onset) {
          ev.onset = {
            since: new Date(surge.onset.since).toISOString(),
            seconds: Math.round((now - surge.onset.since) / 1000),
            errors: surge.k,
            authsExpected: round(surge.n, 1),
            pValue: surge.onset.pValue,
          };
        }
        if (v) {
          // the window's failures only, as rateEvidence (evidence.ts): built later, the ring
          // holds failures after it
          const from = windowStart({ ...ctx, now }, v.w);
          const to = from + ctx.engine.config.windowsMs[v.w]!;
          const list = failuresOf(
            ctx,
            ctx.tracker.sorted(terms),
            from,
            RULE_CATS.regional_outage,
            (f) => f.ts < to,
          );
          ev.errors = v.k;
          ev.auths = v.n;
          ev.errorRate = round(v.rate);
          ev.restOfFleetErrorRate = round(v.rest);
          ev.topResponseCodes = topCodes(list.map((x) => x.f));
          ev.affectedTerminalCount = breadth(list, 'terminal', ctx);
          ev.affectedTerminals = terminalsByCount(list).map((t) => t.terminalId);
        }
        if (col && col.expectedAuths > 0) {
          ev.volume = {
            window: windowLabel(ctx.engine.config.windowsMs[col.w]!),
            auths: col.auths,
            expectedAuths: round(col.expectedAuths, 1),
            heartbeats: col.beats,
            expectedHeartbeats: round(col.expectedBeats, 1),
            pValue: col.pValue,
            // what the expectation rests on: this slot's profile (days seen) or the last half hour
            basis: ea?.byHour ? 'calendar_profile' : 'recent_rate',
            judged: col.level,
            ...(col.nightFloor !== undefined
              ? { overnightTillsExpected: round(col.nightFloor, 1) }
              : {}),
            ...(col.spanMs !== undefined ? { darkForSeconds: Math.round(col.spanMs / 1000) } : {}),
            ...(col.openOnOtherDays ? { hourOpenOnOtherDays: true } : {}),
          };
        }
        ev.byCategory = categoryCounts(counts);
        const explains = explainsEvidence(ctx, key);
        if (explains) ev.explains = explains;
        return ev;
      },
      ...feedParent(ctx, key),
    };
    emit(ctx, sig);
  }
}

type SurgeVerdict = RateVerdict & {
  w: number;
  k: number;
  n: number;
  rest: number;
  /** the rate judged against: the region's own or the rest of the fleet's, the higher */
  ref: number;
  early?: boolean;
  /** judged on the errors since the surge began (judgeOnset): k errors since `since`, n the
   *  auths the window's rate puts in that span */
  onset?: { since: number; pValue: number };
};

/**
 * The early test (config `early`) on the errors since a surge began: for each of the last
 * window's outage errors as the start, the errors from it to now against the auths the window's
 * rate puts in that span, on the rate judged against. Trying every start is several tests, so
 * the p-value is multiplied by their number (Bonferroni). The errors must come from
 * `minTerminals` tills and not mostly from one issuer (an issuer's outage crowds a region where
 * its cardholders are many; its own rule judges it).
 */
function judgeOnset(
  ctx: Ctx,
  region: string,
  w: number,
  ref: number,
  /** the rest of the fleet's rate, for the evidence */
  rest: number,
  p: RegionalOutageConfig,
  e: NonNullable<RegionalOutageConfig['early']>,
): SurgeVerdict | undefined {
  const m = bufs[2]!;
  if (!read(ctx, 'region', region, w, m)) return undefined;
  const n = m[M.auths]!;
  if (n <= 0 || METRICS.outageErrors(m) < e.minCount) return undefined;
  const now = ctx.now;
  const from = windowStart(ctx, w);
  // none of the region's terminals has an outage failure since: the list would be empty
  if (!ctx.tracker.outageSince(region, from, 1)) return undefined;
  const list = failuresIn(
    ctx,
    ctx.tracker.statesOf(ctx.tracker.byRegion.get(region), false),
    from,
    RULE_CATS.regional_outage,
  ).filter((x) => x.f.ts <= now);
  if (list.length < e.minCount) return undefined;
  list.sort((a, b) => a.f.ts - b.f.ts || (a.terminal < b.terminal ? -1 : 1));
  const perMs = n / ctx.engine.config.windowsMs[w]!;
  // a span shorter than two of the short window's panes is not read as a rate
  const minSpan = 2 * ctx.engine.config.panesMs[0]!;
  const tests = list.length - e.minCount + 1;
  let best: SurgeVerdict | undefined;
  for (let i = 0; i < tests; i++) {
    const k = list.length - i;
    const since = list[i]!.f.ts;
    const auths = perMs * Math.max(minSpan, now - since);
    const v = judgeRate(k, auths, ref, p);
    if (k / auths <= v.threshold) continue;
    const pValue = poissonSf(k, auths * ref) * tests;
    if (pValue >= e.pValue || (best?.onset && pValue >= best.onset.pValue)) continue;
    const tail = list.slice(i);
    if (breadth(tail, 'terminal', ctx) < (e.minTerminals ?? p.minTerminals)) continue;
    if (oneIssuer(tail)) continue;
    best = {
      ...v,
      fire: true,
      early: true,
      w,
      k,
      n: auths,
      rest,
      ref,
      onset: { since, pValue },
    };
  }
  return best;
}

/** Whether most of these failures that name an issuer name the same one. */
function oneIssuer(list: readonly { f: Failure }[]): boolean {
  const by = new Map<string, number>();
  let named = 0;
  for (const x of list) {
    if (x.f.issuerId === undefined) continue;
    named++;
    by.set(x.f.issuerId, (by.get(x.f.issuerId) ?? 0) + 1);
  }
  for (const c of by.values()) if (c > 0.5 * named) return true;
  return false;
}

interface PartialOutage {
  fire: boolean;
  clear: boolean;
  network: string;
  members: number;
  silent: number;
  failing: number;
  openShops: number;
  /** silent tills never switched off */
  alwaysOn: number;
  affected: string[];
  share: number;
  otherShare: number;
  /** twice the evidence of a tills-on link cut (shops with a till known on + failing tills) the
   *  warning needs:
   *  a page; less is a warning of medium confidence */
  sure: boolean;
}

/**
 * The region's live terminals by link (the network their heartbeats report), and for each link
 * how many went silent (reported by their source partition, Tracker.silenceChanges) or fail
 * with timeouts or switch errors now. A link whose terminals are mostly affected while the
 * region's other links are not, with silent terminals whose shops kept selling on another
 * terminal, is cut off: a closing switches off whole shops on every link alike.
 */
function judgePartial(
  ctx: Ctx,
  c: RegionalOutageConfig['partial'],
  region: string,
  /** the region's terminals silent now (silentByRegion) */
  silentHere: number,
): PartialOutage | undefined {
  const now = ctx.now;
  const from = now - FAILING_SPAN;
  // A link's affected terminals are its silent ones and those with two outage failures since
  // `from`. With fewer silent than minTerminals (config: at least 1) in the whole region and
  // no terminal that can have two such failures (Tracker.outageSince), every link has fewer
  // affected than minTerminals: not fired and clear, which the caller reads as no verdict
  // (undefined). Said without the walk over every terminal of the region, which was most of
  // this test's cost at every evaluation.
  if (silentHere < c.minTerminals && !ctx.tracker.outageSince(region, from, 2)) return undefined;
  const links = new Map<
    string,
    {
      members: number;
      silent: number;
      failing: number;
      /** shops of the affected terminals, and those among them that sold on another till */
      shops: Set<string>;
      openShops: Set<string>;
      /** shops with a silent till known to be on: it sold on another till, or the till is one
       *  its profile knows as never switched off (a closing switches neither off) */
      cutShops: Set<string>;
      /** silent tills never switched off */
      alwaysOn: number;
      affected: string[];
      /** when the silent ones last spoke */
      lastSeen: number[];
    }
  >();
  let allMembers = 0;
  let allSilent = 0;
  for (const t of ctx.tracker.statesOf(ctx.tracker.byRegion.get(region), true)) {
    const id = t.id;
    const q = ctx.tracker.silences.get(id);
    const silent = q !== undefined && q.lastSeen >= now - SILENT_FOR;
    // (counted alike by silentByRegion)
    if (!silent && now - t.lastSeen > LIVE) continue;
    // a till its profile knows as usually off from the hour it went quiet in is closed, not cut
    // (a mall's cellular tills switched off at 21:00 on 11.11 paged as a carrier outage)
    if (silent && ctx.tracker.usuallyOff(t, q.lastSeen)) continue;
    const network = q?.network || t.network;
    allMembers++;
    if (silent) allSilent++;
    if (!network) continue;
    let l = links.get(network);
    if (!l)
      links.set(
        network,
        (l = {
          members: 0,
          silent: 0,
          failing: 0,
          shops: new Set(),
          openShops: new Set(),
          cutShops: new Set(),
          alwaysOn: 0,
          affected: [],
          lastSeen: [],
        }),
      );
    l.members++;
    if (silent) {
      l.silent++;
      l.lastSeen.push(q.lastSeen);
      if (q.orphan) l.openShops.add(t.merchantId);
      const on = ctx.tracker.alwaysOn(t);
      if (on) l.alwaysOn++;
      if (q.orphan || on) l.cutShops.add(t.merchantId);
      l.shops.add(t.merchantId);
      l.affected.push(id);
      continue;
    }
    let fails = 0;
    for (const f of ctx.tracker.failuresSince(t, from)) {
      if (isOutage(f.cat)) fails++;
    }
    if (fails >= 2) {
      l.failing++;
      l.shops.add(t.merchantId);
      l.affected.push(id);
    }
  }
  let best: PartialOutage | undefined;
  for (const [network, l] of [...links].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const n = l.affected.length;
    const share = l.members > 0 ? n / l.members : 0;
    const othersMembers = allMembers - l.members;
    const otherShare = othersMembers > 0 ? (allSilent - l.silent) / othersMembers : 0;
    // Tills switched off on the hour (lanes closed for the night, a shop's second till at
    // closing) with none of the link failing look like a closing: not a cut link.
    const onTheHour =
      l.failing < 2 && l.lastSeen.length > 0 && nearFullHour(ctx, region, median(l.lastSeen));
    // tills that are on and cut: silent while their shop sells on another line or while their
    // profile says they are never off, or still connected and failing (a closing does none)
    const onAndCut = l.cutShops.size + l.failing;
    const fire =
      !onTheHour &&
      othersMembers > 0 &&
      n >= c.minTerminals &&
      share >= c.share &&
      onAndCut >= c.minOpenShops &&
      // spread over shops: one supermarket closing lanes is not a carrier (three shops dark, or
      // two each with a till known to be on)
      (l.shops.size >= 3 || l.cutShops.size >= 2) &&
      otherShare <= c.otherShare;
    const clear = n < c.minTerminals || share < c.share / 2;
    const cand: PartialOutage = {
      fire,
      clear,
      network,
      members: l.members,
      silent: l.silent,
      failing: l.failing,
      openShops: l.openShops.size,
      alwaysOn: l.alwaysOn,
      affected: l.affected,
      share,
      otherShare,
      sure: onAndCut >= 2 * c.minOpenShops,
    };
    if (
      !best ||
      (cand.fire && !best.fire) ||
      (cand.fire === best.fire && !cand.clear && best.clear)
    ) {
      best = cand;
    }
  }
  return best;
}

// presence is announced every 30 min per terminal: live = heard of within 45 min
const LIVE = 45 * 60_000;
// a silence counts until the terminal speaks again (or is forgotten after 6 h)
const SILENT_FOR = 6 * 3_600_000;
// a terminal with two outage failures in this span is failing
const FAILING_SPAN = 5 * 60_000;

/**
 * How many terminals of each region (the tracker's, as judgePartial walks them) are silent now
 * as judgePartial counts them: one walk of the silences per evaluation.
 */
function silentByRegion(ctx: Ctx): Map<string, number> {
  const out = new Map<string, number>();
  const since = ctx.now - SILENT_FOR;
  const terminals = ctx.tracker.terminals;
  ctx.tracker.silences.forEach((q, id) => {
    if (q.lastSeen < since) return;
    const t = terminals.get(id);
    if (t) out.set(t.region, (out.get(t.region) ?? 0) + 1);
  });
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const atMost = (s: Severity, cap: Severity): Severity => (RANK[s] > RANK[cap] ? cap : s);

interface Collapse {
  w: number;
  auths: number;
  beats: number;
  expectedAuths: number;
  expectedBeats: number;
  expected: number;
  seen: number;
  pValue: number;
  /** total: near-total silence, an outage; profiled: far below this slot's profile; closing: a
   *  near-total silence on the hour without a profile (unsure); none */
  level: 'total' | 'profiled' | 'closing' | 'none';
  /** the span judged, when it is a dark region's whole gap rather than the window */
  spanMs?: number;
  /** a total silence proven only to darkPValue, or on day one by the night floor: a warning,
   *  confidence medium */
  thin?: boolean;
  /** events the region's overnight tills should have sent in the span (day one) */
  nightFloor?: number;
  /** a silence on the hour without a profile for today's class of day, not taken for a closing
   *  because the other class's profile keeps the region open at that hour */
  openOnOtherDays?: boolean;
}

/** One window's traffic against the region's profile (per `slotMs`, scaled to the window). */
function judgeCollapse(
  ctx: Ctx,
  quarter: number,
  vol: RegionVolume,
  c: RegionalOutageConfig['collapse'],
  w: number,
  m: Float64Array,
  ea: { value: number; byHour: boolean },
  beatsPerSlot: number,
  slotMs: number,
  /** judge this span instead of the window's length: the window read is empty and the region
   *  has been dark this long (quietSince) */
  spanMs = ctx.engine.config.windowsMs[w]!,
): Collapse {
  const region = vol.region;
  const gap = spanMs !== ctx.engine.config.windowsMs[w];
  // A dark gap judged without a profile for the slot: the reference is the last half hour's
  // rate, which lags behind a region thinning out after its closing hour (a natural 75 s lull
  // at 21:23 read against the busier 20:55). The quarter hour before the gap says what the
  // region was doing just now; the lower of the two is the expectation.
  // the quarter hour's auths and heartbeats, read once (both day-one tests below use them)
  let quarterRead = false;
  let quarterSeen: number | undefined;
  const seenInQuarter = (): number | undefined => {
    if (!quarterRead) {
      quarterRead = true;
      const q = bufs[2]!;
      if (read(ctx, 'region', region, quarter, q)) quarterSeen = q[M.auths]! + q[M.heartbeats]!;
    }
    return quarterSeen;
  };
  let lag = 1;
  const qMs = ctx.engine.config.windowsMs[quarter]!;
  const before = gap && !ea.byHour && qMs - spanMs >= qMs / 3 ? seenInQuarter() : undefined;
  if (before !== undefined) {
    const perSlot = (before * slotMs) / (qMs - spanMs);
    const ref = ea.value + beatsPerSlot;
    if (ref > 0) lag = Math.min(1, perSlot / ref);
  }
  const scale = (spanMs / slotMs) * lag;
  const expectedAuths = ea.value * scale;
  const expectedBeats = beatsPerSlot * scale;
  const auths = m[M.auths]!;
  const beats = m[M.heartbeats]!;
  const expected = expectedAuths + expectedBeats;
  const seen = auths + beats;
  // minExpected is per collapse.window: a shorter window needs proportionally fewer
  // (a dark region's whole gap: enough once it should have held half of minExpected's events,
  // or as many as make its silence a thin proof (darkPValue), so a small region's cut is judged
  // too, by its p-value, a minute or two in)
  const scaled = (c.minExpected * spanMs) / durationMs(c.window);
  const minExpected = gap ? Math.min(scaled, c.minExpected / 2, -Math.log(c.darkPValue)) : scaled;
  const low = expected >= minExpected && seen <= c.ratio * expected;
  // The Poisson tail only when the cheap tests pass (counts can be thousands).
  const pValue = low ? poissonCdf(seen, expected) : 1;
  const beatsGone = expectedBeats < 10 * scale || beats <= c.heartbeatRatio * expectedBeats;
  let level: Collapse['level'] = 'none';
  // a dark region's gap (spanMs given): less sure than the page's p-value, said as a warning
  const dark = gap && seen === 0;
  // (on day one too: a silence that began as shops close on the hour, or that followed a
  // dwindling quarter hour, is judged a closing below whatever its p-value)
  const thin = dark && pValue >= c.pValue && pValue < c.darkPValue;
  if (low && (pValue < c.pValue || thin) && beatsGone) {
    if (seen <= c.nearTotal * expected) level = 'total';
    else if (ea.byHour) level = 'profiled';
  }
  // Day one (no profile for this slot): shops close on the hour, and in a small region they may
  // all close at once. A silence that began in the first minutes of a local hour, or in the last
  // one before it (the last sales of a closing), is what a closing looks like (an outage that
  // starts as malls are about to close, at 20:55, is not).
  // With a profile too, when the profile itself says the hour is a closing: it expects a
  // fraction of the hour before (a mall region whose street shops stayed open one more hour on
  // Saturday, closed on Sunday: its Sunday 22:00 silence was paged at 23:05 once Sunday's own
  // hour completed the profile).
  // Without a profile for today's class of day (the first Saturday of a fleet that has seen its
  // weekdays), the other class's profile still says whether this hour is one the region closes
  // at: a silence on the hour that no profile foresees is not taken for a closing, but it is
  // judged on a profile of other days, so it is a warning (thin) until today's class has one
  // (a region dark from 16:59 on the first Saturday waited 7.8 min for its overnight tills'
  // proof while every weekday had kept it busy past 17:00).
  const since = vol.activeAt;
  const minute = since === undefined ? -1 : Math.floor(ctx.tracker.calendar.minute(since, region));
  let unforeseen = false;
  if (
    level === 'total' &&
    since !== undefined &&
    (minute < c.closingMinutes || minute >= 60 - c.closingLeadMinutes)
  ) {
    const at = since + c.closingLeadMinutes * 60_000;
    const foreseen = ea.byHour
      ? closingHour(vol, at) === true
      : closingHour(vol, at, true) !== false;
    if (foreseen) level = 'closing';
    else unforeseen = !ea.byHour;
  }
  // ...and a region dwindling into the night (its last shops closing one after another, the
  // half-hour rate lagging behind) is not cut off either: a cut is sudden, so the quarter hour
  // before it still carried most of the traffic expected.
  const seen15 = level === 'total' && !ea.byHour ? seenInQuarter() : undefined;
  if (seen15 !== undefined && seen15 < 0.5 * (ea.value + beatsPerSlot) * (qMs / slotMs)) {
    level = 'closing';
  }
  // ...and a region whose tills heard from before it fell quiet belong to fewer than
  // minMerchants merchants goes dark when one shop closes or does not open, which is what
  // terminal_silent takes a whole shop going quiet for (a supermarket that is most of a small
  // region, its street shops shut hours before; a one-shop region whose shop stayed shut on a
  // Friday morning: both paged critical in a 60-till fleet's healthy week). A cut there looks
  // the same; it is not paged as a regional outage.
  if (level === 'total' && liveMerchants(ctx, region, vol.quietSince ?? ctx.now) < c.minMerchants) {
    level = 'closing';
  }
  // Either way, a closing switches off the tills of the shops that close, never those left on
  // overnight (24-hour shops, tills that heartbeat through the night): a region that has not
  // been dark for one slot in its last whole day (DayFloor) cannot go dark by closing. When its
  // fewest events a slot should have shown something in the gap (to nightFloorPValue), the
  // silence is a cut; one day's floor is thin proof, so a warning, confidence medium.
  let floor: number | undefined;
  if (level === 'closing' && !ea.byHour) {
    const perSlot = vol.floor.floor(ctx.now);
    if (perSlot !== undefined) {
      floor = (perSlot * spanMs) / slotMs;
      if (seen === 0 && Math.exp(-floor) < c.nightFloorPValue) level = 'total';
    }
  }
  const floorProof = level === 'total' && floor !== undefined;
  return {
    w,
    auths,
    beats,
    expectedAuths,
    expectedBeats,
    expected,
    seen,
    pValue,
    level,
    ...(gap ? { spanMs } : {}),
    ...((thin || floorProof || unforeseen) && level === 'total' ? { thin: true } : {}),
    ...(floor !== undefined ? { nightFloor: floor } : {}),
    ...(unforeseen && level === 'total' ? { openOnOtherDays: true } : {}),
  };
}

/** Merchants with a till in the region heard from (presence, sales, heartbeats) in the LIVE
 *  span before `at`. */
function liveMerchants(ctx: Ctx, region: string, at: number): number {
  const since = at - LIVE;
  const seen = new Set<string>();
  for (const t of ctx.tracker.statesOf(ctx.tracker.byRegion.get(region), false)) {
    if (t.lastSeen >= since) seen.add(t.merchantId);
  }
  return seen.size;
}

/**
 * The profile's own view of the hour a silence began in: under a third of the hour before. With
 * `otherClass`, the view of the other class of day (working / rest) at the same hours. Undefined
 * when the profile has not seen both hours on two days.
 */
function closingHour(vol: RegionVolume, since: number, otherClass = false): boolean | undefined {
  const at = (t: number) => {
    if (otherClass) {
      const a = vol.auths.otherClass(t, 2);
      return a === undefined ? undefined : a + (vol.heartbeats.otherClass(t, 2) ?? 0);
    }
    const a = vol.auths.expected(t, 2);
    const h = vol.heartbeats.expected(t, 2);
    return a?.byHour ? a.value + (h?.value ?? 0) : undefined;
  };
  const hour = at(since);
  const before = at(since - 30 * 60_000);
  if (hour === undefined || before === undefined) return undefined;
  return hour < before / 3;
}

/**
 * A region's error surge made of an issuer's declines while that issuer's own alert is open (its
 * cardholders are many in the region: more of its errors here than elsewhere) is the issuer's
 * incident, not the region's: without those errors, would the region still fire? (A Friday-
 * evening issuer outage raised a regional warning in two held-out weeks of three.)
 */
function issuerExplains(
  ctx: Ctx,
  v: SurgeVerdict,
  list: readonly { f: Failure }[],
  p: RegionalOutageConfig,
): boolean {
  const failing = new Set(ctx.episodes.openKeys('issuer_degradation', 'issuer'));
  if (failing.size === 0 || list.length === 0) return false;
  let theirs = 0;
  for (const x of list) if (x.f.issuerId !== undefined && failing.has(x.f.issuerId)) theirs++;
  if (theirs === 0) return false;
  const k = Math.round(v.k * (1 - theirs / list.length));
  if (judgeRate(k, v.n, v.ref, p).fire) return false;
  return !(v.early && p.early && judgeEarly(k, v.n, v.ref, v.threshold, p.early));
}

interface RegionalExcess {
  region: string;
  /** the key's failures (forwarded, in the window) at terminals of that region */
  failures: number;
  /** that region's share of the key's terminals (firmware) or of the fleet's (issuer) */
  terminalShare: number;
}

/**
 * A version or an issuer whose extra failures come from one region's terminals, as timeouts
 * and issuer/switch errors, is not failing: the region is (a network outage there raises every
 * version its terminals run and every issuer its shoppers carry). The region's failures when at
 * least half of the key's come from it, mostly of the outage kinds; else undefined. The caller
 * judges the key again without them: what is left must stand on its own.
 */
function regionalExcess(
  ctx: Ctx,
  scope: 'issuer' | 'firmware',
  key: string,
  list: { terminal: string; f: Failure }[],
): RegionalExcess | undefined {
  const byRegion = new Map<string, { n: number; outage: number }>();
  for (const x of list) {
    const region = ctx.tracker.terminals.get(x.terminal)?.region ?? '';
    let r = byRegion.get(region);
    if (!r) byRegion.set(region, (r = { n: 0, outage: 0 }));
    r.n++;
    if (isOutage(x.f.cat)) r.outage++;
  }
  let top: [string, { n: number; outage: number }] | undefined;
  for (const e of byRegion)
    if (!top || e[1].n > top[1].n || (e[1].n === top[1].n && e[0] < top[0])) top = e;
  if (!top || top[1].n < 0.5 * list.length || top[1].outage < 0.7 * top[1].n) return undefined;
  const region = top[0];
  let all = 0;
  let inRegion = 0;
  if (scope === 'firmware') {
    for (const id of scopeTerminals(ctx, 'firmware', key)) {
      all++;
      if (ctx.tracker.terminals.get(id)?.region === region) inRegion++;
    }
  } else {
    all = ctx.tracker.terminals.size;
    inRegion = ctx.tracker.byRegion.get(region)?.size ?? 0;
  }
  const terminalShare = all > 0 ? inRegion / all : 1;
  return { region, failures: top[1].n, terminalShare };
}

interface SpreadSpec {
  rule: 'issuer_degradation' | 'firmware_regression';
  scope: 'issuer' | 'firmware';
  p: RateRuleConfig;
  num: Metric;
  metric: string;
  /** failures of this key (its terminals' rings, filtered) since `from` */
  failures(key: string, from: number): { terminal: string; f: Failure }[];
  /** minimum breadth of the failures (distinct merchants or terminals) */
  breadth: { by: 'terminal' | 'merchant'; min: number };
  extra(key: string): Record<string, unknown>;
}

/**
 * `gather(key, from)` for one key at a time and starts at or after `earliest`, walking once per
 * key: the list from `earliest`, filtered by time for a later start. The same lists in the same
 * order for a gather that is a filter on the failures' time in a fixed order, as failuresOf and
 * allFailures are (Tracker.failuresSince); rules/evidence.test.ts holds it to that.
 */
export function gatherOnce(
  gather: (key: string, from: number) => { terminal: string; f: Failure }[],
  earliest: number,
): (key: string, from: number) => { terminal: string; f: Failure }[] {
  let gatheredFor: string | undefined;
  let gathered: { terminal: string; f: Failure }[] = [];
  return (key, from) => {
    if (gatheredFor !== key) {
      gathered = gather(key, earliest);
      gatheredFor = key;
    }
    return from <= earliest ? gathered : gathered.filter((x) => x.f.ts >= from);
  };
}

/**
 * Rules on a key that spans the fleet (an issuer, a software version): far above its own past
 * AND above the rest of the fleet right now, on enough volume, and spread over enough
 * merchants or terminals that no single shop explains it.
 */
function spreadRule(ctx: Ctx, spec: SpreadSpec): void {
  const { rule, scope, p } = spec;
  if (!p.enabled) return;
  const prior = fleetRate(ctx, spec.num, METRICS.auths);
  const f = bufs[1]!;
  const cand = withOpen(ctx, rule, scope, ctx.engine.keys(SCOPE[scope]));
  const explained = new Map<string, RegionalExcess>();
  // A key firing in several windows had its failures gathered once per window, each a walk of
  // the fleet's rings (the issuer's: every terminal): now once per key (gatherOnce). The
  // evidence, built later, gathers its own.
  let earliest = Number.POSITIVE_INFINITY;
  for (const label of p.windows) earliest = Math.min(earliest, windowStart(ctx, ctx.win(label)));
  const failuresSince = gatherOnce(spec.failures, earliest);
  for (const key of cand.keys) {
    const base = keyBaseline(ctx, scope, key, spec.num, METRICS.auths, prior);
    let first: (RateVerdict & { w: number; k: number; rest: number; m: Float64Array }) | undefined;
    let firing: typeof first;
    for (let i = 0; i < p.windows.length; i++) {
      const w = ctx.win(p.windows[i]!);
      const m = windowBuf(i);
      if (!read(ctx, scope, key, w, m)) continue;
      const k = spec.num(m);
      const n = m[M.auths]!;
      const restN = read(ctx, 'fleet', FLEET_KEY, w, f) ? f[M.auths]! - n : 0;
      const rest = restN > 0 ? (spec.num(f) - k) / restN : prior;
      const ref = Math.max(base, prior, rest);
      const v = Object.assign(judgeRate(k, n, ref, p), { w, k, rest, m }); // (rate-rule.ts: not a spread)
      // A key far above the rest of the fleet does not teach its own baseline, even on counts
      // too small to be suspect against it: a new software version has no past, and learning
      // its first faulty half hour (8 % of 300 auths) raised its own threshold from 0.8 % to
      // 5 %, so a slow rollout was paged after 40-60 minutes, or not at all.
      if (v.suspect || (k >= 3 && wilsonLower(k, n, p.z) > Math.max(prior, rest) * p.factor)) {
        markElevated(ctx, scope, key);
      }
      if (v.fire) {
        const list = failuresSince(key, windowStart(ctx, w));
        const wide = breadth(list, spec.breadth.by, ctx);
        if (wide < spec.breadth.min) v.fire = false;
        const ex = v.fire ? regionalExcess(ctx, scope, key, list) : undefined;
        // Without that region's failures and its share of the traffic, is the key still odd?
        if (ex && !judgeRate(k - ex.failures, n * (1 - ex.terminalShare), ref, p).fire) {
          v.fire = false;
          explained.set(key, ex);
        }
      }
      first ??= v;
      if (v.fire && !firing) firing = v;
    }
    const open = cand.open.has(key);
    // explained by a region's outage: listed in its alert, folded into it (feed-outage.ts)
    const fold = explainedBy(ctx, rule, scope, key, firing ? undefined : explained.get(key));
    if (!first) {
      if (open) emit(ctx, gone(rule, scope, key, p.windows[0]!));
      continue;
    }
    if (!firing && !open) continue;
    const v = firing ?? first;
    const now = ctx.now;
    const inner = rateEvidence(ctx, rule, scope, key, v.w, v.m, {
      count: v.k,
      restOfFleetRate: round(v.rest),
      lowerBound: round(v.lower),
      ...spec.extra(key),
    });
    emit(ctx, {
      rule,
      scope,
      key,
      fire: firing !== undefined,
      clear: !firing && first.clear,
      severity: v.severity,
      window: windowLabel(ctx.engine.config.windowsMs[v.w]!),
      metric: spec.metric,
      value: v.rate,
      threshold: v.threshold,
      baseline: Math.max(base, prior, v.rest),
      count: v.k,
      ...fold,
      evidence: () => {
        const ev = inner();
        const list = spec.failures(key, windowStart({ ...ctx, now }, v.w));
        const ms = new Map<string, number>();
        for (const x of list) {
          const mid = ctx.tracker.terminals.get(x.terminal)?.merchantId ?? '';
          ms.set(mid, (ms.get(mid) ?? 0) + 1);
        }
        const ex = explained.get(key);
        // still open but no longer firing on its own: say which region's outage explains it
        if (ex) ev.explainedBy = { region: ex.region, terminalShare: round(ex.terminalShare) };
        ev.affectedMerchantCount = ms.size;
        ev.affectedMerchants = [...ms]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, 20)
          .map(([id]) => id);
        return ev;
      },
    });
  }
}

export function issuerDegradation(ctx: Ctx): void {
  const p = ctx.cfg.rules.issuer_degradation;
  spreadRule(ctx, {
    rule: 'issuer_degradation',
    scope: 'issuer',
    p,
    num: METRICS.issuerErrors,
    metric: 'issuer_error_rate',
    failures: (key, from) =>
      allFailures(ctx, from, RULE_CATS.issuer_degradation, (x) => x.issuerId === key),
    breadth: { by: 'merchant', min: p.minMerchants },
    extra: () => ({}),
  });
}

export function firmwareRegression(ctx: Ctx): void {
  const p = ctx.cfg.rules.firmware_regression;
  spreadRule(ctx, {
    rule: 'firmware_regression',
    scope: 'firmware',
    p,
    num: METRICS.softwareFaults,
    metric: 'software_fault_rate',
    failures: (key, from) =>
      failuresOf(ctx, scopeTerminals(ctx, 'firmware', key), from, RULE_CATS.firmware_regression),
    breadth: { by: 'terminal', min: p.minTerminals },
    extra: (key) => ({ terminalsOnVersion: scopeTerminals(ctx, 'firmware', key).length }),
  });
}
