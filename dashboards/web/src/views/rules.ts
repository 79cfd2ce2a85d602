import { ApiError } from '../api';
import { h } from '../dom';
import { describeError } from '../errors';
import { dateTime, int, pct } from '../format';
import { lang, paramName, ruleName, severityName, t, tf } from '../i18n';
import type { QualityReport, RuleFact, RuleInForce, RulesReport } from '../types';
import type { Ctx, View } from './view';

type RuleQuality = QualityReport['rules'][number];

/** A setting's value as read: lists joined, flags in words, tiny p-values in e-notation. */
export function factValue(f: RuleFact): string {
  const v = f.value;
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'boolean') return t(v ? 'yes' : 'no');
  if (typeof v === 'number') {
    if (v === 0 || Math.abs(v) >= 0.001) return String(v);
    const [mantissa, exp] = v.toExponential().split('e');
    return `${mantissa === '1' ? '' : `${mantissa}×`}10${superscript(exp ?? '')}`;
  }
  return v;
}

const SUP = '⁰¹²³⁴⁵⁶⁷⁸⁹';
function superscript(exp: string): string {
  return [...exp].map((d) => (d === '-' ? '⁻' : d === '+' ? '' : (SUP[Number(d)] ?? d))).join('');
}

function facts(list: RuleFact[], testid: string): HTMLElement {
  return h(
    'dl',
    { class: 'facts', 'data-testid': testid },
    ...list.flatMap((f) => [
      h('dt', { title: f.name }, paramName(f.name)),
      h('dd', { 'data-fact': f.name }, factValue(f)),
    ]),
  );
}

function card(r: RuleInForce, q: RuleQuality | undefined, qualityKnown: boolean): HTMLElement {
  const texts = r.texts[lang()];
  const precision = !qualityKnown
    ? '–'
    : !q || q.precision === null
      ? t('rulePrecisionNone')
      : `${pct(q.precision)} (${tf('rulePrecisionOf', {
          t: int(q.verdicts.true_incident),
          n: int(q.verdicts.true_incident + q.verdicts.false_alarm),
        })})`;
  return h(
    'section',
    {
      class: `panel rule-card${r.enabled ? '' : ' off'}`,
      'data-testid': 'rule-card',
      'data-rule': r.rule,
      'data-enabled': String(r.enabled),
    },
    h(
      'div',
      { class: 'panel-head' },
      h('h2', {}, ruleName(r.rule)),
      h('code', { class: 'dim' }, r.rule),
      h(
        'span',
        { class: `sev-pill sev-${r.severity}`, 'data-testid': 'rule-severity' },
        severityName(r.severity),
      ),
      h(
        'span',
        { class: `badge ${r.enabled ? 'rule-on' : 'rule-off'}`, 'data-testid': 'rule-enabled' },
        t(r.enabled ? 'ruleEnabled' : 'ruleDisabled'),
      ),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, t('ruleWindows')),
      h('dd', { 'data-fact': 'windows' }, r.windows.length ? r.windows.join(', ') : '–'),
      h('dt', {}, t('ruleHold')),
      h('dd', { 'data-fact': 'hold' }, r.hold),
      h('dt', {}, t('rulePrecision')),
      h('dd', { 'data-testid': 'rule-precision' }, precision),
      ...(r.inhibits.length
        ? [
            h('dt', {}, t('ruleInhibits')),
            h('dd', { 'data-fact': 'inhibits' }, r.inhibits.map(ruleName).join(', ')),
          ]
        : []),
    ),
    h('h3', {}, t('ruleThresholds')),
    facts(r.thresholds, 'rule-thresholds'),
    ...(r.early ? [h('h3', {}, t('ruleEarly')), facts(r.early, 'rule-early')] : []),
    h('h3', {}, t('ruleCauses')),
    h('ul', { 'data-testid': 'rule-causes' }, ...texts.probableCauses.map((c) => h('li', {}, c))),
    h('h3', {}, t('ruleActions')),
    h('ul', { 'data-testid': 'rule-actions' }, ...texts.actions.map((a) => h('li', {}, a))),
  );
}

/**
 * Admins edit the rules file here: its text (JSON or YAML, as the file is), Save, the reason
 * when the rules refuse it (the field named) or when the file changed meanwhile, and the edits
 * made so far (who, when; Restore puts an old text back in the box). The processor reloads the
 * file by itself; `onSaved` redraws the cards from the rules now in force.
 */
function editor(ctx: Ctx, onSaved: () => void): HTMLElement {
  const text = h('textarea', {
    class: 'rules-text mono',
    rows: 14,
    spellcheck: 'false',
    'data-testid': 'rules-text',
  }) as HTMLTextAreaElement;
  const note = h('div', { class: 'small', 'data-testid': 'rules-edit-status' });
  const history = h('ol', { class: 'rules-history', 'data-testid': 'rules-history' });
  const path = h('span', { class: 'dim small mono' });
  let base = '';
  const save = h(
    'button',
    {
      class: 'btn',
      'data-testid': 'rules-save',
      onclick: async () => {
        note.className = 'small';
        note.textContent = '…';
        try {
          const edit = await ctx.api.saveRulesFile(text.value, base);
          note.textContent = `${t('rulesSaved')} ${edit.after.slice(0, 12)}`;
          note.dataset['state'] = 'ok';
          await open();
          onSaved();
        } catch (e) {
          note.className = 'small err';
          // the rules' own reason names the field in the file's terms (rules.x.minCount: ...)
          note.textContent =
            e instanceof ApiError && (e.status === 400 || e.status === 409)
              ? e.message
              : describeError(e);
          note.dataset['state'] = 'error';
        }
      },
    },
    t('rulesSave'),
  );
  async function open(): Promise<void> {
    try {
      const [f, hist] = await Promise.all([ctx.api.rulesFile(), ctx.api.rulesHistory()]);
      text.value = f.text;
      base = f.sha256;
      path.textContent = f.path;
      history.replaceChildren(
        ...hist.edits.map((e) =>
          h(
            'li',
            { 'data-testid': 'rules-history-entry' },
            `${dateTime(e.at)} · ${e.by} · ${e.after.slice(0, 12)} `,
            h(
              'button',
              {
                class: 'btn ghost small',
                onclick: () => {
                  text.value = e.text;
                },
              },
              t('rulesRestore'),
            ),
          ),
        ),
      );
    } catch (e) {
      // no RULES_FILE (the shipped defaults) or not writable: said, nothing to edit
      note.className = 'small err';
      note.textContent = describeError(e);
      text.disabled = true;
      (save as HTMLButtonElement).disabled = true;
    }
  }
  void open();
  return h(
    'section',
    { class: 'panel', 'data-testid': 'rules-editor' },
    h('h2', {}, t('rulesEdit'), ' ', path),
    text,
    h('div', { class: 'action-row' }, save, note),
    h('h3', {}, t('rulesHistory')),
    history,
  );
}

/**
 * Staff's rules screen (admins also edit the file): per rule, its name, severity and whether it runs, its
 * windows and thresholds as configured (GET /api/rules: RULES_FILE over the defaults), its
 * probable causes and actions in the board's language, and its precision over 30 days from
 * the analysts' verdicts (GET /api/quality, as the rule-quality panel reads it).
 */
export function rulesView(ctx: Ctx): View {
  const status = h('div', { class: 'empty', 'data-testid': 'rules-status' });
  const source = h('div', { class: 'dim small', 'data-testid': 'rules-source' });
  const list = h('div', { class: 'rule-cards', 'data-testid': 'rule-cards' });
  const el = h(
    'div',
    { class: 'view rules', 'data-testid': 'rules-view' },
    h(
      'div',
      { class: 'toolbar' },
      h('h1', {}, t('rulesTitle')),
      h('span', { class: 'dim help' }, t('rulesHelp')),
    ),
    source,
    status,
    ...(ctx.me.role === 'admin' ? [editor(ctx, () => void load())] : []),
    list,
  );
  let closed = false;

  async function load(): Promise<void> {
    status.textContent = '…';
    const [rules, quality] = await Promise.allSettled([ctx.api.rules(), ctx.api.quality(30)]);
    if (closed) return;
    if (rules.status === 'rejected') {
      status.textContent = `${t('rulesFailed')} ${describeError(rules.reason)}`;
      status.dataset['state'] = 'error';
      return;
    }
    draw(rules.value, quality.status === 'fulfilled' ? quality.value : undefined);
  }

  function draw(r: RulesReport, q: QualityReport | undefined): void {
    const byRule = new Map<string, RuleQuality>((q?.rules ?? []).map((x) => [x.rule, x]));
    status.textContent = r.rules.length ? '' : t('rulesNone');
    status.dataset['state'] = r.rules.length ? 'ok' : 'empty';
    source.replaceChildren(
      r.source === 'file' ? t('rulesFromFile') : t('rulesFromDefaults'),
      ...(r.refused
        ? [
            h(
              'div',
              { class: 'err', 'data-testid': 'rules-refused' },
              `${t('rulesRefused')} ${r.refused}`,
            ),
          ]
        : []),
    );
    list.replaceChildren(...r.rules.map((x) => card(x, byRule.get(x.rule), q !== undefined)));
    el.dataset['lang'] = lang();
  }

  void load();
  return {
    el,
    render() {},
    destroy() {
      closed = true;
    },
  };
}
