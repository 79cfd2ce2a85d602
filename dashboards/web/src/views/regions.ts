import { trafficLevel } from '../china-map';
import { alertCard } from '../components';
import { h, setText, svg } from '../dom';
import { int, pct, ratio, regionLevel } from '../format';
import { ruleName, t, tf } from '../i18n';
import { sparkPath } from '../sparkline';
import type { RateRow, RegionTraffic, RegionTrafficReport } from '../types';
import { entityHash, windowPicker } from './board';
import { regionMap, trafficLines } from './region-map';
import type { Ctx, View } from './view';

interface Tile {
  el: HTMLAnchorElement;
  fault: HTMLElement;
  auths: HTMLElement;
  volume: HTMLElement;
  bar: HTMLElement;
  spark: SVGSVGElement;
  sparkNow: SVGPathElement;
  sparkNormal: SVGPathElement;
}

/** How often the hour against its normal is read again (it moves by the minute). */
const TRAFFIC_EVERY_MS = 30_000;
const SPARK_W = 160;
const SPARK_H = 28;

/**
 * SRE view: a map of the regions coloured by traffic against each one's normal for this hour,
 * and a tile per region (fault rate, that ratio, a sparkline of the hour against the normal),
 * outages on top; a province, marker or tile opens the region's page.
 */
export function regionsView(ctx: Ctx): View {
  const banner = h('div', { class: 'outages', 'data-testid': 'outage-banner' });
  const grid = h('div', { class: 'tiles', 'data-testid': 'region-tiles' });
  const map = regionMap((region) => ctx.go(entityHash('region', region)));
  const tiles = new Map<string, Tile>();
  let bannerSig = '';
  let report: RegionTrafficReport | undefined;
  let traffic = new Map<string, RegionTraffic>();
  const trafficNote = h('div', { class: 'dim small', hidden: true }, t('trafficUnavailable'));
  const el = h(
    'div',
    { class: 'view regions', 'data-testid': 'regions-view' },
    h(
      'div',
      { class: 'toolbar' },
      h('h1', {}, t('regionsTitle')),
      h('span', { class: 'dim help' }, t('regionsHelp')),
      windowPicker(ctx),
    ),
    banner,
    h(
      'div',
      { class: 'regions-layout' },
      map.el,
      h('div', { class: 'regions-side' }, trafficNote, grid),
    ),
  );

  let again: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  async function loadTraffic(): Promise<void> {
    try {
      report = await ctx.api.regionTraffic();
      traffic = new Map(report.regions.map((r) => [r.region, r]));
      trafficNote.hidden = true;
    } catch {
      // the next round tries again; the tiles keep the fault rates meanwhile
      trafficNote.hidden = false;
    }
    if (closed) return;
    view.render();
    again = setTimeout(() => void loadTraffic(), TRAFFIC_EVERY_MS);
  }

  function tile(key: string): Tile {
    let x = tiles.get(key);
    if (x) return x;
    const fault = h('div', { class: 'tile-fault', 'data-testid': 'region-fault' });
    const auths = h('span', { 'data-testid': 'region-auths' });
    const volume = h('span', { 'data-testid': 'region-ratio' });
    const bar = h('div', { class: 'tile-bar-fill' });
    const sparkNormal = svg('path', { class: 'spark-normal' });
    const sparkNow = svg('path', { class: 'spark-now' });
    const spark = svg(
      'svg',
      {
        class: 'spark',
        'data-testid': 'region-spark',
        viewBox: `0 0 ${SPARK_W} ${SPARK_H}`,
        preserveAspectRatio: 'none',
      },
      svg('title', {}, t('sparkTitle')),
      sparkNormal,
      sparkNow,
    );
    const node = h(
      'a',
      {
        class: 'tile clickable',
        href: entityHash('region', key),
        'data-region': key,
        'data-testid': 'region-tile',
      },
      h('div', { class: 'tile-head' }, h('span', { class: 'tile-name' }, key)),
      fault,
      h('div', { class: 'tile-ratio' }, volume),
      h('div', { class: 'tile-sub' }, auths),
      spark,
      // the bar: normal for this hour at the middle mark, twice the normal full
      h('div', { class: 'tile-bar' }, bar, h('span', { class: 'tile-bar-mark' })),
    );
    x = { el: node, fault, auths, volume, bar, spark, sparkNow, sparkNormal };
    tiles.set(key, x);
    return x;
  }

  const view: View = {
    el,
    render() {
      const w = ctx.window();
      const outages = ctx.state.sortedAlerts(
        (a) =>
          a.alert.status === 'firing' &&
          (a.alert.rule === 'regional_outage' || a.alert.scope === 'region'),
      );
      const outageRegions = new Set(outages.map((a) => a.alert.key));
      const sig = outages.map((a) => `${a.alert.alertId}:${a.workflow.state}`).join('|');
      if (sig !== bannerSig) {
        bannerSig = sig;
        banner.replaceChildren(
          ...(outages.length
            ? [
                h(
                  'div',
                  { class: 'outage-title' },
                  `⚠ ${t('outageBanner')}: ${[...outageRegions].join(', ')}`,
                ),
                h(
                  'div',
                  { class: 'outage-cards' },
                  ...outages.map((a) => alertCard(a, { onOpen: (id) => ctx.go(`#/alert/${id}`) })),
                ),
              ]
            : []),
        );
        banner.classList.toggle('on', outages.length > 0);
      }
      const live = new Map<string, RateRow>(ctx.state.current('region', w).map((r) => [r.key, r]));
      const keys = [...new Set([...live.keys(), ...traffic.keys()])].sort((a, b) =>
        a.localeCompare(b),
      );
      map.update(
        keys.map((key) => {
          const tr = traffic.get(key);
          return { key, outage: outageRegions.has(key), ...(tr ? { traffic: tr } : {}) };
        }),
        report,
      );
      const order: HTMLElement[] = [];
      for (const key of keys) {
        const r = live.get(key);
        const tr = traffic.get(key);
        const x = tile(key);
        const hourRatio = tr?.ratio ?? undefined;
        const level = Math.max(
          regionLevel(r?.faultRate ?? 0, hourRatio),
          outageRegions.has(key) ? 3 : 0,
        );
        x.el.dataset['level'] = String(level);
        x.el.dataset['traffic'] = trafficLevel(tr?.ratio);
        x.el.title = [
          ...(outageRegions.has(key) ? [ruleName('regional_outage')] : []),
          ...trafficLines(report, tr),
        ].join('\n');
        setText(x.fault, r ? pct(r.faultRate) : '–', true);
        setText(
          x.auths,
          tr ? `${int(tr.auths)} / 1 h` : r ? `${int(r.auths)} ${t('colAuths').toLowerCase()}` : '',
          true,
        );
        setText(
          x.volume,
          tr?.ratio !== null && tr?.ratio !== undefined
            ? tf('ofNormalHour', { x: ratio(tr.ratio) })
            : t('noNormalYet'),
          true,
        );
        x.bar.style.width = `${Math.min(100, Math.round(((hourRatio ?? 0) / 2) * 100))}%`;
        if (tr) {
          const top = Math.max(...tr.series, ...(tr.normalSeries ?? []), 1);
          x.sparkNow.setAttribute('d', sparkPath(tr.series, SPARK_W, SPARK_H, top));
          x.sparkNormal.setAttribute(
            'd',
            tr.normalSeries ? sparkPath(tr.normalSeries, SPARK_W, SPARK_H, top) : '',
          );
        }
        x.spark.classList.toggle('empty', !tr);
        order.push(x.el);
      }
      if (keys.length === 0) {
        if (!grid.querySelector('.empty'))
          grid.replaceChildren(h('div', { class: 'empty' }, t('noData')));
      } else if (!(
        order.length === grid.children.length && order.every((n, i) => grid.children[i] === n)
      )) {
        grid.replaceChildren(...order);
      }
    },
    destroy() {
      closed = true;
      clearTimeout(again);
    },
  };
  void loadTraffic();
  return view;
}
