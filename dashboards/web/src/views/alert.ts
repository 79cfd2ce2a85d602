import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, setText } from '../dom';
import { describeError } from '../errors';
import { evidenceLines } from '../evidence';
import { DrillTable } from '../drill-table';
import { chartSpec, hhmm, readerTimeZone } from '../chart-spec';
import { plotRate } from '../rate-chart';
import { dateTime, metricValue } from '../format';
import { guidance, metricName, ruleName, severityName, t, type MessageKey } from '../i18n';
import type { AlertItem, AuditEntry, Verdict } from '../types';
import { entityHash } from './board';
import { ENTITY_SCOPES } from './entity';
import type { Ctx, View } from './view';

const VERDICTS: readonly Verdict[] = ['true_incident', 'false_alarm', 'expected'];

const ACTION_LABEL: Record<string, MessageKey> = {
  acknowledge: 'ack',
  assign: 'assign',
  note: 'addNote',
  resolve: 'resolve',
};

function auditLine(e: AuditEntry): HTMLElement {
  const who = e.role === 'engine' ? t('engine') : e.author ? `${e.author} (${e.actor})` : e.actor;
  const what =
    e.action === 'fired' || e.action === 'engine_resolved' || e.action === 'updated'
      ? `${t(`status_${e.status ?? 'firing'}` as MessageKey)}${e.note ? ` — ${e.note}` : ''}`
      : `${t(ACTION_LABEL[e.action] ?? 'addNote')}${e.assignee ? ` → ${e.assignee}` : ''}${
          e.verdict ? ` — ${t(`verdict_${e.verdict}`)}` : ''
        }`;
  return h(
    'li',
    { class: `audit-${e.action}`, 'data-testid': 'audit-entry' },
    h('time', { datetime: e.at }, dateTime(e.at)),
    h('span', { class: 'who' }, who),
    h('span', { class: 'what' }, what),
    e.note && e.role !== 'engine' ? h('div', { class: 'note' }, e.note) : null,
  );
}

/** One alert: guidance in the reader's language, trend, drill-down, audit trail, actions. */
export function alertView(ctx: Ctx, alertId: string): View {
  const head = h('div', { class: 'detail-head' });
  const guide = h('div', { class: 'guide' });
  const facts = h('dl', { class: 'facts' });
  const evidence = h('dl', { class: 'evidence', 'data-testid': 'evidence' });
  const drillTable = new DrillTable({
    fileName: () => alertId,
    older: (until) => ctx.api.drilldown(alertId, until),
    onError: (e) => ctx.toast(describeError(e), 'err'),
  });
  const audit = h('ol', { class: 'audit', 'data-testid': 'audit-trail' });
  const chartBox = h('div', { class: 'chart' });
  const chartTitle = h('h2', { 'data-testid': 'chart-title' }, t('trend'));
  const chartNote = h('div', { class: 'dim small', 'data-testid': 'chart-note' });
  let chartTimer: ReturnType<typeof setInterval> | undefined;
  const note = h('textarea', {
    placeholder: t('notePlaceholder'),
    rows: 3,
    'data-testid': 'note-input',
  });
  const assignee = h('input', {
    placeholder: t('assigneePlaceholder'),
    'data-testid': 'assignee-input',
  });
  const staff = ctx.me.role !== 'merchant';
  let rec: AlertItem | undefined;
  let plot: uPlot | undefined;
  let auditSeen = 0;
  let drawnVersion = -1;

  /** Sends one action; true when the gateway took it. */
  const send = async (
    kind: 'ack' | 'assign' | 'notes' | 'resolve',
    body: Record<string, string>,
  ): Promise<boolean> => {
    if (ctx.author) body['author'] = ctx.author;
    try {
      rec = await ctx.api.act(alertId, kind, body);
      ctx.state.applyAlert({ alert: rec.alert, workflow: rec.workflow });
      ctx.state.liveAudit.delete(alertId);
      if (kind === 'resolve') ctx.state.verdicts++; // the quality panel reloads
      drawAudit(rec.audit ?? []);
      drawHead();
      ctx.toast('✓', 'ok');
      return true;
    } catch (e) {
      console.warn(e);
      ctx.toast(describeError(e), 'err');
      return false;
    }
  };

  const act = (kind: 'ack' | 'assign' | 'notes') => async () => {
    const body: Record<string, string> = {};
    if (note.value.trim()) body['note'] = note.value.trim();
    if (kind === 'assign') body['assignee'] = assignee.value.trim();
    if (await send(kind, body)) note.value = '';
  };

  // Closing asks for a verdict (it feeds the rule's precision): a modal with the three
  // verdicts and a note; the confirm button stays off until one is chosen.
  const verdictNote = h('textarea', {
    placeholder: t('notePlaceholder'),
    rows: 3,
    'data-testid': 'verdict-note',
  });
  const verdictErr = h('div', { class: 'err', 'data-testid': 'verdict-error' });
  const confirmClose = h(
    'button',
    { class: 'btn danger', 'data-testid': 'verdict-confirm', disabled: true },
    t('closeConfirm'),
  );
  const chosen = (): Verdict | undefined =>
    VERDICTS.find(
      (v) => (dialog.querySelector(`input[value="${v}"]`) as HTMLInputElement | null)?.checked,
    );
  const dialog = h(
    'dialog',
    { class: 'verdict-dialog', 'data-testid': 'verdict-dialog' },
    h(
      'form',
      {
        method: 'dialog',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const verdict = chosen();
          if (!verdict) return setText(verdictErr, t('verdictRequired'));
          const body: Record<string, string> = { verdict };
          const text = verdictNote.value.trim() || note.value.trim();
          if (text) body['note'] = text;
          confirmClose.disabled = true;
          if (await send('resolve', body)) {
            verdictNote.value = '';
            note.value = '';
            dialog.close();
          } else confirmClose.disabled = false;
        },
      },
      h('h2', {}, t('closeTitle')),
      h('p', { class: 'dim' }, t('closeHelp')),
      h(
        'fieldset',
        { class: 'verdicts' },
        h('legend', {}, t('verdict')),
        ...VERDICTS.map((v) =>
          h(
            'label',
            { class: 'verdict-option', 'data-verdict': v },
            h('input', {
              type: 'radio',
              name: 'verdict',
              value: v,
              'data-testid': `verdict-${v}`,
              onchange: () => {
                confirmClose.disabled = false;
                setText(verdictErr, '');
              },
            }),
            h(
              'span',
              {},
              h('strong', {}, t(`verdict_${v}`)),
              h('span', { class: 'dim' }, t(`verdictHelp_${v}`)),
            ),
          ),
        ),
      ),
      verdictNote,
      verdictErr,
      h(
        'div',
        { class: 'action-row' },
        confirmClose,
        h(
          'button',
          {
            type: 'button',
            class: 'btn ghost',
            'data-testid': 'verdict-cancel',
            onclick: () => dialog.close(),
          },
          t('cancel'),
        ),
      ),
    ),
  );
  const openClose = () => {
    for (const input of dialog.querySelectorAll('input[type="radio"]'))
      (input as HTMLInputElement).checked = false;
    // a verdict given before is preselected: closing again replaces it (latest wins)
    const given = rec?.workflow.verdict;
    if (given) {
      const input = dialog.querySelector(`input[value="${given}"]`) as HTMLInputElement | null;
      if (input) input.checked = true;
    }
    confirmClose.disabled = !given;
    verdictNote.value = note.value;
    setText(verdictErr, '');
    dialog.showModal();
  };

  // they say what they would do now (drawHead follows the workflow)
  const ackBtn = h(
    'button',
    { class: 'btn', 'data-testid': 'ack-btn', onclick: act('ack') },
    t('ack'),
  ) as HTMLButtonElement;
  const resolveBtn = h(
    'button',
    { class: 'btn danger', 'data-testid': 'resolve-btn', onclick: openClose },
    t('resolve'),
  ) as HTMLButtonElement;
  const actions = h(
    'div',
    { class: 'actions panel' },
    h('h2', {}, t('auditTrail')),
    audit,
    note,
    h(
      'div',
      { class: 'action-row' },
      staff ? ackBtn : null,
      h(
        'button',
        { class: 'btn ghost', 'data-testid': 'note-btn', onclick: act('notes') },
        t('addNote'),
      ),
      staff ? assignee : null,
      staff
        ? h(
            'button',
            { class: 'btn ghost', 'data-testid': 'assign-btn', onclick: act('assign') },
            t('assign'),
          )
        : null,
      staff ? resolveBtn : null,
    ),
    staff ? dialog : null,
  );

  const el = h(
    'div',
    { class: 'view detail', 'data-testid': 'alert-detail' },
    h(
      'div',
      { class: 'toolbar' },
      h('button', { class: 'btn ghost', onclick: () => history.back() }, t('back')),
    ),
    head,
    h(
      'div',
      { class: 'detail-grid' },
      h(
        'div',
        { class: 'col-main' },
        h('section', { class: 'panel' }, guide),
        h('section', { class: 'panel' }, chartTitle, chartBox, chartNote),
        drillTable.el,
      ),
      h(
        'div',
        { class: 'col-side' },
        h('section', { class: 'panel' }, facts, h('h3', {}, t('evidence')), evidence),
        actions,
      ),
    ),
  );

  function drawHead(): void {
    if (!rec) return;
    const a = rec.alert;
    ackBtn.disabled = rec.workflow.state !== 'open';
    // a closed alert's verdict can still be corrected: the button says so
    setText(resolveBtn, t(rec.workflow.state === 'resolved' ? 'changeVerdict' : 'resolve'));
    head.replaceChildren(
      h('span', { class: `sev-pill sev-${a.severity}` }, severityName(a.severity)),
      h(
        'h1',
        {},
        `${ruleName(a.rule)} · `,
        (ENTITY_SCOPES as readonly string[]).includes(a.scope) && a.key !== '*'
          ? h(
              'a',
              {
                href: entityHash(a.scope, a.key),
                'data-testid': 'entity-link',
                title: t('openEntity'),
              },
              a.key,
            )
          : a.key,
      ),
      h('span', { class: `badge st-${a.status}` }, t(`status_${a.status}` as MessageKey)),
      h(
        'span',
        { class: `badge wf-${rec.workflow.state}`, 'data-testid': 'detail-wf' },
        t(`wf_${rec.workflow.state}` as MessageKey),
      ),
      rec.workflow.assignee ? h('span', { class: 'badge' }, `→ ${rec.workflow.assignee}`) : '',
      rec.workflow.verdict
        ? h(
            'span',
            {
              class: `badge verdict-${rec.workflow.verdict}`,
              'data-testid': 'detail-verdict',
              title: `${rec.workflow.verdictBy ?? ''} ${rec.workflow.verdictAt ? dateTime(rec.workflow.verdictAt) : ''}`,
            },
            t(`verdict_${rec.workflow.verdict}`),
          )
        : '',
    );
    const g = guidance(a);
    guide.replaceChildren(
      h('h2', {}, t('probableCauses')),
      h('ul', { 'data-testid': 'causes' }, ...g.probableCauses.map((c) => h('li', {}, c))),
      h('h2', {}, t('actions')),
      h('ol', { 'data-testid': 'actions' }, ...g.actions.map((c) => h('li', {}, c))),
    );
    const fact = (k: MessageKey, v: string) => [h('dt', {}, t(k)), h('dd', {}, v)];
    facts.replaceChildren(
      ...fact(
        'measured',
        `${metricName(a.metric)} ${metricValue(a.metric, a.value)} (${a.window})`,
      ),
      ...fact('threshold', metricValue(a.metric, a.threshold)),
      ...fact('baseline', metricValue(a.metric, a.baseline)),
      ...fact('colMerchant', a.merchantId ?? '–'),
      ...fact('colRegion', a.region ?? '–'),
      ...fact('firstSeen', dateTime(a.firstSeen)),
      ...fact('lastSeen', dateTime(a.lastSeen)),
    );
    evidence.replaceChildren(
      ...evidenceLines(a.evidence).flatMap((l) => [
        h('dt', { style: `padding-left: ${l.depth * 14}px` }, l.label),
        h('dd', {}, l.text),
      ]),
    );
  }

  function drawAudit(entries: AuditEntry[]): void {
    audit.replaceChildren(...entries.map(auditLine));
    auditSeen = 0;
  }

  async function drawChart(): Promise<void> {
    if (!rec) return;
    const a = rec.alert;
    if (!['terminal', 'merchant', 'region'].includes(a.scope)) {
      setText(chartTitle, t('trend'));
      chartBox.replaceChildren(h('div', { class: 'empty' }, t('noSeriesForScope')));
      return;
    }
    const spec = chartSpec(a);
    const zone = readerTimeZone();
    const name = spec.own ? metricName(a.metric) : t('seriesFaultRate');
    try {
      const s = await ctx.api.series(a.scope, a.key, spec.window);
      const pts = s.points.filter((p) => typeof p[spec.field] === 'number');
      const since = pts[0] ? hhmm(Date.parse(pts[0].ts) / 1000, zone) : '';
      setText(
        chartTitle,
        `${name} · ${t('windowWord')} ${spec.window}${since ? ` · ${t('since')} ${since}` : ''} (${zone})`,
      );
      setText(chartNote, spec.own ? t('chartOwnNote') : t('chartNotOwnNote'));
      if (pts.length < 2) {
        plot?.destroy();
        plot = undefined;
        chartBox.replaceChildren(h('div', { class: 'empty' }, t('noData')));
        return;
      }
      plot = plotRate(chartBox, plot, {
        xs: pts.map((p) => Date.parse(p.ts) / 1000),
        ys: pts.map((p) => p[spec.field] as number),
        name,
        zone,
        ...(spec.own ? { threshold: spec.threshold, baseline: spec.baseline } : {}),
      });
    } catch {
      chartBox.replaceChildren(h('div', { class: 'empty' }, t('noData')));
    }
  }

  void (async () => {
    try {
      rec = await ctx.api.alert(alertId);
      drawHead();
      drawAudit(rec.audit ?? []);
      ctx.state.liveAudit.delete(alertId);
      void drawChart();
      // the chart follows the live data (the series move a pane at a time)
      chartTimer = setInterval(() => void drawChart(), 15_000);
      drillTable.show(await ctx.api.drilldown(alertId));
    } catch (e) {
      head.replaceChildren(h('h1', {}, (e as Error).message));
    }
  })();

  return {
    el,
    render() {
      // live: workflow changes from other boards and new audit lines arrive over the socket
      const live = ctx.state.liveAudit.get(alertId);
      if (rec && live && live.length > auditSeen) {
        for (const e of live.slice(auditSeen))
          if (!rec.audit?.some((x) => x.id === e.id)) audit.append(auditLine(e));
        auditSeen = live.length;
      }
      const cur = ctx.state.alerts.get(alertId);
      if (
        rec &&
        cur &&
        drawnVersion !== ctx.state.version &&
        (cur.workflow.state !== rec.workflow.state ||
          cur.workflow.verdict !== rec.workflow.verdict ||
          cur.alert.status !== rec.alert.status)
      ) {
        rec = { ...rec, alert: cur.alert, workflow: cur.workflow };
        drawHead();
      }
      drawnVersion = ctx.state.version;
    },
    destroy() {
      if (chartTimer) clearInterval(chartTimer);
      plot?.destroy();
    },
  };
}
