import { alertCard } from '../components';
import { h, setText } from '../dom';
import { int, pct, ratio, regionLevel } from '../format';
import { ruleName, t } from '../i18n';
import type { RateRow } from '../types';
import { entityHash, windowPicker } from './board';
import type { Ctx, View } from './view';

interface Tile {
  el: HTMLElement;
  fault: HTMLElement;
  auths: HTMLElement;
  volume: HTMLElement;
  bar: HTMLElement;
}

/** SRE view: every region a tile coloured by fault rate and traffic vs baseline, outages on top. */
export function regionsView(ctx: Ctx): View {
  const banner = h('div', { class: 'outages', 'data-testid': 'outage-banner' });
  const grid = h('div', { class: 'tiles', 'data-testid': 'region-tiles' });
  const tiles = new Map<string, Tile>();
  let bannerSig = '';
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
    grid,
  );

  function tile(r: RateRow): Tile {
    let x = tiles.get(r.key);
    if (x) return x;
    const fault = h('div', { class: 'tile-fault', 'data-testid': 'region-fault' });
    const auths = h('span', { 'data-testid': 'region-auths' });
    const volume = h('span', {});
    const bar = h('div', { class: 'tile-bar-fill' });
    const node = h(
      'div',
      {
        class: 'tile clickable',
        'data-region': r.key,
        'data-testid': 'region-tile',
        onclick: () => ctx.go(entityHash('region', r.key)),
      },
      h('div', { class: 'tile-head' }, h('span', { class: 'tile-name' }, r.key)),
      fault,
      h('div', { class: 'tile-sub' }, auths, volume),
      h('div', { class: 'tile-bar' }, bar),
    );
    x = { el: node, fault, auths, volume, bar };
    tiles.set(r.key, x);
    return x;
  }

  return {
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
      const rows = ctx.state.current('region', w).sort((a, b) => a.key.localeCompare(b.key));
      const order: HTMLElement[] = [];
      for (const r of rows) {
        const x = tile(r);
        const level = Math.max(
          regionLevel(r.faultRate, r.volumeRatio),
          outageRegions.has(r.key) ? 3 : 0,
        );
        x.el.dataset['level'] = String(level);
        x.el.title = outageRegions.has(r.key) ? ruleName('regional_outage') : '';
        setText(x.fault, pct(r.faultRate), true);
        setText(x.auths, `${int(r.auths)} ${t('colAuths').toLowerCase()}`, true);
        setText(x.volume, `${t('traffic')} ${ratio(r.volumeRatio)}`, true);
        x.volume.title = t('ofNormal');
        x.bar.style.width = `${Math.min(100, Math.round((r.volumeRatio ?? 1) * 100))}%`;
        order.push(x.el);
      }
      if (rows.length === 0) {
        if (!grid.querySelector('.empty'))
          grid.replaceChildren(h('div', { class: 'empty' }, t('noData')));
      } else if (!(
        order.length === grid.children.length && order.every((n, i) => grid.children[i] === n)
      )) {
        grid.replaceChildren(...order);
      }
    },
  };
}
