import type uPlot from 'uplot';
import { AlertFeed } from '../components';
import { readerTimeZone, hhmm } from '../chart-spec';
import { h, setText } from '../dom';
import { DrillTable } from '../drill-table';
import { describeError } from '../errors';
import { int, pct } from '../format';
import { t, type MessageKey } from '../i18n';
import { plotRate } from '../rate-chart';
import { faultLowerBound } from '../state';
import type { AlertItem } from '../types';
import { windowPicker } from './board';
import type { Ctx, View } from './view';

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
    older: (until) => ctx.api.events(scope, key, until),
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
    h(
      'div',
      { class: 'detail-grid' },
      h(
        'div',
        { class: 'col-main' },
        h('section', { class: 'panel' }, chartTitle, chartBox),
        drill.el,
      ),
      h('div', { class: 'col-side' }, h('section', { class: 'panel' }, facts), feed.el),
    ),
  );

  const fact = (k: MessageKey, v: string) => [h('dt', {}, t(k)), h('dd', {}, v)];

  async function drawChart(): Promise<void> {
    if (scope !== 'terminal' && scope !== 'merchant' && scope !== 'region') {
      chartBox.replaceChildren(h('div', { class: 'empty' }, t('noSeriesForScope')));
      return;
    }
    const w = ctx.window();
    const zone = readerTimeZone();
    try {
      const s = await ctx.api.series(scope, key, w);
      const pts = s.points.filter((p) => typeof p.faultRate === 'number');
      const since = pts[0] ? hhmm(Date.parse(pts[0].ts) / 1000, zone) : '';
      setText(
        chartTitle,
        `${t('seriesFaultRate')} · ${t('windowWord')} ${w}${since ? ` · ${t('since')} ${since}` : ''} (${zone})`,
      );
      if (pts.length < 2) {
        chartBox.replaceChildren(h('div', { class: 'empty' }, t('noData')));
        return;
      }
      plot = plotRate(chartBox, plot, {
        xs: pts.map((p) => Date.parse(p.ts) / 1000),
        ys: pts.map((p) => p.faultRate as number),
        name: t('seriesFaultRate'),
        zone,
      });
    } catch {
      chartBox.replaceChildren(h('div', { class: 'empty' }, t('noData')));
    }
  }

  void (async () => {
    try {
      drill.show(await ctx.api.events(scope, key));
    } catch (e) {
      ctx.toast(describeError(e), 'err');
    }
  })();
  void (async () => {
    try {
      alerts = (await ctx.api.alerts(alertFilter(scope, key))).alerts;
    } catch {
      alerts = [];
    }
    ctx.state.version++;
  })();
  void drawChart();
  const timer = setInterval(() => void drawChart(), 15_000);

  return {
    el,
    render() {
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
