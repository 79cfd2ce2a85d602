import { RULE_IDS, SCOPES } from '@tillwatch/contracts';
import { actionButton, h } from '../dom';
import { describeError } from '../errors';
import { dateTime, int } from '../format';
import { ruleName, t } from '../i18n';
import { describeRecurrence, localUtcOffset, silenceState, type Silence } from '../silences';
import type { Ctx, View } from './view';

const DURATIONS: [string, number][] = [
  ['30m', 30 * 60_000],
  ['1h', 3_600_000],
  ['4h', 4 * 3_600_000],
  ['24h', 24 * 3_600_000],
  // for a daily window: how long it repeats
  ['7d', 7 * 86_400_000],
  ['30d', 30 * 86_400_000],
];
/** the week as the form shows it, Monday first (0 = Sunday, as the API takes days) */
const WEEK = [1, 2, 3, 4, 5, 6, 0];

/**
 * Staff's silences: every one with what it matches, its time range, its daily window and state,
 * who made it and why, how many alerts on the board it mutes now; a form to make one (matchers,
 * how long, optionally a daily window on chosen days in the reader's time zone, a comment) and a
 * button to end one.
 */
export function silencesView(ctx: Ctx, reload: () => Promise<void>): View {
  const rows = h('tbody');
  const input = (name: string, placeholder: string) =>
    h('input', { name, placeholder, 'data-testid': `silence-${name}` }) as HTMLInputElement;
  const rule = h(
    'select',
    { name: 'rule', 'data-testid': 'silence-rule' },
    h('option', { value: '' }, t('allRules')),
    ...RULE_IDS.map((r) => h('option', { value: r }, ruleName(r))),
  ) as HTMLSelectElement;
  const scope = h(
    'select',
    { name: 'scope', 'data-testid': 'silence-scope' },
    h('option', { value: '' }, t('anyScope')),
    ...SCOPES.map((s) => h('option', { value: s }, s)),
  ) as HTMLSelectElement;
  const key = input('key', t('colKey'));
  const merchant = input('merchantId', t('colMerchant'));
  const region = input('region', t('colRegion'));
  const duration = h(
    'select',
    { name: 'duration', 'data-testid': 'silence-duration' },
    ...DURATIONS.map(([label, ms]) => h('option', { value: String(ms) }, label)),
  ) as HTMLSelectElement;
  // a daily window (a maintenance slot) in the reader's time zone, on the days ticked
  const repeat = h('input', {
    type: 'checkbox',
    'data-testid': 'silence-repeat',
  }) as HTMLInputElement;
  const from = h('input', {
    type: 'time',
    value: '02:00',
    'data-testid': 'silence-repeat-start',
  }) as HTMLInputElement;
  const to = h('input', {
    type: 'time',
    value: '04:00',
    'data-testid': 'silence-repeat-end',
  }) as HTMLInputElement;
  const dayNames = t('silenceDays').split(',');
  const days = WEEK.map(
    (d) =>
      h('input', {
        type: 'checkbox',
        value: String(d),
        checked: true,
        'data-testid': `silence-day-${d}`,
        'aria-label': dayNames[d],
      }) as HTMLInputElement,
  );
  const zone = localUtcOffset();
  const repeatBox = h(
    'span',
    { class: 'repeat', 'data-testid': 'silence-repeat-box' },
    h('label', { class: 'check' }, repeat, ` ${t('silenceRepeat')}`),
    from,
    t('silenceRepeatTo'),
    to,
    h('span', { class: 'dim small' }, `(${zone})`),
    ...WEEK.map((d, i) => h('label', { class: 'check day' }, days[i]!, dayNames[d]!)),
  );
  const comment = h('input', {
    name: 'comment',
    placeholder: t('silenceWhy'),
    'data-testid': 'silence-comment',
    class: 'grow',
  }) as HTMLInputElement;
  const create = async (e: Event) => {
    e.preventDefault();
    const matchers: Silence['matchers'] = {};
    if (rule.value) matchers.rule = rule.value;
    if (scope.value) matchers.scope = scope.value;
    if (key.value.trim()) matchers.key = key.value.trim();
    if (merchant.value.trim()) matchers.merchantId = merchant.value.trim();
    if (region.value.trim()) matchers.region = region.value.trim();
    const picked = days.filter((d) => d.checked).map((d) => Number(d.value));
    const recurring = repeat.checked
      ? {
          start: from.value,
          end: to.value,
          utcOffset: zone,
          // every day: no list (the API takes its absence as every day)
          ...(picked.length < 7 ? { days: picked } : {}),
        }
      : undefined;
    try {
      await ctx.api.createSilence({
        matchers,
        endsAt: new Date(Date.now() + Number(duration.value)).toISOString(),
        ...(recurring ? { recurring } : {}),
        comment: comment.value,
      });
      comment.value = '';
      await reload();
      ctx.toast('✓', 'ok');
    } catch (err) {
      ctx.toast(describeError(err), 'err');
    }
  };
  const form = h(
    'form',
    { class: 'filters', 'data-testid': 'silence-form', onsubmit: create },
    rule,
    scope,
    key,
    merchant,
    region,
    duration,
    repeatBox,
    comment,
    h(
      'button',
      { class: 'btn', type: 'submit', 'data-testid': 'silence-create' },
      t('silenceCreate'),
    ),
  );
  const el = h(
    'div',
    { class: 'view silences', 'data-testid': 'silences-view' },
    h('div', { class: 'toolbar' }, h('h1', {}, t('navSilences'))),
    h('section', { class: 'panel' }, h('h2', {}, t('silenceNew')), form),
    h(
      'section',
      { class: 'panel' },
      h(
        'table',
        { class: 'rates' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...(
              [
                'silenceMatches',
                'silenceFrom',
                'silenceUntil',
                'silenceRepeats',
                'silenceStateCol',
                'silenceMutes',
                'silenceBy',
                'silenceWhy',
              ] as const
            ).map((k) => h('th', {}, t(k))),
            h('th', {}),
          ),
        ),
        rows,
      ),
    ),
  );
  let sig = '';
  return {
    el,
    render() {
      const now = Date.now();
      const list = [...ctx.state.silences].sort((a, b) => (a.endsAt < b.endsAt ? 1 : -1));
      // what each mutes now among the alerts the board holds
      const mutes = new Map<string, number>();
      for (const i of ctx.state.sortedAlerts()) {
        if (i.silencedBy) mutes.set(i.silencedBy, (mutes.get(i.silencedBy) ?? 0) + 1);
      }
      const next = list
        .map((s) => `${s.id}:${silenceState(s, now)}:${mutes.get(s.id) ?? 0}`)
        .join('|');
      if (next === sig) return;
      sig = next;
      rows.replaceChildren(
        ...(list.length
          ? list.map((s) => {
              const state = silenceState(s, now);
              const end = actionButton(
                t('silenceEnd'),
                'silence-end',
                () => ctx.api.endSilence(s.id).then(reload),
                (err) => ctx.toast(describeError(err), 'err'),
              );
              const m = Object.entries(s.matchers)
                .map(([k, v]) => `${k}=${k === 'rule' ? ruleName(String(v)) : String(v)}`)
                .join(', ');
              return h(
                'tr',
                { 'data-silence-id': s.id, 'data-state': state, 'data-testid': 'silence-row' },
                h('td', { class: 'key' }, m),
                h('td', {}, dateTime(s.startsAt)),
                h('td', {}, dateTime(s.endsAt)),
                h(
                  'td',
                  { 'data-testid': 'silence-repeats' },
                  s.recurring ? describeRecurrence(s.recurring, dayNames) : '–',
                ),
                h('td', {}, t(`silence_${state}`)),
                h(
                  'td',
                  { class: 'num', 'data-testid': 'silence-mutes' },
                  int(mutes.get(s.id) ?? 0),
                ),
                h('td', { class: 'dim' }, s.createdBy),
                h('td', {}, s.comment),
                h('td', {}, state === 'expired' ? '' : end),
              );
            })
          : [h('tr', {}, h('td', { colspan: 9, class: 'empty' }, t('silenceNone')))]),
      );
    },
  };
}
