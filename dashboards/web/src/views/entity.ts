import type uPlot from 'uplot';
import { AlertFeed } from '../components';
import { dayHhmm, readerTimeZone, hhmm } from '../chart-spec';
import { h, setText } from '../dom';
import { DrillTable } from '../drill-table';
import { describeError } from '../errors';
import { int, pct } from '../format';
import { categoryName, eventTypeName, t, type MessageKey } from '../i18n';
import { CATEGORIES } from '@tillwatch/contracts';
import { plotRate } from '../rate-chart';
import { faultLowerBound } from '../state';
import { spikeLines, spikeParams, type SpikeParams } from '../guide-lines';
import { chartWindow, isoMinute, resolveRange } from '../time-range';
import type { AlertItem } from '../types';
import { rangeBar, windowPicker } from './board';
import { TXN_FILTER_KEYS, type ViewParams } from '../url-state';
import type { Ctx, View } from './view';

/** The URL's transaction filters as GET /api/events takes them (amounts: yuan to fen). */
export function txnFilters(p: ViewParams): Record<string, string> {
  const out: Record<string, string> = {};
  if (p.tcode) out['code'] = p.tcode;
  if (p.tcat) out['category'] = p.tcat;
  if (p.ttype) out['type'] = p.ttype;
  if (p.tcard) out['card'] = p.tcard;
  if (p.tissuer) out['issuer'] = p.tissuer;
  const fen = (yuan: string) => String(Math.round(Number(yuan) * 100));
  if (p.tmin) out['minAmount'] = fen(p.tmin);
  if (p.tmax) out['maxAmount'] = fen(p.tmax);
  return out;
}

/** The transactions' filters (in the URL, so a link shows the same transactions). */
function txnFilterBar(ctx: Ctx): HTMLElement {
  const p = ctx.params();
  const select = (k: 'tcat' | 'ttype', all: MessageKey, options: [string, string][]) =>
    h(
      'select',
      {
        'data-testid': `txn-${k}`,
        onchange: (e: Event) => ctx.setParams({ [k]: (e.target as HTMLSelectElement).value }),
      },
      h('option', { value: '' }, t(all)),
      ...options.map(([v, label]) =>
        h('option', { value: v, ...(p[k] === v ? { selected: true } : {}) }, label),
      ),
    );
  const apply = (k: 'tcode' | 'tcard' | 'tissuer' | 'tmin' | 'tmax', e: Event) => {
    const v = (e.target as HTMLInputElement).value.trim();
    if ((ctx.params()[k] ?? '') !== v) ctx.setParams({ [k]: v });
  };
  const input = (
    k: 'tcode' | 'tcard' | 'tissuer' | 'tmin' | 'tmax',
    label: MessageKey,
    size = 10,
  ) =>
    h('input', {
      'data-testid': `txn-${k}`,
      placeholder: t(label),
      'aria-label': t(label),
      value: p[k] ?? '',
      size,
      // applied on Enter or leaving the box: a request per keystroke would page ClickHouse
      onchange: (e: Event) => apply(k, e),
      onkeydown: (e: Event) => {
        if ((e as KeyboardEvent).key === 'Enter') apply(k, e);
      },
    });
  return h(
    'div',
    { class: 'filters txn-filters', 'data-testid': 'txn-filters' },
    input('tcode', 'colCode', 4),
    select(
      'tcat',
      'allCategories',
      CATEGORIES.map((c): [string, string] => [c, categoryName(c)]),
    ),
    select(
      'ttype',
      'allTypes',
      (['auth', 'reversal', 'settlement', 'heartbeat'] as const).map((x): [string, string] => [
        x,
        eventTypeName(x),
      ]),
    ),
    input('tcard', 'colCard', 14),
    input('tissuer', 'colIssuer', 10),
    input('tmin', 'amountMin', 8),
    input('tmax', 'amountMax', 8),
  );
}

export const ENTITY_SCOPES = ['terminal', 'merchant', 'region', 'issuer', 'firmware'] as const;
export type EntityScope = (typeof ENTITY_SCOPES)[number];

const SCOPE_NAME: Record<EntityScope, MessageKey> = {
  terminal: 'colTerminal',
  merchant: 'colMerchant',
  region: 'colRegion',
  issuer: 'colIssuer',
  firmware: 'colFirmware',
};

/** The /api/alerts filter that finds a key's alerts (its own, and its terminals' for a merchant
 *  or a region). */
function alertFilter(scope: EntityScope, key: string): Record<string, string> {
  if (scope === 'merchant') return { merchantId: key };
  if (scope === 'region') return { region: key };
  return { key };
}

/**
 * One terminal, merchant, region, issuer or software version, whether or not it has an alert:
 * its rates now, its fault rate over time, its alerts, and its raw events (filter by code,
 * export, page back).
 */
export function entityView(ctx: Ctx, scope: EntityScope, key: string): View {
  const facts = h('dl', { class: 'facts', 'data-testid': 'entity-facts' });
  const chartTitle = h('h2', { 'data-testid': 'chart-title' }, t('trend'));
  const chartBox = h('div', { class: 'chart' });
  let plot: uPlot | undefined;
  const feed = new AlertFeed('entityAlerts', { onOpen: (id) => ctx.go(`#/alert/${id}`) });
  let alerts: AlertItem[] | undefined;
  const drill = new DrillTable({
    title: 'entityEvents',
    fileName: () => `${scope}-${key}`,
    // pages back within the range's start
    older: (until) => ctx.api.events(scope, key, until, range().from, txnFilters(ctx.params())),
    onError: (e) => ctx.toast(describeError(e), 'err'),
  });
  const el = h(
    'div',
    { class: 'view entity', 'data-testid': 'entity-view', 'data-scope': scope, 'data-key': key },
    h(
      'div',
      { class: 'toolbar' },
      h('button', { class: 'btn ghost', onclick: () => history.back() }, t('back')),
      h('h1', {}, `${t(SCOPE_NAME[scope])} · ${key}`),
      windowPicker(ctx),
    ),
    rangeBar(ctx),
    h(
      'div',
      { class: 'detail-grid' },
      h(
        'div',
        { class: 'col-main' },
        h('section', { class: 'panel' }, chartTitle, chartBox),
        txnFilterBar(ctx),
        drill.el,
      ),
      h('div', { class: 'col-side' }, h('section', { class: 'panel' }, facts), feed.el),
    ),
  );

  const fact = (k: MessageKey, v: string) => [h('dt', {}, t(k)), h('dd', {}, v)];

  /** the page's range now (a relative one moves with the clock) */
  const range = () => resolveRange(ctx.params(), Date.now());
  /** what the chart and the events were last loaded for */
  let loadedFor = '';
  const rangeSig = () => {
    const p = ctx.params();
    return `${p.range ?? ''}|${p.from ?? ''}|${p.to ?? ''}|${ctx.window()}|${TXN_FILTER_KEYS.map((k) => p[k] ?? '').join('|')}`;
  };

  /** terminal_fault_spike's parameters (staff: GET /api/rules; merchants draw no lines) */
  const spike: Promise<SpikeParams | undefined> =
    scope === 'terminal' && ctx.me.role !== 'merchant'
      ? ctx.api
          .rules()
          .then(spikeParams)
          .catch(() => undefined)
      : Promise.resolve(undefined);

  /** the fleet's fault rate over the range, and the rule's threshold over it, per x */
  /**
   * The fleet's fault rate over the range (asked at the same time as the key's own series: a
   * month of it is the page's slowest read) and, once the key's points are in, the rule's lines
   * at each of them.
   */
  function guide(
    w: string,
    r: { from: number; to: number },
  ): (xs: number[]) => Promise<{ baseline: number[]; threshold: number[] } | undefined> {
    const fleet = spike.then(async (p) => {
      if (!p) return undefined;
      const f = await ctx.api.series('fleet', '*', w, { since: r.from, until: r.to });
      const points = f.points
        .filter((x) => typeof x.faultRate === 'number')
        .map((x) => ({ ts: Date.parse(x.ts), rate: x.faultRate as number }));
      return { p, points };
    });
    // (a failure is drawn as no lines, and must not reject unheard while the key's series loads)
    const settled = fleet.catch(() => undefined);
    return async (xs) => {
      const f = await settled;
      return f ? spikeLines(xs, f.points, f.p) : undefined;
    };
  }

  async function drawChart(): Promise<void> {
    if (scope !== 'terminal' && scope !== 'merchant' && scope !== 'region') {
      chartBox.replaceChildren(h('div', { class: 'empty' }, t('noSeriesForScope')));
      return;
    }
    const r = range();
    const span = r.to - r.from;
    const w = chartWindow(span, ctx.window());
    const zone = readerTimeZone();
    const days = span > 86_400_000;
    const at = (ms: number) => (days ? dayHhmm(ms / 1000, zone) : hhmm(ms / 1000, zone));
    const linesAt = guide(w, r);
    try {
      const s = await ctx.api.series(scope, key, w, { since: r.from, until: r.to });
      const pts = s.points.filter((p) => typeof p.faultRate === 'number');
      setText(
        chartTitle,
        `${t('seriesFaultRate')} · ${t('windowWord')} ${w} · ${at(r.from)}–${at(r.to)} (${zone})`,
      );
      chartBox.dataset['window'] = w;
      chartBox.dataset['points'] = String(pts.length);
      if (pts.length < 2) {
        chartBox.replaceChildren(h('div', { class: 'empty' }, t('noData')));
        return;
      }
      const xs = pts.map((p) => Date.parse(p.ts));
      const lines = await linesAt(xs);
      chartBox.dataset['lines'] = lines ? 'fleet' : 'none';
      plot = plotRate(chartBox, plot, {
        xs: xs.map((x) => x / 1000),
        ys: pts.map((p) => p.faultRate as number),
        name: t('seriesFaultRate'),
        zone,
        days,
        ...(lines ? { ...lines, baselineName: t('fleetBaseline') } : {}),
        // a drag across the chart: that span, as an absolute range in the URL
        onZoom: (from, to) =>
          ctx.setParams({ from: isoMinute(from), to: isoMinute(to + 59_999), range: undefined }),
      });
    } catch {
      chartBox.replaceChildren(h('div', { class: 'empty' }, t('noData')));
    }
  }

  async function loadEvents(): Promise<void> {
    const r = range();
    try {
      // the newest 200 of the range; "older" pages back to its start
      drill.show(
        await ctx.api.events(
          scope,
          key,
          r.live ? undefined : new Date(r.to).toISOString(),
          r.from,
          txnFilters(ctx.params()),
        ),
      );
    } catch (e) {
      ctx.toast(describeError(e), 'err');
    }
  }

  void (async () => {
    try {
      alerts = (await ctx.api.alerts(alertFilter(scope, key))).alerts;
    } catch {
      alerts = [];
    }
    ctx.state.version++;
  })();
  // a relative range follows the present; an absolute one is drawn once
  const timer = setInterval(() => {
    if (range().live) void drawChart();
  }, 15_000);

  return {
    el,
    render() {
      // the range or the window changed (buttons, a zoom, the address): load them again
      if (rangeSig() !== loadedFor) {
        loadedFor = rangeSig();
        void drawChart();
        void loadEvents();
      }
      const row = ctx.state.current(scope, ctx.window()).find((r) => r.key === key);
      facts.replaceChildren(
        ...(row
          ? [
              ...fact('colAuths', int(row.auths)),
              ...fact('colFaults', int(row.faults)),
              ...fact('colFault', pct(row.faultRate)),
              ...fact('colFaultLow', `≥ ${pct(faultLowerBound(row))}`),
              ...fact('colFailure', pct(row.failureRate)),
              ...fact('colReversal', pct(row.reversalRate)),
              ...(row.merchantId ? fact('colMerchant', row.merchantId) : []),
              ...(row.region ? fact('colRegion', row.region) : []),
            ]
          : [h('dt', {}, t('noData'))]),
      );
      // the live feed's copy of an alert is newer than the page's list
      if (alerts) feed.render(alerts.map((a) => ctx.state.alerts.get(a.alert.alertId) ?? a));
    },
    destroy() {
      clearInterval(timer);
      plot?.destroy();
    },
  };
}
