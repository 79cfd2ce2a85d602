import { randomUUID } from 'node:crypto';
import {
  categorize,
  type Alert,
  type RuleVerdictCounts,
  type TerminalEvent,
} from '@tillwatch/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticAlert, syntheticAuth } from './fixtures';
import type {
  RawEventsQuery,
  AlertActionInput,
  AlertRecord,
  AuditEntry,
  GatewayStore,
  StoreEvent,
} from './store';

/**
 * The alert-ledger contract every GatewayStore keeps: the same history (engine transitions,
 * people's actions, raw events) reads back as the same record, trail, list and drill-down in
 * both modes. Run against MemoryStore in the unit tests and against ClickHouseStore in the
 * integration tests; the two copies of this logic once drifted on audit ids, on `at` and on
 * the order of response codes, which is what most of these cases pin.
 */
export interface ContractHarness {
  store: GatewayStore;
  /** one engine transition, as the embedded engine or the pos.alerts feed delivers it */
  pushAlert(alert: Alert): Promise<void>;
  /** raw events as the drill-down reads them */
  pushEvents(events: readonly TerminalEvent[]): Promise<void>;
  close(): Promise<void>;
}

export interface ContractStoreOptions {
  /** the store's wall clock */
  now: () => number;
  maxAuditPerAlert?: number;
}

export type ContractStoreFactory = (opts: ContractStoreOptions) => Promise<ContractHarness>;

/** transitions happen at T0…; the gateway's clock is an hour later, so the two never agree */
const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const WALL = T0 + 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function alertLedgerContract(name: string, factory: ContractStoreFactory): void {
  describe(`${name}: alert ledger contract`, () => {
    let h: ContractHarness | undefined;
    let clock = WALL;
    // ids unique per test: a ClickHouse harness may share one database between tests
    let run = '';
    const id = (s: string) => `${run}-${s}`;

    async function open(maxAuditPerAlert?: number): Promise<ContractHarness> {
      clock = WALL;
      run = randomUUID().slice(0, 8);
      h = await factory({
        now: () => clock,
        ...(maxAuditPerAlert !== undefined ? { maxAuditPerAlert } : {}),
      });
      return h;
    }

    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    const transition = (alertId: string, ts: number, p: Partial<Alert> = {}): Alert =>
      syntheticAlert({
        alertId,
        key: id('T'),
        firstSeen: iso(T0),
        lastSeen: iso(ts),
        ts: iso(ts),
        ...p,
      });

    const act = (
      action: AlertActionInput['action'],
      actor: string,
      p: Partial<AlertActionInput> = {},
    ): AlertActionInput => ({ action, actor, role: 'analyst', ...p });

    function watch(store: GatewayStore): StoreEvent[] {
      const seen: StoreEvent[] = [];
      store.subscribe((e) => seen.push(e));
      return seen;
    }

    it('engine lines: fired, severity change, engine resolve; value ticks add none; ids <alertId>@<ms>:<status>, `at` the transition ts', async () => {
      const { store, pushAlert } = await open();
      const seen = watch(store);
      const a = id('e1');
      await pushAlert(transition(a, T0, { severity: 'warning', value: 0.2 }));
      await pushAlert(transition(a, T0 + 1000, { severity: 'warning', value: 0.25 }));
      await pushAlert(transition(a, T0 + 2000, { severity: 'critical', value: 0.4 }));
      await pushAlert(transition(a, T0 + 3000, { status: 'resolved', severity: 'critical' }));
      const rec = (await store.getAlert(a))!;
      const engine = { alertId: a, actor: 'engine', role: 'engine' };
      expect(rec.audit).toEqual([
        { ...engine, id: `${a}@${T0}:firing`, at: iso(T0), action: 'fired', status: 'firing' },
        {
          ...engine,
          id: `${a}@${T0 + 2000}:firing`,
          at: iso(T0 + 2000),
          action: 'updated',
          status: 'firing',
          note: 'severity warning → critical',
        },
        {
          ...engine,
          id: `${a}@${T0 + 3000}:resolved`,
          at: iso(T0 + 3000),
          action: 'engine_resolved',
          status: 'resolved',
        },
      ]);
      expect(rec.alert).toMatchObject({ status: 'resolved', severity: 'critical' });
      expect(rec.workflow).toEqual({ state: 'open' });
      // what the room was sent is what a later read shows
      const live = seen.filter((e) => e.type === 'alert').map((e) => e.record);
      expect(live).toHaveLength(4);
      expect(live.at(-1)!.audit).toEqual(rec.audit);
    });

    it('action lines: folded into the workflow, id of the stored action, `at` the gateway clock, stable across reads', async () => {
      const { store, pushAlert } = await open();
      const a = id('w1');
      await pushAlert(transition(a, T0));
      const audits: AuditEntry[] = [];
      store.subscribe((e) => e.type === 'audit' && audits.push(e.entry));
      const steps: [AlertActionInput, number][] = [
        [act('acknowledge', 'ana', { author: 'Ana L.' }), WALL],
        [act('assign', 'ana', { assignee: 'field-team' }), WALL + 1000],
        [act('note', 'bo', { note: 'merchant called back' }), WALL + 2000],
        [act('resolve', 'sre', { role: 'sre' }), WALL + 3000],
      ];
      let returned: AlertRecord | undefined;
      for (const [input, at] of steps) {
        clock = at;
        returned = await store.applyAction(a, input);
      }
      const rec = (await store.getAlert(a))!;
      expect(returned).toEqual(rec);
      expect(rec.workflow).toEqual({
        state: 'resolved',
        assignee: 'field-team',
        acknowledgedBy: 'ana',
        acknowledgedAt: iso(WALL),
        resolvedBy: 'sre',
        resolvedAt: iso(WALL + 3000),
      });
      const people = rec.audit.slice(1);
      expect(rec.audit[0]).toMatchObject({ action: 'fired', at: iso(T0) });
      expect(people).toEqual([
        {
          id: audits[0]!.id,
          alertId: a,
          at: iso(WALL),
          action: 'acknowledge',
          actor: 'ana',
          role: 'analyst',
          author: 'Ana L.',
        },
        {
          id: audits[1]!.id,
          alertId: a,
          at: iso(WALL + 1000),
          action: 'assign',
          actor: 'ana',
          role: 'analyst',
          assignee: 'field-team',
        },
        {
          id: audits[2]!.id,
          alertId: a,
          at: iso(WALL + 2000),
          action: 'note',
          actor: 'bo',
          role: 'analyst',
          note: 'merchant called back',
        },
        {
          id: audits[3]!.id,
          alertId: a,
          at: iso(WALL + 3000),
          action: 'resolve',
          actor: 'sre',
          role: 'sre',
        },
      ]);
      expect(audits).toEqual(people);
      for (const e of people) expect(e.id).toMatch(UUID);
      expect(new Set(people.map((e) => e.id)).size).toBe(4);
      expect((await store.getAlert(a))!.audit.map((e) => e.id)).toEqual(rec.audit.map((e) => e.id));
    });

    it('one trail ordered by `at`: a transition delivered after an action but stamped before it goes before it', async () => {
      const { store, pushAlert } = await open();
      const a = id('o1');
      await pushAlert(transition(a, T0));
      clock = T0 + 10_000;
      await store.applyAction(a, act('acknowledge', 'ana'));
      clock = T0 + 20_000;
      await pushAlert(transition(a, T0 + 5000, { status: 'resolved' }));
      const rec = (await store.getAlert(a))!;
      expect(rec.audit.map((e) => [e.action, e.at])).toEqual([
        ['fired', iso(T0)],
        ['engine_resolved', iso(T0 + 5000)],
        ['acknowledge', iso(T0 + 10_000)],
      ]);
      expect(rec.workflow.state).toBe('acknowledged');
    });

    it('a long trail keeps its first line (when it fired) and the latest ones', async () => {
      const { store, pushAlert } = await open(3);
      const a = id('c1');
      await pushAlert(transition(a, T0));
      for (let i = 1; i <= 4; i++) {
        clock = WALL + i * 1000;
        await store.applyAction(a, act('note', 'ana', { note: `check ${i}` }));
      }
      const rec = (await store.getAlert(a))!;
      expect(rec.audit.map((e) => e.note ?? e.action)).toEqual(['fired', 'check 3', 'check 4']);
    });

    it('lists the latest transition first, equal times by alertId; `since` means any transition since', async () => {
      const { store, pushAlert } = await open();
      const key = id('list');
      // lastSeen deliberately disagrees with ts: the order and `since` go by the transition
      await pushAlert(transition(id('b'), T0 + 1000, { key, lastSeen: iso(T0) }));
      await pushAlert(transition(id('a'), T0 + 1000, { key, lastSeen: iso(T0) }));
      await pushAlert(transition(id('c'), T0 + 2000, { key, lastSeen: iso(T0) }));
      await pushAlert(transition(id('d'), T0, { key, lastSeen: iso(T0 + 5000) }));
      const ids = (rs: AlertRecord[]) => rs.map((r) => r.alert.alertId);
      expect(ids(await store.listAlerts({ key, limit: 10 }))).toEqual(['c', 'a', 'b', 'd'].map(id));
      expect(ids(await store.listAlerts({ key, since: T0 + 1000, limit: 10 }))).toEqual(
        ['c', 'a', 'b'].map(id),
      );
      expect(ids(await store.listAlerts({ key, limit: 2 }))).toEqual(['c', 'a'].map(id));
    });

    it("a merchant's bound: another merchant's alert is neither read nor acted on", async () => {
      const { store, pushAlert } = await open();
      const a = id('m1');
      const m = id('M');
      await pushAlert(transition(a, T0, { merchantId: m }));
      // a merchant-scope alert written without merchantId is the merchant's by its key
      await pushAlert(
        transition(id('m2'), T0, { scope: 'merchant', key: m, merchantId: undefined }),
      );
      expect(await store.getAlert(a, { merchantId: 'M-other' })).toBeUndefined();
      expect(await store.applyAction(a, act('note', 'x'), { merchantId: 'M-other' })).toBe(
        undefined,
      );
      expect((await store.getAlert(a, { merchantId: m }))!.audit).toHaveLength(1);
      expect((await store.getAlert(id('m2'), { merchantId: m }))!.alert.merchantId).toBe(m);
    });

    it('closing with a verdict: on the resolve line and in the workflow with who and when; a later verdict replaces it; a resolve without one keeps it', async () => {
      const { store, pushAlert } = await open();
      const a = id('v1');
      await pushAlert(transition(a, T0));
      const audits: AuditEntry[] = [];
      store.subscribe((e) => e.type === 'audit' && audits.push(e.entry));
      clock = WALL;
      await store.applyAction(a, act('resolve', 'ana', { verdict: 'expected', note: 'closing' }));
      let rec = (await store.getAlert(a))!;
      expect(rec.workflow).toMatchObject({
        state: 'resolved',
        verdict: 'expected',
        verdictBy: 'ana',
        verdictAt: iso(WALL),
      });
      expect(rec.audit.at(-1)).toMatchObject({
        action: 'resolve',
        actor: 'ana',
        verdict: 'expected',
        note: 'closing',
        at: iso(WALL),
      });
      expect(audits[0]).toEqual(rec.audit.at(-1));
      // latest wins: found to be real after all
      clock = WALL + 60_000;
      await store.applyAction(a, act('resolve', 'bo', { role: 'sre', verdict: 'true_incident' }));
      // a resolve without a verdict (as stored before verdicts existed) leaves it
      clock = WALL + 120_000;
      await store.applyAction(a, act('resolve', 'cy'));
      // a verdict on another kind of action is not one (a second later: two actions of one
      // millisecond are ordered by their random ids in ClickHouse, which made this flaky in CI)
      clock = WALL + 121_000;
      await store.applyAction(a, act('note', 'cy', { note: 'x', verdict: 'false_alarm' }));
      rec = (await store.getAlert(a))!;
      expect(rec.workflow).toMatchObject({
        state: 'resolved',
        resolvedBy: 'cy',
        verdict: 'true_incident',
        verdictBy: 'bo',
        verdictAt: iso(WALL + 60_000),
      });
      expect(rec.audit.slice(1).map((e) => [e.action, e.actor, e.verdict])).toEqual([
        ['resolve', 'ana', 'expected'],
        ['resolve', 'bo', 'true_incident'],
        ['resolve', 'cy', undefined],
        ['note', 'cy', undefined],
      ]);
    });

    it('rule verdicts: episodes raised since `since` per rule, their latest verdicts, a merchant only its own', async () => {
      const { store, pushAlert } = await open();
      // a period of its own, years after the other cases' alerts, which a shared database keeps
      const Q0 = Date.parse('2031-01-01T00:00:00.000Z');
      const m = id('QM');
      const other = id('QN');
      const raise = (
        alertId: string,
        rule: Alert['rule'],
        firstSeen: number,
        p: Partial<Alert> = {},
      ) =>
        pushAlert(
          transition(id(alertId), firstSeen + 5000, {
            rule,
            firstSeen: iso(firstSeen),
            merchantId: m,
            ...p,
          }),
        );
      const close = async (alertId: string, verdict: AlertActionInput['verdict'], at: number) => {
        clock = at;
        await store.applyAction(id(alertId), act('resolve', 'ana', verdict ? { verdict } : {}));
      };
      await raise('q1', 'regional_outage', Q0 + 1000, { scope: 'region', key: 'CN-31' });
      await raise('q2', 'regional_outage', Q0 + 2000, { scope: 'region', key: 'CN-32' });
      await raise('q3', 'regional_outage', Q0 + 3000, { scope: 'region', key: 'CN-33' });
      await raise('q4', 'regional_outage', Q0 + 4000, { scope: 'region', key: 'CN-34' });
      await raise('q5', 'terminal_fault_spike', Q0 + 5000);
      await raise('q6', 'terminal_fault_spike', Q0 + 6000, { merchantId: other });
      // merchant-scope, written without merchantId: the merchant's by its key
      await raise('q7', 'card_testing', Q0 + 7000, {
        scope: 'merchant',
        key: m,
        merchantId: undefined,
      });
      // fired before the period, still updating inside it: not raised in the period
      await raise('q0', 'regional_outage', Q0 - 60_000, { scope: 'region', key: 'CN-30' });
      await pushAlert(
        transition(id('q0'), Q0 + 9000, {
          rule: 'regional_outage',
          scope: 'region',
          key: 'CN-30',
          merchantId: m,
          firstSeen: iso(Q0 - 60_000),
          status: 'resolved',
        }),
      );
      await close('q0', 'false_alarm', WALL);
      await close('q1', 'false_alarm', WALL);
      await close('q1', 'true_incident', WALL + 1000); // latest wins
      await close('q2', 'true_incident', WALL + 2000);
      await close('q3', 'expected', WALL + 3000);
      await close('q4', undefined, WALL + 4000); // closed with no verdict: none given
      await close('q5', 'false_alarm', WALL + 5000);
      await close('q6', 'true_incident', WALL + 6000);
      await close('q7', 'expected', WALL + 7000);
      await close('q7', 'false_alarm', WALL + 8000);

      const sorted = (xs: RuleVerdictCounts[]) =>
        [...xs].sort((x, y) => (x.rule < y.rule ? -1 : 1));
      const c = (rule: Alert['rule'], raised: number, t: number, f: number, e: number) => ({
        rule,
        raised,
        true_incident: t,
        false_alarm: f,
        expected: e,
      });
      expect(sorted(await store.ruleVerdicts({ since: Q0 }))).toEqual([
        c('card_testing', 1, 0, 1, 0),
        c('regional_outage', 4, 2, 0, 1),
        c('terminal_fault_spike', 2, 1, 1, 0),
      ]);
      expect(sorted(await store.ruleVerdicts({ since: Q0, merchantId: m }))).toEqual([
        c('card_testing', 1, 0, 1, 0),
        c('regional_outage', 4, 2, 0, 1),
        c('terminal_fault_spike', 1, 0, 1, 0),
      ]);
      expect(sorted(await store.ruleVerdicts({ since: Q0, merchantId: other }))).toEqual([
        c('terminal_fault_spike', 1, 1, 0, 0),
      ]);
      // the period starts at firstSeen: q1..q3 are before it
      expect(sorted(await store.ruleVerdicts({ since: Q0 + 4000 }))).toEqual([
        c('card_testing', 1, 0, 1, 0),
        c('regional_outage', 1, 0, 0, 0),
        c('terminal_fault_spike', 2, 1, 1, 0),
      ]);
      expect(await store.ruleVerdicts({ since: Q0 + 3_600_000 })).toEqual([]);
    });

    it('region auths: per range and bucket, ends exclusive, other ranges and types apart', async () => {
      const { store, pushEvents } = await open();
      const [r1, r2] = [id('R1'), id('R2')];
      const S = T0 - 3_600_000;
      const DAY = 86_400_000;
      const auth = (region: string, ts: number) =>
        syntheticAuth({ terminalId: id('tr'), merchantId: 'M-tr', region, ts });
      await pushEvents([
        auth(r1, S),
        auth(r1, S + 59_000),
        auth(r1, S + 300_000),
        auth(r1, S + 3_599_999),
        auth(r1, S + 3_600_000), // the next range's start: not in this one
        auth(r1, S - 1), // just before
        auth(r1, S - DAY + 600_000),
        auth(r1, S - DAY + 600_001),
        auth(r2, S + 1_800_000),
        auth(r2, S - 2 * DAY), // a range nobody asked for
        // not an auth: not counted
        { ...auth(r1, S + 1000), type: 'heartbeat' } as unknown as TerminalEvent,
      ]);
      const rows = await store.regionAuths({
        starts: [S, S - DAY],
        spanMs: 3_600_000,
        bucketMs: 300_000,
      });
      const mine = rows
        .filter((r) => r.region === r1 || r.region === r2)
        .sort(
          (a, b) => a.region.localeCompare(b.region) || b.start - a.start || a.bucket - b.bucket,
        );
      expect(mine).toEqual([
        { region: r1, start: S, bucket: 0, auths: 2 },
        { region: r1, start: S, bucket: 1, auths: 1 },
        { region: r1, start: S, bucket: 11, auths: 1 },
        { region: r1, start: S - DAY, bucket: 2, auths: 2 },
        { region: r2, start: S, bucket: 6, auths: 1 },
      ]);
    });

    it('drill-down: newest events first, response codes by count then by code', async () => {
      const { store, pushEvents } = await open();
      const terminalId = id('dd');
      const codes = ['91', '05', '91', 'TO', '00'];
      await pushEvents(
        codes.map((responseCode, i) =>
          syntheticAuth({
            terminalId,
            merchantId: 'M-dd',
            region: 'CN-31',
            responseCode,
            ts: T0 + i * 1000,
          }),
        ),
      );
      const d = await store.rawEvents({ terminalId, since: T0, until: T0 + 60_000, limit: 2 });
      expect(d.matched).toBe(5);
      expect(d.events.map((e) => e.ts)).toEqual([T0 + 4000, T0 + 3000]);
      expect(d.responseCodes).toEqual(
        [
          ['91', 2],
          ['00', 1],
          ['05', 1],
          ['TO', 1],
        ].map(([code, count]) => ({ code, category: categorize(code as string), count })),
      );
      expect(d.from).toBe(iso(T0));
      expect(d.to).toBe(iso(T0 + 4000));
    });

    it('drill-down filters: code, category, type, card, issuer and amount bounds, all at once', async () => {
      const { store, pushEvents } = await open();
      const terminalId = id('df');
      const base = { terminalId, merchantId: 'M-df', region: 'CN-31' };
      const auth = (i: number, code: string, amount: number, card: string, issuerId: string) => ({
        ...syntheticAuth({ ...base, responseCode: code, ts: T0 + i * 1000 }),
        amount,
        cardFingerprint: card,
        issuerId,
      });
      await pushEvents([
        auth(0, '05', 150, 'fp-A', 'ISS-1'),
        auth(1, '05', 9_000, 'fp-A', 'ISS-1'),
        auth(2, '51', 120, 'fp-A', 'ISS-2'),
        auth(3, '05', 130, 'fp-B', 'ISS-1'),
        auth(4, '00', 140, 'fp-A', 'ISS-1'),
        {
          type: 'reversal',
          eventId: `${terminalId}-rev`,
          ts: T0 + 5000,
          ...base,
          txnId: 'tx-rev',
          amount: 150,
          currency: 'CNY',
        } as unknown as TerminalEvent,
      ]);
      const q = { terminalId, since: T0, until: T0 + 60_000, limit: 50 };
      const ts = async (f: Partial<RawEventsQuery>) =>
        (await store.rawEvents({ ...q, ...f })).events.map((e) => e.ts - T0).sort((a, b) => a - b);
      // small declines of one card at one issuer: card testing's evidence
      expect(
        await ts({
          responseCode: '05',
          cardFingerprint: 'fp-A',
          issuerId: 'ISS-1',
          maxAmount: 1000,
        }),
      ).toEqual([0]);
      expect(await ts({ category: categorize('51') })).toEqual(
        categorize('51') === categorize('05') ? [0, 1000, 2000, 3000] : [2000],
      );
      expect(await ts({ type: 'reversal' })).toEqual([5000]);
      expect(await ts({ minAmount: 140, maxAmount: 150 })).toEqual([0, 4000, 5000]);
      const d = await store.rawEvents({ ...q, cardFingerprint: 'fp-B' });
      expect([d.matched, d.responseCodes.map((c) => c.code)]).toEqual([1, ['05']]);
    });
  });
}
