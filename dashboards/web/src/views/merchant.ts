import { AlertFeed, COLS, RateTable } from '../components';
import { h } from '../dom';
import { t } from '../i18n';
import { QualityPanel } from '../quality';
import { entityHash, windowPicker } from './board';
import type { Ctx, View } from './view';

/** A merchant's own terminals and alerts (the gateway sends nothing else to this key). */
export function merchantView(ctx: Ctx): View {
  const table = new RateTable(
    [
      COLS.key('colTerminal'),
      COLS.region,
      COLS.auths,
      COLS.failure,
      COLS.fault,
      COLS.reversal,
      COLS.top,
    ],
    'my-terminals',
    (r) => ctx.go(entityHash('terminal', r.key)),
  );
  const feed = new AlertFeed('myAlerts', { onOpen: (id) => ctx.go(`#/alert/${id}`) });
  // the gateway counts only this merchant's own alerts
  const quality = new QualityPanel(ctx);
  const el = h(
    'div',
    { class: 'view merchant', 'data-testid': 'merchant-view' },
    h(
      'div',
      { class: 'toolbar' },
      h('h1', {}, `${t('myTerminals')} · ${ctx.me.merchantId ?? ''}`),
      windowPicker(ctx),
    ),
    h(
      'div',
      { class: 'grid-board' },
      h('div', { class: 'col-main' }, h('section', { class: 'panel' }, table.el), quality.el),
      feed.el,
    ),
  );
  return {
    el,
    render() {
      const w = ctx.window();
      table.render(
        ctx.state
          .current('terminal', w)
          .filter((r) => r.merchantId === ctx.me.merchantId)
          .sort((a, b) => b.faultRate - a.faultRate || a.key.localeCompare(b.key)),
      );
      feed.render(ctx.state.sortedAlerts(), { ready: ctx.state.loads > 0 });
      quality.render();
    },
  };
}
