import type { ClickHouseClient } from '@clickhouse/client';
import { PANE_COUNTERS } from '@tillwatch/clickhouse';
import type { TerminalEvent } from '@tillwatch/contracts';
import {
  DEFAULT_ENGINE_CONFIG,
  FLEET_KEY,
  METRIC_COUNT,
  Outcome,
  ReferenceEngine,
  SCOPE,
  createEngine,
  type ScopeName,
  type WindowEngine,
} from '@tillwatch/core';
import { stageEngines } from '@tillwatch/stream';

/**
 * The ground truth of the pipeline suites: ReferenceEngine (the executable definition of the
 * window semantics) over the same events in the same order, stepping pane boundaries as the
 * stages do, holding every pane row in ClickHouse to it, and the windows a reader sums from
 * those rows too.
 */

/** A pane row as read back: its counters in PANE_COUNTERS' order. */
export interface PaneRowOut {
  scope: string;
  key: string;
  /** the pane's start (ms) */
  paneMs: number;
  merchantId: string;
  region: string;
  counts: number[];
}

export interface Mismatch {
  row: PaneRowOut;
  /**
   * What is wrong: 'pane', the row's counters; 'window', the window `window` ending at the row's
   * pane end summed from the stored panes of its key; 'labels', its merchant_id and region;
   * 'unclosed', a row for a boundary the stream never closes; 'duplicate', a second row of one
   * (scope, key, pane) after FINAL.
   */
  what: 'pane' | 'window' | 'labels' | 'unclosed' | 'duplicate';
  /** the window's label ('1m' ... '1h') where `what` is 'window' */
  window?: string;
  /** the wrong values and the reference's (the first 100 mismatches only: memory) */
  got: (number | string)[];
  expected: (number | string)[];
}

export async function count(ch: ClickHouseClient, sql: string): Promise<number> {
  const rs = await ch.query({ query: sql, format: 'JSONEachRow' });
  const [row] = await rs.json<{ n: string | number }>();
  return Number(row?.n ?? 0);
}

export interface Truth {
  /** pane rows read */
  rows: number;
  /** rows whose counters were held to the reference's pane */
  checked: number;
  /** window sums (a key's stored panes over a window ending at one of its rows) held to the reference's window */
  windowsChecked: number;
  mismatched: Mismatch[];
  /** `scope|key|paneMs` of panes with counts in the reference and no row */
  missing: string[];
  /** panes with counts in the reference, of the scopes the missing check covers */
  expectedRows: number;
  byScope: Record<string, number>;
}

/** Scopes whose every pane with counts must have a row. Firmware keys come from a terminal's
 *  remembered version: its rows are held by their counts only, as they always were. */
const HELD_SCOPES: readonly ScopeName[] = ['terminal', 'merchant', 'region', 'issuer', 'fleet'];
/** Scopes the stages write pane rows for. */
const STORED_SCOPES = new Set<string>([...HELD_SCOPES, 'firmware']);
const COUNTERS = PANE_COUNTERS.map(([, metric]) => metric);
const MAX_DETAILED = 100;

function windowLabel(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`;
}

/** A key's stored panes over the last longest window, and a running sum per window over them. */
interface KeyPanes {
  panes: number[];
  counts: number[][];
  /** per window, the first entry still inside it */
  heads: number[];
  /** per window, COUNTERS.length sums */
  sums: Float64Array[];
}

/**
 * Hold ClickHouse's pane rows to ReferenceEngine over the same events (global order), run with
 * the stages' windows (the four stats windows plus one window of one 5 s pane):
 *
 * - every row's 14 counters equal the reference's one-pane window read at the pane's end, once
 *   the schedule has closed it (a row for a boundary the stream never closes cannot be right);
 * - every (scope, key, pane) with a count in the reference's closed pane has a row (terminal,
 *   merchant, region and issuer); the keys asked are those of the events the reference accepted
 *   in the pane and those it reports touched since the pane's start (fired timers);
 * - at every row, each stats window ending at the row's pane end (where the reference's window
 *   has a boundary: every 5 s for 1m, every 2 min for 1h) summed from the key's stored panes
 *   equals the reference's window: what a reader of pane_counts builds;
 * - terminal rows carry the terminal's merchant and region, merchant and region rows their key.
 *
 * Rows stream from ClickHouse in pane order (FINAL: one row per identity); what is kept is one
 * pane's expected rows and each key's stored panes of the last hour, no more than the reference
 * engine itself holds.
 */
export async function checkAgainstTruth(
  events: readonly TerminalEvent[],
  ch: ClickHouseClient,
  table: string,
  oracle: 'reference' | 'fast' = 'reference',
): Promise<Truth> {
  const { events: engineCfg, win } = stageEngines();
  const { p0, paneWindow, statsWindows } = win;
  const lateness = DEFAULT_ENGINE_CONFIG.allowedLatenessMs;
  const windows = win.windowsMs.slice(0, statsWindows);
  const windowPanes = win.panesMs.slice(0, statsWindows);
  const longest = Math.max(...windows);

  // ReferenceEngine re-scans every pending settlement on each advance: ~O(events x pending),
  // minutes at 200k events. The fast engine is held equal to it by core's property tests, so
  // long streams may use it as the oracle (the test says which it used).
  const ref: WindowEngine =
    oracle === 'reference' ? new ReferenceEngine(engineCfg) : createEngine(engineCfg);
  const out = new Float64Array(METRIC_COUNT);
  const truth: Truth = {
    rows: 0,
    checked: 0,
    windowsChecked: 0,
    mismatched: [],
    missing: [],
    expectedRows: 0,
    byScope: {},
  };
  const mismatch = (
    row: PaneRowOut,
    what: Mismatch['what'],
    got: (number | string)[],
    expected: (number | string)[],
    window?: string,
  ) => {
    const detailed = truth.mismatched.length < MAX_DETAILED;
    truth.mismatched.push({
      row,
      what,
      ...(window ? { window } : {}),
      got: detailed ? got : [],
      expected: detailed ? expected : [],
    });
  };

  // The schedule, as the stages run it: it starts at the first event with the first pane that
  // event's watermark (its time less the lateness) has not passed, and closes a boundary just
  // before the first event whose watermark reaches it.
  let next = Number.NaN;
  let i = 0;
  /** Keys of the events the reference accepted, per pane start and held scope (HELD_SCOPES' order). */
  const accepted = new Map<number, Set<string>[]>();
  const note = (e: TerminalEvent) => {
    const pane = Math.floor(e.ts / p0) * p0;
    let sets = accepted.get(pane);
    if (!sets) accepted.set(pane, (sets = HELD_SCOPES.map(() => new Set<string>())));
    sets[0]!.add(e.terminalId);
    sets[1]!.add(e.merchantId);
    sets[2]!.add(e.region);
    if (e.type === 'auth' && e.issuerId !== undefined) sets[3]!.add(e.issuerId);
    sets[4]!.add(FLEET_KEY);
  };
  /** Close the next boundary the stream closes if it is at or before `limit`; NaN if there is none. */
  const step = (limit: number): number => {
    while (i < events.length) {
      const e = events[i]!;
      const wm = e.ts - lateness;
      if (Number.isNaN(next)) next = (Math.floor(wm / p0) + 1) * p0;
      if (next <= wm) {
        if (next > limit) return Number.NaN;
        const b = next;
        ref.advance(b);
        next += p0;
        return b;
      }
      // settlements add no counts of their own (their effect shows when a deadline fires)
      if (ref.ingest(e) === Outcome.Accepted && e.type !== 'settlement') note(e);
      i++;
    }
    return Number.NaN;
  };

  /** At the boundary being read: the reference's non-zero panes of held keys not yet matched by a row. */
  let due = new Map<string, Float64Array>();
  /** Rows seen at that boundary. */
  let seen = new Set<string>();
  /** The reference's panes with counts ending at b (the reference just advanced to b). */
  const expectAt = (b: number): Map<string, Float64Array> => {
    const pane = b - p0;
    const sets = accepted.get(pane);
    for (const t of accepted.keys()) if (t <= pane) accepted.delete(t);
    const want = new Map<string, Float64Array>();
    HELD_SCOPES.forEach((scope, s) => {
      const keys = new Set(ref.touchedSince(SCOPE[scope], pane));
      for (const k of sets?.[s] ?? []) keys.add(k);
      for (const key of keys) {
        if (!ref.read(SCOPE[scope], key, paneWindow, out)) continue;
        // as the stages: a pane with no count at all has no row
        if (out.every((v) => v === 0)) continue;
        want.set(`${scope}|${key}`, out.slice());
      }
    });
    truth.expectedRows += want.size;
    return want;
  };
  const flushMissing = (b: number) => {
    for (const id of due.keys()) truth.missing.push(`${id}|${b - p0}`);
    due = new Map();
    seen = new Set();
  };

  const stored = new Map<string, KeyPanes>();
  /** Add a row's pane to its key's history and hold each window ending at its end to the reference. */
  const checkWindows = (id: string, row: PaneRowOut, b: number) => {
    let k = stored.get(id);
    if (!k) {
      k = {
        panes: [],
        counts: [],
        heads: windows.map(() => 0),
        sums: windows.map(() => new Float64Array(COUNTERS.length)),
      };
      stored.set(id, k);
    }
    k.panes.push(row.paneMs);
    k.counts.push(row.counts);
    for (const s of k.sums) for (let c = 0; c < s.length; c++) s[c]! += row.counts[c]!;
    windows.forEach((w, wi) => {
      const s = k.sums[wi]!;
      let h = k.heads[wi]!;
      while (k.panes[h]! < b - w) {
        const old = k.counts[h]!;
        for (let c = 0; c < s.length; c++) s[c]! -= old[c]!;
        h++;
      }
      k.heads[wi] = h;
      // the reference's window has an end here only on its own pane's boundaries
      if (b % windowPanes[wi]! !== 0) return;
      if (!ref.read(SCOPE[row.scope as ScopeName], row.key, wi, out)) out.fill(0);
      truth.windowsChecked++;
      const want = COUNTERS.map((m) => out[m]!);
      if (want.some((v, c) => v !== s[c])) mismatch(row, 'window', [...s], want, windowLabel(w));
    });
    const drop = Math.min(...k.heads);
    if (drop > 256) {
      k.panes.splice(0, drop);
      k.counts.splice(0, drop);
      k.heads = k.heads.map((h) => h - drop);
    }
  };
  let sweptAt = Number.NEGATIVE_INFINITY;
  /** Forget keys without a row for longer than the longest window: nothing of theirs is read again. */
  const sweep = (b: number) => {
    if (b - sweptAt < longest) return;
    sweptAt = b;
    for (const [id, k] of stored) if (k.panes.at(-1)! < b - longest) stored.delete(id);
  };

  const cols = PANE_COUNTERS.map(([c]) => c);
  const rs = await ch.query({
    query: `SELECT scope, key, pane_ms, merchant_id, region, ${cols.join(', ')} FROM ${table} FINAL ORDER BY pane_ms`,
    format: 'JSONEachRow',
  });
  let at = Number.NaN;
  let closed = false;
  for await (const batch of rs.stream()) {
    for (const raw of batch) {
      const r = raw.json<Record<string, string | number>>();
      const row: PaneRowOut = {
        scope: String(r.scope),
        key: String(r.key),
        paneMs: Number(r.pane_ms),
        merchantId: String(r.merchant_id),
        region: String(r.region),
        counts: cols.map((c) => Number(r[c])),
      };
      truth.rows++;
      truth.byScope[row.scope] = (truth.byScope[row.scope] ?? 0) + 1;
      const b = row.paneMs + p0;
      if (b !== at) {
        if (closed) flushMissing(at);
        at = b;
        closed = false;
        // close every boundary up to b; those before it have no row at all
        for (let c = step(b); !Number.isNaN(c); c = step(b)) {
          due = expectAt(c);
          if (c === b) {
            closed = true;
            break;
          }
          flushMissing(c);
        }
        if (closed) sweep(b);
      }
      if (!closed) {
        // A row for a boundary the stream never closes cannot be right.
        mismatch(row, 'unclosed', row.counts, []);
        continue;
      }
      if (!STORED_SCOPES.has(row.scope)) {
        // no stage writes it: nothing to hold it to
        mismatch(row, 'pane', row.counts, []);
        continue;
      }
      const id = `${row.scope}|${row.key}`;
      if (seen.has(id)) {
        mismatch(row, 'duplicate', row.counts, []);
        continue;
      }
      seen.add(id);
      let want = due.get(id);
      if (want) due.delete(id);
      else {
        // a firmware key, or a pane the reference has no counts in (then the row is wrong)
        want = out;
        if (!ref.read(SCOPE[row.scope as ScopeName], row.key, paneWindow, want)) want.fill(0);
      }
      truth.checked++;
      const wantCounts = COUNTERS.map((m) => want[m]!);
      if (row.counts.some((v, c) => v !== wantCounts[c]))
        mismatch(row, 'pane', row.counts, wantCounts);
      const labels = expectedLabels(ref, row);
      if (labels && (labels[0] !== row.merchantId || labels[1] !== row.region))
        mismatch(row, 'labels', [row.merchantId, row.region], labels);
      checkWindows(id, row, b);
    }
  }
  if (closed) flushMissing(at);
  // the boundaries the stream closes after the last row: every pane with counts there is missing
  for (
    let c = step(Number.POSITIVE_INFINITY);
    !Number.isNaN(c);
    c = step(Number.POSITIVE_INFINITY)
  ) {
    due = expectAt(c);
    flushMissing(c);
  }
  return truth;
}

/**
 * The merchant_id and region a row must carry where they are defined: a terminal's (as the
 * reference remembers it from its latest event), a merchant's own id, a region's own name.
 * Undefined where the row is not held to them.
 */
function expectedLabels(ref: WindowEngine, row: PaneRowOut): [string, string] | undefined {
  switch (row.scope) {
    case 'terminal': {
      const t = ref.terminalInfo(row.key);
      return [t?.merchantId ?? '', t?.region ?? ''];
    }
    case 'merchant':
      return [row.key, row.region];
    case 'region':
      return [row.merchantId, row.key];
    default:
      return undefined;
  }
}

/**
 * Missing rows told apart for a failure's message: per scope, how many rows, how many keys and
 * the first and last pane (UTC), e.g. `merchant 174 rows / 58 keys, panes 2026-03-02 10:05 to
 * 2026-03-02 10:20`. A loss
 * of one partition's batch shows as terminal and merchant rows of a few panes; of a rollup
 * message as merchant rows with no terminal rows; of the stream's end as every scope's last panes.
 */
export function describeMissing(missing: readonly string[]): string {
  const by = new Map<string, { rows: number; keys: Set<string>; first: number; last: number }>();
  for (const id of missing) {
    const cut = id.lastIndexOf('|');
    const scopeEnd = id.indexOf('|');
    const scope = id.slice(0, scopeEnd);
    const pane = Number(id.slice(cut + 1));
    let s = by.get(scope);
    if (!s) by.set(scope, (s = { rows: 0, keys: new Set(), first: pane, last: pane }));
    s.rows++;
    s.keys.add(id.slice(scopeEnd + 1, cut));
    s.first = Math.min(s.first, pane);
    s.last = Math.max(s.last, pane);
  }
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  return [...by]
    .map(
      ([scope, s]) =>
        `${scope} ${s.rows} rows / ${s.keys.size} keys, panes ${hhmm(s.first)} to ${hhmm(s.last)}`,
    )
    .join('; ');
}
