import { SCOPE, createEngine, METRIC_COUNT, type WindowEngine } from '@tillwatch/core';
import type { TerminalEvent } from '@tillwatch/contracts';
import { describe, expect, it } from 'vitest';
import { parseRulesConfig, type RateRuleConfig, type RulesConfigInput } from '../config';
import { lcg, smallFleet, stream } from '../testing';
import { durationMs, type Ctx } from './context';
import { RATE_RULES, ScreenMemo, screen, skipBelow, type RateRuleId } from './rate-rule';
import { ReadCache } from './read-cache';

/**
 * screen() runs the rate rules' cheap test once per key for all of them; it must pass exactly
 * the keys each rule's own test (rateRule without `screened`) passes: the same windows, the
 * same count, the same bar. Held here to the test written out again on plain engine reads.
 */

const CODES = ['00', '00', '00', '51', 'TO', 'TO', '94', '03', '13', '14', '91', '96', 'ZZ'];

/** A fleet whose auths fail with every kind of code, small amounts and reversals among them. */
function noisyEvents(seed: number, from: number, to: number): TerminalEvent[] {
  const fleet = smallFleet({ merchants: 10, perMerchant: 3, rate: 2 });
  const rnd = lcg(seed);
  const out: TerminalEvent[] = [];
  for (const ev of stream(fleet, from, to, undefined, seed)) {
    if (ev.type !== 'auth') {
      out.push(ev);
      continue;
    }
    // a third of the terminals are faulty, each in its own way
    const faulty = Number(ev.terminalId.slice(1, ev.terminalId.indexOf('_'))) % 3 === 0;
    const code = faulty ? CODES[Math.floor(rnd() * CODES.length)]! : ev.responseCode;
    const amount = faulty && rnd() < 0.3 ? 100 : ev.amount;
    out.push({ ...ev, responseCode: code, amount });
    if (faulty && rnd() < 0.2) {
      out.push({
        type: 'reversal',
        eventId: `r${ev.eventId}`,
        ts: ev.ts + 2_000,
        terminalId: ev.terminalId,
        merchantId: ev.merchantId,
        region: ev.region,
        txnId: ev.txnId,
        reason: 'timeout',
        status: rnd() < 0.8 ? 'succeeded' : 'failed',
      });
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

function ctxOf(engine: WindowEngine, rules: RulesConfigInput): Ctx {
  const cfg = parseRulesConfig(rules);
  return {
    now: engine.watermark,
    engine,
    cfg,
    win: (label) => engine.config.windowsMs.indexOf(durationMs(label)),
    reads: new ReadCache(),
  } as Ctx;
}

/** The cheap test as rateRule states it, on the engine's own reads. */
function passes(ctx: Ctx, rule: RateRuleId, scope: 'terminal' | 'merchant', key: string): boolean {
  const p = ctx.cfg.rules[rule] as RateRuleConfig;
  const num = RATE_RULES[rule].num;
  const m = new Float64Array(METRIC_COUNT);
  const shortest = ctx.win(p.windows[0]!);
  const longest = ctx.win(p.windows[p.windows.length - 1]!);
  const inLongest = ctx.engine.read(SCOPE[scope], key, longest, m) ? num(m) : 0;
  const inShortest =
    shortest !== longest && ctx.engine.read(SCOPE[scope], key, shortest, m) ? num(m) : 0;
  return Math.max(inLongest, inShortest) >= skipBelow(p);
}

describe('screen: the rate rules cheap test, once per key', () => {
  it('passes exactly the keys each rule passes on its own, at every evaluation', () => {
    const t0 = Date.parse('2026-03-02T10:00:00+08:00');
    const events = noisyEvents(3, t0, t0 + 40 * 60_000);
    const engine = createEngine();
    const ctx = ctxOf(engine, {});
    let next = t0 + 10_000;
    let passed = 0;
    let checked = 0;
    for (const ev of events) {
      engine.ingest(ev);
      if (engine.watermark < next) continue;
      next += 10_000;
      ctx.now = engine.watermark;
      ctx.reads!.reset();
      for (const scope of ['terminal', 'merchant'] as const) {
        const keys = engine.keys(SCOPE[scope]);
        const got = screen(ctx, scope, keys);
        for (const rule of Object.keys(RATE_RULES) as RateRuleId[]) {
          const p = ctx.cfg.rules[rule] as RateRuleConfig & { scopes?: string[] };
          const judged =
            (RATE_RULES[rule].scopes as readonly string[]).includes(scope) &&
            (p.scopes?.includes(scope) ?? true);
          if (!judged) {
            expect(got.has(rule)).toBe(false);
            continue;
          }
          const want = keys.filter((k) => passes(ctx, rule, scope, k));
          expect(got.get(rule), `${rule} ${scope} at ${ctx.now}`).toEqual(want);
          passed += want.length;
          checked += keys.length;
        }
      }
    }
    // the stream makes the test pass some keys and skip many: both sides are exercised
    expect(passed).toBeGreaterThan(100);
    expect(checked - passed).toBeGreaterThan(1000);
  });

  it('keeps its verdicts while the windows it read end where they ended, and no longer', () => {
    // As the monitor calls it: a memo per scope across evaluations, the keys a sorted list that
    // changes from one call to the next (the recheck's), and some calls at the same ends.
    const t0 = Date.parse('2026-03-02T10:00:00+08:00');
    const events = noisyEvents(7, t0, t0 + 40 * 60_000);
    const engine = createEngine();
    const ctx = ctxOf(engine, {});
    ctx.screens = { terminal: new ScreenMemo(), merchant: new ScreenMemo() };
    const rnd = lcg(11);
    let next = t0 + 5_000;
    let passed = 0;
    let checked = 0;
    let kept = 0;
    for (const ev of events) {
      engine.ingest(ev);
      if (engine.watermark < next) continue;
      next += 5_000;
      ctx.now = engine.watermark;
      ctx.reads!.reset();
      for (const scope of ['terminal', 'merchant'] as const) {
        let first: string[] = [];
        for (let call = 0; call < 2; call++) {
          // the second call: some of the first's keys at the same ends, a cache of its own
          const keys = (call === 0 ? engine.keys(SCOPE[scope]) : first).filter(() => rnd() < 0.7);
          if (call === 0) first = keys;
          else ctx.reads = new ReadCache();
          const reads = engine.read.bind(engine);
          let n = 0;
          engine.read = (...a) => (n++, reads(...a));
          const got = screen(ctx, scope, keys);
          engine.read = reads;
          // what the first call read stands: the second reads nothing
          if (call === 1) {
            expect(n).toBe(0);
            kept += keys.length;
          }
          for (const rule of Object.keys(RATE_RULES) as RateRuleId[]) {
            const list = got.get(rule);
            if (!list) continue;
            const want = keys.filter((k) => passes(ctx, rule, scope, k));
            expect(list, `${rule} ${scope} at ${ctx.now}`).toEqual(want);
            passed += want.length;
            checked += keys.length;
          }
        }
      }
    }
    expect(passed).toBeGreaterThan(100);
    expect(checked - passed).toBeGreaterThan(1000);
    expect(kept).toBeGreaterThan(500);
  });

  it('reads again when the rules are set anew with another bar, the windows where they were', () => {
    const t0 = Date.parse('2026-03-02T10:00:00+08:00');
    const engine = createEngine();
    for (const ev of noisyEvents(13, t0, t0 + 20 * 60_000)) engine.ingest(ev);
    const screens = { terminal: new ScreenMemo(), merchant: new ScreenMemo() };
    const keys = engine.keys(SCOPE.terminal);
    const lists = [2, 14, 400].map((minCount) => {
      const ctx = ctxOf(engine, {
        rules: { terminal_fault_spike: { minCount, early: { minCount, pValue: 1e-6 } } },
      });
      ctx.screens = screens;
      const got = screen(ctx, 'terminal', keys).get('terminal_fault_spike')!;
      expect(got).toEqual(keys.filter((k) => passes(ctx, 'terminal_fault_spike', 'terminal', k)));
      return got.length;
    });
    // the bars pass different keys: a verdict kept across them would show
    expect(new Set(lists).size, `passed: ${lists.join(', ')}`).toBe(3);
  });

  it('gives no list for a rule that is off or not judged in the scope', () => {
    const engine = createEngine();
    for (const ev of noisyEvents(5, 0, 600_000)) engine.ingest(ev);
    const ctx = ctxOf(engine, {
      rules: {
        input_errors: { enabled: false },
        card_testing: { scopes: ['merchant'] },
      },
    });
    const t = screen(ctx, 'terminal', engine.keys(SCOPE.terminal));
    expect([...t.keys()].sort()).toEqual([
      'reversal_spike',
      'terminal_fault_spike',
      'terminal_network_errors',
    ]);
    const m = screen(ctx, 'merchant', engine.keys(SCOPE.merchant));
    expect([...m.keys()].sort()).toEqual(['card_testing', 'reversal_spike']);
  });

  it("reads each rule's count in place as its num reads it from a buffer", () => {
    const rnd = lcg(9);
    const c = new Float64Array(5 * METRIC_COUNT).map(() => Math.floor(rnd() * 50));
    for (const rule of Object.keys(RATE_RULES) as RateRuleId[]) {
      const { num, numAt } = RATE_RULES[rule];
      for (let o = 0; o <= 4 * METRIC_COUNT; o += METRIC_COUNT) {
        expect([rule, numAt(c, o)]).toEqual([rule, num(c.subarray(o, o + METRIC_COUNT))]);
      }
    }
  });
});
