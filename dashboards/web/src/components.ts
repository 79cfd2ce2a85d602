import { h, setText } from './dom';
import { ago, int, metricValue, pct, ratio } from './format';
import { categoryName, lang, metricName, ruleName, severityName, t, type MessageKey } from './i18n';
import { faultLowerBound } from './state';
import { foldedIntoId, groupByIncident, type IncidentGroup } from './incidents';
import type { AlertItem, RateRow } from './types';

export interface Column {
  label: MessageKey;
  /** the header's tooltip */
  hint?: MessageKey;
  cls?: string;
  value: (r: RateRow) => string;
  /** a number that changes live: flash when it does */
  live?: boolean;
  /** severity class from the row (colours the cell) */
  tone?: (r: RateRow) => string;
  /** what a click on the header sorts by (numbers largest first, text A to Z) */
  sort?: (r: RateRow) => number | string;
}

export function mainFault(r: RateRow): string {
  let best = '';
  let n = 0;
  for (const c of ['timeout', 'issuer', 'terminal', 'security', 'other'] as const) {
    const v = r.byCategory[c] ?? 0;
    if (v > n) {
      n = v;
      best = c;
    }
  }
  return best ? `${categoryName(best)} ${int(n)}` : '–';
}

export const faultTone = (r: RateRow) =>
  r.faultRate >= 0.25 ? 'bad' : r.faultRate >= 0.1 ? 'warn' : r.faultRate >= 0.05 ? 'watch' : 'ok';

export const COLS = {
  key: (label: MessageKey): Column => ({
    label,
    cls: 'key',
    value: (r) => r.key,
    sort: (r) => r.key,
  }),
  merchant: {
    label: 'colMerchant',
    cls: 'dim',
    value: (r) => r.merchantId ?? '–',
    sort: (r) => r.merchantId ?? '',
  } as Column,
  region: {
    label: 'colRegion',
    cls: 'dim',
    value: (r) => r.region ?? '–',
    sort: (r) => r.region ?? '',
  } as Column,
  auths: {
    label: 'colAuths',
    cls: 'num',
    value: (r) => int(r.auths),
    live: true,
    sort: (r) => r.auths,
  } as Column,
  fault: {
    label: 'colFault',
    cls: 'num',
    value: (r) => pct(r.faultRate),
    live: true,
    tone: faultTone,
    sort: (r) => r.faultRate,
  } as Column,
  /** the fault count behind the rate: a rate of 5 auths is not one of 500 */
  faults: {
    label: 'colFaults',
    cls: 'num',
    value: (r) => int(r.faults),
    live: true,
    sort: (r) => r.faults,
  } as Column,
  /** the rate's lower bound, what the worst-lists rank by (state.ts faultLowerBound) */
  faultLow: {
    label: 'colFaultLow',
    hint: 'colFaultLowHint',
    cls: 'num',
    value: (r) => `≥ ${pct(faultLowerBound(r))}`,
    live: true,
    sort: (r) => faultLowerBound(r),
  } as Column,
  failure: {
    label: 'colFailure',
    cls: 'num',
    value: (r) => pct(r.failureRate),
    live: true,
    sort: (r) => r.failureRate,
  } as Column,
  reversal: {
    label: 'colReversal',
    cls: 'num',
    value: (r) => pct(r.reversalRate),
    live: true,
    sort: (r) => r.reversalRate,
  } as Column,
  volume: {
    label: 'colVolume',
    cls: 'num',
    value: (r) => ratio(r.volumeRatio),
    live: true,
    sort: (r) => r.volumeRatio ?? -1,
  } as Column,
  top: { label: 'colTop', cls: 'dim', value: mainFault } as Column,
};

/**
 * A table of rate rows keyed by scope key: rows and cells are reused across frames and only
 * changed text is written, so a board at 1,000 updates/s touches a few dozen nodes a frame.
 */
export class RateTable {
  readonly el: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly head: HTMLTableSectionElement;
  private readonly rows = new Map<
    string,
    { tr: HTMLTableRowElement; cells: HTMLTableCellElement[] }
  >();
  private readonly empty: HTMLElement;
  private headLang = '';
  /** the header clicked to sort by (-1: the caller's order), and the direction */
  private sortCol = -1;
  private sortDesc = true;
  /** the rows last rendered (a header click re-sorts them at once) */
  private last: RateRow[] = [];

  constructor(
    private readonly cols: Column[],
    testId: string,
    private readonly onClick?: (r: RateRow) => void,
  ) {
    this.head = h('thead');
    this.body = h('tbody');
    this.empty = h('div', { class: 'empty' });
    this.el = h(
      'div',
      { class: 'table-wrap', 'data-testid': testId },
      h('table', { class: 'rates' }, this.head, this.body),
      this.empty,
    );
  }

  /** A header click: sort by that column; again, the other way; a third time, the caller's
   *  order (numbers start largest first, text A to Z). */
  private sortBy(i: number): void {
    const c = this.cols[i]!;
    const first = this.last[0];
    const text = first !== undefined && typeof c.sort!(first) === 'string';
    if (this.sortCol !== i) [this.sortCol, this.sortDesc] = [i, !text];
    else if (this.sortDesc === !text) this.sortDesc = text;
    else this.sortCol = -1;
    this.render(this.last);
  }

  render(data: RateRow[]): void {
    this.last = data;
    setText(this.empty, data.length ? '' : t('noData'));
    const headSig = `${lang()}|${this.sortCol}|${this.sortDesc}`;
    if (this.headLang !== headSig) {
      this.headLang = headSig;
      this.head.replaceChildren(
        h(
          'tr',
          {},
          ...this.cols.map((c, i) =>
            h(
              'th',
              {
                class: `${c.cls ?? ''}${c.sort ? ' sortable' : ''}`,
                ...(c.hint ? { title: t(c.hint) } : {}),
                ...(i === this.sortCol
                  ? { 'aria-sort': this.sortDesc ? 'descending' : 'ascending' }
                  : {}),
                ...(c.sort ? { onclick: () => this.sortBy(i) } : {}),
              },
              t(c.label),
              i === this.sortCol ? (this.sortDesc ? ' ▼' : ' ▲') : '',
            ),
          ),
        ),
      );
    }
    const by = this.cols[this.sortCol]?.sort;
    if (by) {
      const dir = this.sortDesc ? -1 : 1;
      data = [...data].sort((a, b) => {
        const x = by(a);
        const y = by(b);
        const c =
          typeof x === 'number' && typeof y === 'number'
            ? x - y
            : String(x).localeCompare(String(y));
        return c * dir || a.key.localeCompare(b.key);
      });
    }
    const seen = new Set<string>();
    const order: HTMLTableRowElement[] = [];
    for (const r of data) {
      seen.add(r.key);
      let row = this.rows.get(r.key);
      if (!row) {
        const cells = this.cols.map((c) => h('td', { class: c.cls ?? '' }));
        const tr = h('tr', { 'data-key': r.key }, ...cells);
        if (this.onClick) {
          tr.classList.add('clickable');
          tr.addEventListener('click', () => this.onClick?.(r));
        }
        row = { tr, cells };
        this.rows.set(r.key, row);
      }
      this.cols.forEach((c, i) => {
        const cell = row.cells[i]!;
        setText(cell, c.value(r), c.live);
        if (c.tone) cell.dataset['tone'] = c.tone(r);
      });
      order.push(row.tr);
    }
    for (const k of [...this.rows.keys()]) if (!seen.has(k)) this.rows.delete(k);
    const same =
      order.length === this.body.children.length &&
      order.every((tr, i) => this.body.children[i] === tr);
    if (!same) this.body.replaceChildren(...order);
  }
}

/** One alert as a card in a feed. */
export function alertCard(
  item: AlertItem,
  opts: { onOpen: (id: string) => void; onAck?: (id: string) => void },
): HTMLElement {
  const a = item.alert;
  const where = [
    a.scope === 'terminal' || a.scope === 'merchant' ? a.merchantId : undefined,
    a.region,
  ]
    .filter(Boolean)
    .join(' · ');
  const card = h(
    'article',
    {
      class: `alert-card sev-${a.severity} st-${a.status} wf-${item.workflow.state}${item.silencedBy ? ' silenced' : ''}`,
      'data-alert-id': a.alertId,
      'data-testid': 'alert-card',
    },
    h(
      'header',
      {},
      h('span', { class: `sev-pill sev-${a.severity}` }, severityName(a.severity)),
      h('span', { class: 'rule' }, ruleName(a.rule)),
      h('span', { class: 'ago', title: a.lastSeen }, ago(a.lastSeen)),
    ),
    h(
      'div',
      { class: 'subject' },
      h('strong', {}, a.key),
      where ? h('span', { class: 'dim' }, ` ${where}`) : null,
    ),
    h(
      'div',
      { class: 'metric' },
      `${metricName(a.metric)} ${metricValue(a.metric, a.value)} `,
      h(
        'span',
        { class: 'dim' },
        `/ ${t('threshold').toLowerCase()} ${metricValue(a.metric, a.threshold)} · ${a.window}`,
      ),
    ),
    h(
      'footer',
      {},
      h('span', { class: `badge st-${a.status}` }, t(`status_${a.status}` as MessageKey)),
      h(
        'span',
        { class: `badge wf-${item.workflow.state}`, 'data-testid': 'wf-state' },
        t(`wf_${item.workflow.state}` as MessageKey),
      ),
      item.workflow.assignee ? h('span', { class: 'badge' }, `→ ${item.workflow.assignee}`) : null,
      item.silencedBy ? h('span', { class: 'badge' }, t('silenced')) : null,
      item.workflow.verdict
        ? h(
            'span',
            { class: `badge verdict-${item.workflow.verdict}`, 'data-testid': 'verdict' },
            t(`verdict_${item.workflow.verdict}` as MessageKey),
          )
        : null,
      h('span', { class: 'spacer' }),
      opts.onAck && item.workflow.state === 'open'
        ? h(
            'button',
            {
              class: 'btn small',
              'data-action': 'ack',
              onclick: (e: Event) => (e.stopPropagation(), opts.onAck?.(a.alertId)),
            },
            t('ack'),
          )
        : null,
      h(
        'button',
        { class: 'btn small ghost', onclick: () => opts.onOpen(a.alertId) },
        t('details'),
      ),
    ),
  );
  return card;
}

/** A feed that rebuilds only when its alerts changed (alerts change a few times a second at most). */
export class AlertFeed {
  readonly el: HTMLElement;
  /** what was drawn last (none yet: an empty feed's first render must say it is empty) */
  private sig: string | undefined;
  private readonly list: HTMLElement;
  /**
   * Says new firing alerts to screen readers (aria-live): the list itself is rebuilt on every
   * change, and a live region over it would read the whole feed again each time.
   */
  private readonly announcer: HTMLElement;
  /** alerts already drawn (not announced again); undefined before the first render */
  private seen: Set<string> | undefined;

  constructor(
    title: MessageKey,
    private readonly opts: { onOpen: (id: string) => void; onAck?: (id: string) => void },
  ) {
    this.list = h('div', {
      class: 'feed-list',
      role: 'feed',
      'aria-label': t(title),
      'data-testid': 'feed-list',
      onkeydown: (e: Event) => this.onKey(e as KeyboardEvent),
    });
    this.announcer = h('div', {
      class: 'sr-only',
      role: 'status',
      'aria-live': 'polite',
      'data-testid': 'feed-announcer',
    });
    this.el = h(
      'section',
      { class: 'panel feed', 'data-testid': 'alert-feed' },
      h('h2', {}, t(title)),
      this.announcer,
      this.list,
    );
  }

  /**
   * `group`: incidents with what they explain under them (incidents.ts). `ready`: the items are
   * the server's (false before the first snapshot: the alerts it brings are not news).
   */
  render(items: AlertItem[], o: { group?: boolean; ready?: boolean } = {}): void {
    const sig =
      (o.group ? 'g' : '') +
      (o.ready === false ? 'n|' : '|') +
      items
        .map(
          (i) =>
            `${i.alert.alertId}:${i.alert.status}:${i.alert.severity}:${i.alert.lastSeen}:${i.workflow.state}:${i.workflow.assignee ?? ''}:${i.workflow.verdict ?? ''}:${foldedIntoId(i) ?? ''}`,
        )
        .join('|');
    if (sig === this.sig) return;
    this.sig = sig;
    if (o.ready !== false) this.announce(items);
    // keyboard focus survives the rebuild: the same alert's card gets it back
    const focused = (document.activeElement as HTMLElement | null)?.closest?.('.alert-card');
    const focusedId =
      focused && this.list.contains(focused)
        ? (focused as HTMLElement).dataset['alertId']
        : undefined;
    const shown = items.slice(0, 100);
    this.list.replaceChildren(
      ...(shown.length === 0
        ? [h('div', { class: 'empty' }, t('noAlerts'))]
        : o.group
          ? groupByIncident(shown).map((g) => this.incident(g))
          : shown.map((i) => this.card(i))),
    );
    if (focusedId !== undefined) {
      this.cards()
        .find((c) => c.dataset['alertId'] === focusedId)
        ?.focus();
    }
  }

  private card(i: AlertItem): HTMLElement {
    const card = alertCard(i, this.opts);
    // reachable by Tab and by the arrow keys (onKey); Enter opens it
    card.tabIndex = 0;
    card.setAttribute('aria-label', alertLabel(i));
    return card;
  }

  private incident(g: IncidentGroup): HTMLElement {
    const head = this.card(g.item);
    if (g.explainedCount === 0) return head;
    head.classList.add('incident-head');
    const names = g.explained.slice(0, 12).map((e) =>
      h(
        'a',
        {
          href: `#/entity/${e.scope}/${encodeURIComponent(e.key)}`,
          class: 'mono',
          title: `${ruleName(e.rule)} · ${e.scope}`,
        },
        e.key,
      ),
    );
    return h(
      'div',
      { class: 'incident', 'data-testid': 'incident', 'data-incident-id': g.item.alert.alertId },
      head,
      h(
        'div',
        { class: 'incident-children', 'data-testid': 'incident-children' },
        h(
          'div',
          { class: 'small dim', 'data-testid': 'incident-explains' },
          `${t('explains')} ${int(g.explainedCount)}`,
          names.length ? ': ' : '',
          ...names.flatMap((n, k) => (k ? [', ', n] : [n])),
          g.explained.length > names.length ? ' …' : '',
        ),
        ...g.children.map((c) => this.card(c)),
      ),
    );
  }

  private cards(): HTMLElement[] {
    return [...this.list.querySelectorAll<HTMLElement>('.alert-card')];
  }

  /**
   * Keys on a focused card: ↓/j and ↑/k move between cards, Home/End to the first/last, Enter
   * opens it, `a` acknowledges it (when it has the button).
   */
  private onKey(e: KeyboardEvent): void {
    const card = (e.target as HTMLElement).closest?.('.alert-card') as HTMLElement | null;
    if (!card || e.target !== card || e.altKey || e.ctrlKey || e.metaKey) return;
    const cards = this.cards();
    const at = cards.indexOf(card);
    const id = card.dataset['alertId']!;
    const to = (k: number) => cards[Math.max(0, Math.min(cards.length - 1, k))]?.focus();
    if (e.key === 'ArrowDown' || e.key === 'j') to(at + 1);
    else if (e.key === 'ArrowUp' || e.key === 'k') to(at - 1);
    else if (e.key === 'Home') to(0);
    else if (e.key === 'End') to(cards.length - 1);
    else if (e.key === 'Enter') this.opts.onOpen(id);
    else if (e.key === 'a' && this.opts.onAck && card.querySelector('[data-action="ack"]')) {
      this.opts.onAck(id);
    } else return;
    e.preventDefault();
  }

  /** New firing alerts since the last render, one line each (the first render is not news). */
  private announce(items: AlertItem[]): void {
    const fresh = this.seen
      ? items.filter((i) => i.alert.status === 'firing' && !this.seen!.has(i.alert.alertId))
      : [];
    this.seen = new Set(items.map((i) => i.alert.alertId));
    if (fresh.length === 0) return;
    const lines = fresh.slice(0, 3).map((i) => `${t('newAlert')}: ${alertLabel(i)}`);
    if (fresh.length > 3) lines.push(`+${fresh.length - 3}`);
    this.announcer.textContent = lines.join('. ');
  }
}

/** What a screen reader says for a card: severity, rule, subject, where. */
function alertLabel(i: AlertItem): string {
  const a = i.alert;
  return [severityName(a.severity), ruleName(a.rule), a.key, a.region].filter(Boolean).join(', ');
}
