import { AlertFeed, COLS, RateTable } from '../components';
import { h, setText } from '../dom';
import { describeError } from '../errors';
import { int, pct } from '../format';
import { ruleName, severityName, t } from '../i18n';
import { QualityPanel } from '../quality';
import { alertMatches, needsAction } from '../state';
import { RULE_IDS } from '@tillwatch/contracts';
import { readerTimeZone } from '../chart-spec';
import { DEFAULT_RANGE, RANGES, isoMinute, validAbsolute } from '../time-range';
import type { Ctx, View } from './view';

/** KPI tile whose value updates live. */
export function kpi(
  label: Parameters<typeof t>[0],
  testId: string,
): { el: HTMLElement; set: (v: string, tone?: string) => void } {
  const value = h('div', { class: 'kpi-value', 'data-testid': testId }, '–');
  const el = h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, t(label)), value);
  return {
    el,
    set: (v, tone) => {
      setText(value, v, true);
      if (tone) value.dataset['tone'] = tone;
    },
  };
}

export function windowPicker(ctx: Ctx): HTMLElement {
  const wrap = h(
    'div',
    { class: 'seg', 'data-testid': 'window-picker' },
    h('span', { class: 'seg-label' }, t('window')),
  );
  for (const w of ['1m', '5m', '15m', '1h']) {
    wrap.append(
      h(
        'button',
        { class: `seg-btn${ctx.window() === w ? ' on' : ''}`, onclick: () => ctx.setWindow(w) },
        w,
      ),
    );
  }
  return wrap;
}

/**
 * An entity page's time range (time-range.ts): the relative ranges as buttons, and an absolute
 * one from two local date-times (the reader's zone, named beside them).
 */
export function rangeBar(ctx: Ctx): HTMLElement {
  const p = ctx.params();
  const absolute = p.from !== undefined && p.to !== undefined;
  const wrap = h(
    'div',
    { class: 'seg range', 'data-testid': 'range-picker' },
    h('span', { class: 'seg-label' }, t('range')),
  );
  for (const r of Object.keys(RANGES)) {
    const on = !absolute && (p.range ?? DEFAULT_RANGE) === r;
    wrap.append(
      h(
        'button',
        {
          class: `seg-btn${on ? ' on' : ''}`,
          'data-range': r,
          onclick: () => ctx.setParams({ range: r, from: undefined, to: undefined }),
        },
        r,
      ),
    );
  }
  const local = (iso: string | undefined) => (iso ? toLocalInput(Date.parse(iso)) : '');
  const from = h('input', {
    type: 'datetime-local',
    'data-testid': 'range-from',
    value: local(p.from),
    'aria-label': t('rangeFrom'),
  });
  const to = h('input', {
    type: 'datetime-local',
    'data-testid': 'range-to',
    value: local(p.to),
    'aria-label': t('rangeTo'),
  });
  const apply = h(
    'button',
    {
      class: 'btn small',
      'data-testid': 'range-apply',
      onclick: () => {
        // datetime-local values are the reader's local time
        const f = new Date(from.value).getTime();
        const u = new Date(to.value).getTime();
        const fromIso = Number.isFinite(f) ? isoMinute(f) : '';
        const toIso = Number.isFinite(u) ? isoMinute(u) : '';
        if (!fromIso || !toIso || !validAbsolute(fromIso, toIso)) {
          ctx.toast(t('rangeInvalid'), 'err');
          return;
        }
        ctx.setParams({ from: fromIso, to: toIso, range: undefined });
      },
    },
    t('apply'),
  );
  return h(
    'div',
    { class: 'range-bar' },
    wrap,
    h('span', { class: `range-abs${absolute ? ' on' : ''}` }, from, '–', to, apply),
    h('span', { class: 'dim small' }, readerTimeZone()),
  );
}

/** epoch ms as a datetime-local input's value (the reader's local time) */
function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** The page of one terminal, merchant, region, issuer or software version. */
export function entityHash(scope: string, key: string): string {
  return `#/entity/${scope}/${encodeURIComponent(key)}`;
}

/**
 * A select over the values the feed's alerts have (regions, merchants), kept in step with them
 * as alerts come and go; the chosen one stays listed even when no alert has it any more.
 */
function liveSelect(
  ctx: Ctx,
  key: 'region' | 'merchant',
  all: Parameters<typeof t>[0],
): { el: HTMLSelectElement; update(values: Iterable<string | undefined>): void } {
  const el = h('select', {
    'data-testid': `filter-${key}`,
    onchange: (e: Event) => ctx.setParams({ [key]: (e.target as HTMLSelectElement).value }),
  }) as HTMLSelectElement;
  let sig: string | undefined;
  return {
    el,
    update(values) {
      const chosen = ctx.params()[key];
      const set = new Set<string>();
      for (const v of values) if (v) set.add(v);
      if (chosen) set.add(chosen);
      const list = [...set].sort();
      const next = `${chosen ?? ''}|${list.join(',')}`;
      if (next === sig) return;
      sig = next;
      el.replaceChildren(
        h('option', { value: '' }, t(all)),
        ...list.map((v) =>
          h('option', { value: v, ...(v === chosen ? { selected: true } : {}) }, v),
        ),
      );
    },
  };
}

/** Search and the feed's filters; what they hold is in the URL (ctx.params). */
export function filterBar(ctx: Ctx): HTMLElement & {
  updateOptions?: (alerts: readonly { alert: { region?: string; merchantId?: string } }[]) => void;
} {
  const p = ctx.params();
  const regions = liveSelect(ctx, 'region', 'allRegions');
  const merchants = liveSelect(ctx, 'merchant', 'allMerchants');
  const regionSelect = regions.el;
  const merchantSelect = merchants.el;
  const search = h('input', {
    type: 'search',
    class: 'search',
    placeholder: t('searchPlaceholder'),
    value: p.q ?? '',
    'data-testid': 'search',
    oninput: (e: Event) => ctx.setParams({ q: (e.target as HTMLInputElement).value.trim() }),
  });
  const select = (
    key: 'sev' | 'state' | 'rule',
    testId: string,
    options: [string, string][],
  ): HTMLElement =>
    h(
      'select',
      {
        'data-testid': testId,
        onchange: (e: Event) => ctx.setParams({ [key]: (e.target as HTMLSelectElement).value }),
      },
      ...options.map(([v, label]) =>
        h('option', { value: v, ...(p[key] === v ? { selected: true } : {}) }, label),
      ),
    );
  const bar: HTMLElement & {
    updateOptions?: (
      alerts: readonly { alert: { region?: string; merchantId?: string } }[],
    ) => void;
  } = h(
    'div',
    { class: 'filters', 'data-testid': 'feed-filters' },
    search,
    select('sev', 'filter-severity', [
      ['', t('allSeverities')],
      ...(['critical', 'warning', 'info'] as const).map((s): [string, string] => [
        s,
        severityName(s),
      ]),
    ]),
    select('state', 'filter-state', [
      ['', t('allStates')],
      ['needs', t('stateNeeds')],
      ['open', t('wf_open')],
      ['acknowledged', t('wf_acknowledged')],
      ['resolved', t('wf_resolved')],
    ]),
    select('rule', 'filter-rule', [
      ['', t('allRules')],
      ...RULE_IDS.map((r): [string, string] => [r, ruleName(r)]),
    ]),
    regionSelect,
    merchantSelect,
    h(
      'label',
      { class: 'check' },
      h('input', {
        type: 'checkbox',
        'data-testid': 'group-incidents',
        ...(p.group === 'incident' ? { checked: true } : {}),
        onchange: (e: Event) =>
          ctx.setParams({ group: (e.target as HTMLInputElement).checked ? 'incident' : undefined }),
      }),
      ` ${t('groupIncidents')}`,
    ),
  );
  bar.updateOptions = (alerts) => {
    regions.update(alerts.map((a) => a.alert.region));
    merchants.update(alerts.map((a) => a.alert.merchantId));
  };
  return bar;
}

export function ackAction(ctx: Ctx) {
  return (id: string) =>
    ctx.api
      .act(id, 'ack', ctx.author ? { author: ctx.author } : {})
      .then((rec) => ctx.state.applyAlert(rec))
      .catch((e: unknown) => ctx.toast(describeError(e), 'err'));
}

/** The analyst board: fleet KPIs, the worst terminals and merchants now, the alert feed. */
export function boardView(ctx: Ctx): View {
  const auths = kpi('fleetAuths', 'kpi-auths');
  const failure = kpi('fleetFailure', 'kpi-failure');
  const fault = kpi('fleetFault', 'kpi-fault');
  const firing = kpi('firingAlerts', 'kpi-firing');
  const terminals = new RateTable(
    [
      COLS.key('colTerminal'),
      COLS.merchant,
      COLS.region,
      COLS.auths,
      COLS.faults,
      COLS.fault,
      COLS.faultLow,
      COLS.reversal,
      COLS.top,
    ],
    'worst-terminals',
    (r) => ctx.go(entityHash('terminal', r.key)),
  );
  const merchants = new RateTable(
    [
      COLS.key('colMerchant'),
      COLS.auths,
      COLS.faults,
      COLS.fault,
      COLS.faultLow,
      COLS.failure,
      COLS.reversal,
      COLS.top,
    ],
    'worst-merchants',
    (r) => ctx.go(entityHash('merchant', r.key)),
  );
  const feed = new AlertFeed('alertFeed', {
    onOpen: (id) => ctx.go(`#/alert/${id}`),
    onAck: ackAction(ctx),
  });
  const quality = new QualityPanel(ctx);
  const filters = filterBar(ctx);
  const el = h(
    'div',
    { class: 'view board', 'data-testid': 'board-view' },
    h('div', { class: 'toolbar' }, h('h1', {}, t('navBoard')), windowPicker(ctx)),
    filters,
    h('div', { class: 'kpis' }, auths.el, failure.el, fault.el, firing.el),
    h(
      'div',
      { class: 'grid-board' },
      h(
        'div',
        { class: 'col-main' },
        h('section', { class: 'panel' }, h('h2', {}, t('worstTerminals')), terminals.el),
        h('section', { class: 'panel' }, h('h2', {}, t('worstMerchants')), merchants.el),
        quality.el,
      ),
      feed.el,
    ),
  );
  return {
    el,
    render() {
      const w = ctx.window();
      const fleet = ctx.state.current('fleet', w)[0];
      auths.set(fleet ? int(fleet.auths) : '–');
      failure.set(fleet ? pct(fleet.failureRate, 2) : '–');
      fault.set(
        fleet ? pct(fleet.faultRate, 2) : '–',
        fleet
          ? fleet.faultRate >= 0.1
            ? 'bad'
            : fleet.faultRate >= 0.05
              ? 'warn'
              : 'ok'
          : undefined,
      );
      const alerts = ctx.state.sortedAlerts();
      filters.updateOptions?.(alerts);
      // closed by a person is handled, even while the engine still sees the condition
      const nFiring = alerts.filter(needsAction).length;
      firing.set(String(nFiring), nFiring ? 'bad' : 'ok');
      const p = ctx.params();
      terminals.render(ctx.state.worst('terminal', w, 12, p.q));
      merchants.render(ctx.state.worst('merchant', w, 8, p.q));
      feed.render(
        alerts.filter((a) => alertMatches(a, p)),
        { group: p.group === 'incident', ready: ctx.state.loads > 0 },
      );
      quality.render();
    },
  };
}
