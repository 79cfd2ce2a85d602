import { h, setText } from './dom';
import { int, pct } from './format';
import { lang, ruleName, t, type MessageKey } from './i18n';
import type { QualityReport } from './types';
import type { Ctx } from './views/view';

type Figures = QualityReport['total'];

const PERIODS = [7, 30, 90];

/**
 * "Rule quality": per rule, alerts raised in the period, the analysts' verdicts and the
 * precision they give (GET /api/quality; the gateway does the arithmetic and scopes a merchant
 * to its own alerts). Loaded when the view opens, and again whenever a verdict is given, on
 * this board or on another one (a live `resolve` line).
 */
export class QualityPanel {
  readonly el: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly foot: HTMLTableSectionElement;
  private readonly empty: HTMLElement;
  private readonly seg: HTMLElement;
  private days = 30;
  private seenVerdicts: number;
  private loading = false;
  private again = false;

  constructor(private readonly ctx: Ctx) {
    this.seenVerdicts = ctx.state.verdicts;
    this.body = h('tbody');
    this.foot = h('tfoot');
    this.empty = h('div', { class: 'empty' });
    this.seg = h('div', { class: 'seg', 'data-testid': 'quality-period' });
    const cols: [MessageKey, string][] = [
      ['colRule', ''],
      ['colRaised', 'num'],
      ['colTrue', 'num'],
      ['colFalse', 'num'],
      ['colExpected', 'num'],
      ['colPrecision', 'num'],
      ['colNoVerdict', 'num'],
    ];
    this.el = h(
      'section',
      { class: 'panel quality', 'data-testid': 'rule-quality' },
      h('div', { class: 'panel-head' }, h('h2', {}, t('ruleQuality')), this.seg),
      h('p', { class: 'dim help' }, t('qualityHelp')),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'rates' },
          h('thead', {}, h('tr', {}, ...cols.map(([k, cls]) => h('th', { class: cls }, t(k))))),
          this.body,
          this.foot,
        ),
        this.empty,
      ),
    );
    this.drawPeriods();
    void this.load();
  }

  /** Called every frame the view renders: reload once a verdict was given since the last load. */
  render(): void {
    if (this.ctx.state.verdicts !== this.seenVerdicts) {
      this.seenVerdicts = this.ctx.state.verdicts;
      void this.load();
    }
  }

  async load(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return;
    }
    this.loading = true;
    try {
      const r = await this.ctx.api.quality(this.days);
      this.draw(r);
    } catch (e) {
      setText(this.empty, (e as Error).message);
    } finally {
      this.loading = false;
      if (this.again) {
        this.again = false;
        void this.load();
      }
    }
  }

  private drawPeriods(): void {
    this.seg.replaceChildren(
      ...PERIODS.map((d) =>
        h(
          'button',
          {
            class: `seg-btn${d === this.days ? ' on' : ''}`,
            'data-days': d,
            onclick: () => {
              this.days = d;
              this.drawPeriods();
              void this.load();
            },
          },
          `${d} ${t('days')}`,
        ),
      ),
    );
  }

  private draw(r: QualityReport): void {
    this.el.dataset['days'] = String(r.days);
    this.el.dataset['lang'] = lang();
    setText(this.empty, r.rules.length ? '' : t('noQuality'));
    this.body.replaceChildren(
      ...r.rules.map((q) => row(ruleName(q.rule), q, { 'data-rule': q.rule })),
    );
    this.foot.replaceChildren(r.rules.length ? row(t('total'), r.total, { class: 'total' }) : '');
  }
}

function row(name: string, q: Figures, attrs: Record<string, string>): HTMLTableRowElement {
  const tone =
    q.precision === null ? '' : q.precision >= 0.8 ? 'ok' : q.precision >= 0.5 ? 'warn' : 'bad';
  return h(
    'tr',
    attrs,
    h('td', { class: 'key' }, name),
    h('td', { class: 'num', 'data-col': 'raised' }, int(q.raised)),
    h('td', { class: 'num', 'data-col': 'true' }, int(q.verdicts.true_incident)),
    h('td', { class: 'num', 'data-col': 'false' }, int(q.verdicts.false_alarm)),
    h('td', { class: 'num', 'data-col': 'expected' }, int(q.verdicts.expected)),
    h(
      'td',
      { class: 'num', 'data-col': 'precision', ...(tone ? { 'data-tone': tone } : {}) },
      q.precision === null ? '–' : pct(q.precision),
    ),
    h(
      'td',
      { class: 'num dim', 'data-col': 'no-verdict' },
      `${int(q.withoutVerdict)} · ${q.withoutVerdictShare === null ? '–' : pct(q.withoutVerdictShare, 0)}`,
    ),
  );
}
