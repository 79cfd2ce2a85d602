import { h, setText } from './dom';
import { codeOf, drillCsv, fields, shortCard } from './drill';
import { clock, int } from './format';
import { categoryName, eventTypeName, t, type MessageKey } from './i18n';
import type { DrillDown } from './types';

/**
 * The raw events behind a number: response codes by count (a click filters the events on one),
 * the events with their card and issuer, CSV export of what is shown, and paging back. Used by
 * the alert view (an alert's drill-down) and the entity pages (a key's events).
 */
export class DrillTable {
  readonly el: HTMLElement;
  private readonly codes = h('tbody');
  private readonly txns = h('tbody');
  private readonly matched = h('span', { class: 'dim' });
  private readonly filterNote = h('span', { class: 'dim small', 'data-testid': 'code-filter' });
  private readonly olderBtn: HTMLButtonElement;
  /** the events loaded so far (newest first), and the code they are filtered on */
  private drill: DrillDown | undefined;
  private codeFilter: string | undefined;

  constructor(
    private readonly o: {
      /** the panel's title (default: the alert's drill-down) */
      title?: MessageKey;
      /** the CSV file's name, without .csv */
      fileName: () => string;
      /** the page of events before `until` (ISO time) */
      older: (until: string) => Promise<DrillDown>;
      onError: (e: unknown) => void;
    },
  ) {
    this.olderBtn = h(
      'button',
      {
        class: 'btn ghost small',
        'data-testid': 'load-older',
        hidden: true,
        onclick: () => void this.loadOlder(),
      },
      t('loadOlder'),
    ) as HTMLButtonElement;
    const csvBtn = h(
      'button',
      { class: 'btn ghost small', 'data-testid': 'export-csv', onclick: () => this.exportCsv() },
      t('exportCsv'),
    );
    this.el = h(
      'section',
      { class: 'panel', 'data-testid': 'drilldown' },
      h('h2', {}, t(o.title ?? 'drilldown'), ' ', this.matched),
      h('div', { class: 'action-row' }, this.filterNote, h('span', { class: 'spacer' }), csvBtn),
      h(
        'div',
        { class: 'drill' },
        h(
          'table',
          { class: 'codes' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, t('colCode')),
              h('th', {}, t('colCategory')),
              h('th', { class: 'num' }, t('colCount')),
              h('th', {}),
            ),
          ),
          this.codes,
        ),
        h(
          'div',
          { class: 'table-wrap scroll' },
          h(
            'table',
            { class: 'txns' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...(
                  [
                    'colTime',
                    'colTerminal',
                    'colType',
                    'colTxn',
                    'colAmount',
                    'colCode',
                    'colCard',
                    'colIssuer',
                  ] as const
                ).map((k) => h('th', {}, t(k))),
              ),
            ),
            this.txns,
          ),
          this.olderBtn,
        ),
      ),
    );
  }

  show(d: DrillDown): void {
    this.drill = d;
    const max = Math.max(1, ...d.responseCodes.map((c) => c.count));
    setText(this.matched, `${int(d.matched)} ${t('matched')}`);
    this.codes.replaceChildren(
      ...d.responseCodes.map((c) =>
        h(
          'tr',
          {
            'data-tone': c.category,
            'data-code': c.code,
            class: `clickable${this.codeFilter === c.code ? ' on' : ''}`,
            title: t('filterByCode'),
            // a code filters the events below; again, the filter goes
            onclick: () => {
              this.codeFilter = this.codeFilter === c.code ? undefined : c.code;
              this.show(d);
            },
          },
          h('td', { class: 'key' }, c.code),
          h('td', {}, categoryName(c.category)),
          h('td', { class: 'num' }, int(c.count)),
          h(
            'td',
            { class: 'barcell' },
            h('div', {
              class: `bar cat-${c.category}`,
              style: `width:${Math.round((c.count / max) * 100)}%`,
            }),
          ),
        ),
      ),
    );
    const shown = this.shown();
    setText(
      this.filterNote,
      this.codeFilter
        ? `${t('filteredOn')} ${this.codeFilter}: ${int(shown.length)} / ${int(d.events.length)}`
        : '',
    );
    this.olderBtn.hidden = d.events.length === 0 || d.events.length >= d.matched;
    this.txns.replaceChildren(
      ...shown.map((e) => {
        const x = fields(e);
        return h(
          'tr',
          { 'data-testid': 'txn-row', 'data-ts': new Date(e.ts).toISOString() },
          h('td', {}, clock(e.ts)),
          h('td', { class: 'key' }, e.terminalId),
          h('td', {}, eventTypeName(e.type)),
          h('td', { class: 'dim mono' }, x.txnId ?? '–'),
          h(
            'td',
            { class: 'num' },
            x.amount !== undefined ? `${(x.amount / 100).toFixed(2)} ${x.currency ?? ''}` : '–',
          ),
          h(
            'td',
            { class: `code${x.responseCode && x.responseCode !== '00' ? ' bad' : ''}` },
            codeOf(e),
          ),
          h(
            'td',
            { class: 'dim mono', title: x.cardFingerprint ?? '' },
            shortCard(x.cardFingerprint),
          ),
          h('td', { class: 'dim' }, x.issuerId ?? '–'),
        );
      }),
    );
  }

  private shown(): DrillDown['events'] {
    const d = this.drill;
    if (!d) return [];
    return d.events.filter((e) => !this.codeFilter || codeOf(e) === this.codeFilter);
  }

  /** The next older page (before the oldest event loaded). */
  private async loadOlder(): Promise<void> {
    const d = this.drill;
    if (!d || d.events.length === 0) return;
    // (an event's ts is epoch ms or ISO text, as the contract allows)
    const oldest = d.events.reduce(
      (m, e) => Math.min(m, typeof e.ts === 'number' ? e.ts : Date.parse(e.ts)),
      Infinity,
    );
    try {
      const more = await this.o.older(new Date(oldest).toISOString());
      const seen = new Set(d.events.map((e) => e.eventId));
      this.show({
        ...d,
        events: [...d.events, ...more.events.filter((e) => !seen.has(e.eventId))],
      });
    } catch (e) {
      this.o.onError(e);
    }
  }

  /** The events shown (as filtered) as a CSV file. */
  private exportCsv(): void {
    if (!this.drill) return;
    const blob = new Blob([drillCsv(this.shown())], { type: 'text/csv;charset=utf-8' });
    const a = h('a', {
      href: URL.createObjectURL(blob),
      download: `${this.o.fileName()}${this.codeFilter ? `-${this.codeFilter}` : ''}.csv`,
    }) as HTMLAnchorElement;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }
}
