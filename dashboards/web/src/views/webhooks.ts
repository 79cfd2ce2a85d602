import { RULE_IDS, SEVERITIES } from '@tillwatch/contracts';
import { h } from '../dom';
import { describeError } from '../errors';
import { dateTime, int } from '../format';
import { ruleName, severityName, t, type MessageKey } from '../i18n';
import {
  deliveryStatusParam,
  newestFirst,
  replayState,
  subscriptionBody,
  subscriptionPatch,
  type WebhookDelivery,
  type WebhookSubscription,
} from '../webhooks';
import type { Ctx, View } from './view';

/** How often the delivery log is read again while the screen is open. */
const POLL_MS = 5000;

const when = (iso: string | null) => (iso ? dateTime(iso) : '–');

/**
 * Webhooks: a merchant's own endpoints (an admin's: every merchant's, with the merchant column)
 * with what each sends, its state and age; a form to add one or change one; enable, disable,
 * delete (after a confirmation), rotate or show its signing secret. Below, the recent delivery
 * log with a status filter, and Replay on a failed delivery whose endpoint is enabled. The API
 * scopes everything to the key; the screen offers only what the API lets this key do.
 */
export function webhooksView(ctx: Ctx): View {
  const staff = ctx.me.role !== 'merchant';
  let subs: WebhookSubscription[] = [];
  let deliveries: WebhookDelivery[] = [];
  let subsLoaded = false;
  let deliveriesLoaded = false;
  /** the subscription the form edits, if any (else it adds one) */
  let editing: WebhookSubscription | undefined;
  /** the subscription whose Delete waits for a confirmation */
  let confirming: string | undefined;
  let destroyed = false;

  // ---- the form: add an endpoint, or change the one being edited
  const merchant = h('input', {
    name: 'merchantId',
    placeholder: t('colMerchant'),
    'data-testid': 'wh-merchant',
  }) as HTMLInputElement;
  const url = h('input', {
    name: 'url',
    placeholder: t('whUrl'),
    'data-testid': 'wh-url',
    // not type=url: the browser would refuse in its own words; the API says why, in ours
    class: 'grow',
  }) as HTMLInputElement;
  const description = h('input', {
    name: 'description',
    placeholder: t('whDescription'),
    'data-testid': 'wh-description',
  }) as HTMLInputElement;
  const rules = h(
    'select',
    { name: 'rules', multiple: true, size: 4, title: t('whRules'), 'data-testid': 'wh-rules' },
    ...RULE_IDS.map((r) => h('option', { value: r }, ruleName(r))),
  ) as HTMLSelectElement;
  const sevBoxes = SEVERITIES.map(
    (s) =>
      h('input', {
        type: 'checkbox',
        value: s,
        'data-testid': `wh-sev-${s}`,
      }) as HTMLInputElement,
  );
  const language = h(
    'select',
    { name: 'language', title: t('whLanguage'), 'data-testid': 'wh-language' },
    h('option', { value: 'en' }, 'English'),
    h('option', { value: 'zh' }, '中文'),
  ) as HTMLSelectElement;
  const formTitle = h('h2', {}, t('whNew'));
  const submit = h('button', { class: 'btn', type: 'submit', 'data-testid': 'wh-submit' });
  const cancelEdit = h(
    'button',
    { class: 'btn ghost', type: 'button', 'data-testid': 'wh-cancel', hidden: true },
    t('cancel'),
  );
  cancelEdit.addEventListener('click', () => fill(undefined));

  /** Put a subscription's values in the form to change it (or empty it to add one). */
  function fill(sub: WebhookSubscription | undefined): void {
    editing = sub;
    merchant.value = sub?.merchantId ?? '';
    merchant.disabled = !!sub; // a subscription stays its merchant's
    url.value = sub?.url ?? '';
    description.value = sub?.description ?? '';
    for (const o of Array.from(rules.options)) o.selected = !!sub?.rules.includes(o.value);
    for (const b of sevBoxes) b.checked = !!sub?.severities.includes(b.value);
    language.value = sub?.language ?? 'en';
    formTitle.textContent = t(sub ? 'whEditTitle' : 'whNew');
    submit.textContent = t(sub ? 'whSave' : 'whCreate');
    cancelEdit.hidden = !sub;
    if (sub) url.focus();
  }

  const submitForm = async (e: Event) => {
    e.preventDefault();
    const body = subscriptionBody(ctx.me, {
      merchantId: merchant.value,
      url: url.value,
      description: description.value,
      rules: Array.from(rules.selectedOptions).map((o) => o.value),
      severities: sevBoxes.filter((b) => b.checked).map((b) => b.value),
      language: language.value,
    });
    try {
      if (editing) {
        await ctx.api.updateWebhook(editing.id, subscriptionPatch(editing, body));
        ctx.toast(t('whSaved'), 'ok');
      } else {
        const made = await ctx.api.createWebhook(body);
        showSecret(made, made.secret, null);
        ctx.toast(t('whSaved'), 'ok');
      }
      fill(undefined);
      await loadSubs();
    } catch (err) {
      ctx.toast(describeError(err, { 409: 'errWebhookLimit' }), 'err');
    }
  };
  const form = h(
    'form',
    { class: 'filters webhook-form', 'data-testid': 'wh-form', onsubmit: submitForm },
    staff ? merchant : null,
    url,
    description,
    rules,
    h(
      'span',
      { class: 'sev-boxes', title: t('whSeverities') },
      ...sevBoxes.map((b) => h('label', { class: 'check' }, b, severityName(b.value))),
    ),
    language,
    submit,
    cancelEdit,
  );
  fill(undefined);

  // ---- the signing secret, shown on creation, rotation or request
  const secretBox = h('section', {
    class: 'panel secret-box',
    'data-testid': 'wh-secret',
    hidden: true,
  });
  function showSecret(
    sub: Pick<WebhookSubscription, 'url'>,
    secret: string,
    oldUntil: string | null,
  ): void {
    const hide = h(
      'button',
      { class: 'btn ghost small', 'data-testid': 'wh-secret-hide' },
      t('whHide'),
    );
    hide.addEventListener('click', () => {
      secretBox.hidden = true;
      secretBox.replaceChildren();
    });
    secretBox.replaceChildren(
      h('h2', {}, `${t('whSecretTitle')} ${sub.url}`),
      h('code', { class: 'mono secret', 'data-testid': 'wh-secret-value' }, secret),
      h('p', { class: 'dim small' }, t('whSecretOnce')),
      oldUntil ? h('p', { class: 'dim small' }, `${t('whSecretOld')} ${dateTime(oldUntil)}`) : '',
      hide,
    );
    secretBox.hidden = false;
  }

  // ---- the subscriptions
  const subRows = h('tbody');
  const subHead = h(
    'tr',
    {},
    ...(staff ? (['colMerchant'] as const) : []).map((k) => h('th', {}, t(k))),
    ...(['whColUrl', 'whColSends', 'whColState', 'whColCreated'] as const).map((k) =>
      h('th', {}, t(k)),
    ),
    h('th', {}),
  );
  /** A row's button: off while its call runs, a refusal said in words. */
  const act = (
    testid: string,
    label: MessageKey,
    run: () => Promise<void>,
    o: { cls?: string; on409?: MessageKey } = {},
  ) => {
    const b = h(
      'button',
      {
        class: ['btn', o.cls ?? 'ghost', 'small'].filter(Boolean).join(' '),
        'data-testid': testid,
      },
      t(label),
    );
    b.addEventListener('click', () => {
      b.disabled = true;
      void run()
        .catch((err: unknown) =>
          ctx.toast(describeError(err, o.on409 ? { 409: o.on409 } : {}), 'err'),
        )
        .finally(() => (b.disabled = false));
    });
    return b;
  };
  function subRow(s: WebhookSubscription): HTMLElement {
    const sends = [
      s.rules.length ? s.rules.map(ruleName).join(', ') : '',
      s.severities.length ? s.severities.map(severityName).join(', ') : '',
    ].filter(Boolean);
    const actions =
      confirming === s.id
        ? [
            h('span', { class: 'warn-text' }, t('whDeleteConfirm')),
            act(
              'wh-delete-confirm',
              'whDeleteYes',
              async () => {
                await ctx.api.deleteWebhook(s.id);
                confirming = undefined;
                if (editing?.id === s.id) fill(undefined);
                ctx.toast(t('whDeleted'), 'ok');
                await loadSubs();
              },
              { cls: 'danger' },
            ),
            act('wh-delete-cancel', 'cancel', async () => {
              confirming = undefined;
              drawSubs();
            }),
          ]
        : [
            act('wh-edit', 'whEdit', async () => fill(s)),
            act('wh-toggle', s.enabled ? 'whDisable' : 'whEnable', async () => {
              await ctx.api.updateWebhook(s.id, { enabled: !s.enabled });
              await Promise.all([loadSubs(), loadDeliveries()]);
            }),
            act('wh-rotate', 'whRotate', async () => {
              const r = await ctx.api.rotateWebhookSecret(s.id);
              showSecret(s, r.secret, r.previousSecretsExpireAt);
            }),
            act('wh-show-secret', 'whShowSecret', async () => {
              const r = await ctx.api.webhookSecrets(s.id);
              const newest = r.secrets[0];
              if (newest) showSecret(s, newest.secret, r.secrets[1]?.expiresAt ?? null);
            }),
            act('wh-delete', 'whDelete', async () => {
              confirming = s.id;
              drawSubs();
            }),
          ];
    return h(
      'tr',
      {
        'data-testid': 'wh-sub-row',
        'data-sub-id': s.id,
        'data-merchant': s.merchantId,
        'data-enabled': String(s.enabled),
      },
      staff ? h('td', { class: 'dim', 'data-testid': 'wh-sub-merchant' }, s.merchantId) : null,
      h(
        'td',
        { class: 'key wh-url' },
        h('span', { 'data-testid': 'wh-sub-url' }, s.url),
        s.description ? h('div', { class: 'dim small' }, s.description) : null,
      ),
      h('td', {}, sends.length ? sends.join(' · ') : t('whEveryAlert')),
      h(
        'td',
        { 'data-testid': 'wh-sub-state', title: s.disabledReason ?? '' },
        h(
          'span',
          { class: `badge ${s.enabled ? 'wh-on' : 'wh-off'}` },
          t(s.enabled ? 'whEnabled' : 'whDisabled'),
        ),
      ),
      h('td', { class: 'dim' }, when(s.createdAt)),
      h('td', { class: 'actions' }, ...actions),
    );
  }
  function drawSubs(): void {
    const cols = staff ? 6 : 5;
    subRows.replaceChildren(
      ...(subs.length
        ? subs.map(subRow)
        : [
            h(
              'tr',
              {},
              h(
                'td',
                { colspan: cols, class: 'empty', 'data-testid': 'wh-subs-empty' },
                subsLoaded ? t('whNone') : t('noData'),
              ),
            ),
          ]),
    );
    // the endpoint column of the log names the subscriptions
    drawDeliveries();
  }

  // ---- the delivery log
  const statusFilter = h(
    'select',
    { 'data-testid': 'wh-status-filter' },
    h('option', { value: '' }, t('whAllStatuses')),
    ...(['dead', 'pending', 'delivered', 'cancelled'] as const).map((s) =>
      h('option', { value: s }, t(`dlv_${s}`)),
    ),
  ) as HTMLSelectElement;
  statusFilter.value = deliveryStatusParam(ctx.params().dlv) ?? '';
  statusFilter.addEventListener('change', () => {
    ctx.setParams({ dlv: statusFilter.value || undefined });
    deliveriesLoaded = false;
    void loadDeliveries();
  });
  const refresh = h(
    'button',
    { class: 'btn ghost small', 'data-testid': 'wh-refresh' },
    t('whRefresh'),
  );
  refresh.addEventListener('click', () => void Promise.all([loadSubs(), loadDeliveries()]));
  const dlvRows = h('tbody');
  const dlvHead = h(
    'tr',
    {},
    ...(
      [
        'colTime',
        ...(staff ? (['colMerchant'] as const) : []),
        'whColAlert',
        'whColUrl',
        'whColStatus',
        'whColAttempts',
        'whColLast',
        'whColNext',
        'whColLastError',
      ] as const
    ).map((k) => h('th', {}, t(k))),
    h('th', {}),
  );
  let dlvSig = '';
  function drawDeliveries(force = false): void {
    const byId = new Map(subs.map((s) => [s.id, s]));
    const list = newestFirst(deliveries);
    const sig = `${subs.map((s) => `${s.id}:${s.enabled}:${s.url}`).join(',')}|${list
      .map((d) => `${d.id}:${d.status}:${d.attempts}:${d.updatedAt}`)
      .join(',')}|${deliveriesLoaded}`;
    if (!force && sig === dlvSig) return;
    dlvSig = sig;
    const cols = staff ? 10 : 9;
    dlvRows.replaceChildren(
      ...(list.length
        ? list.map((d) => {
            const sub = byId.get(d.subscriptionId);
            const can = replayState(d, byId);
            const replay =
              can === 'ok'
                ? act(
                    'wh-replay',
                    'whReplay',
                    async () => {
                      await ctx.api.replayDelivery(d.id);
                      ctx.toast(t('whReplayed'), 'ok');
                      await loadDeliveries();
                    },
                    // the endpoint was disabled or deleted meanwhile (elsewhere)
                    { cls: '', on409: 'errReplayRefused' },
                  )
                : can === 'disabled' || can === 'gone'
                  ? h(
                      'span',
                      { class: 'dim small' },
                      t(can === 'disabled' ? 'whReplayDisabled' : 'whReplayGone'),
                    )
                  : null;
            return h(
              'tr',
              {
                'data-testid': 'wh-delivery-row',
                'data-delivery-id': d.id,
                'data-status': d.status,
                'data-merchant': d.merchantId,
              },
              h('td', { class: 'dim' }, when(d.createdAt)),
              staff ? h('td', { class: 'dim' }, d.merchantId) : null,
              h(
                'td',
                { class: 'key', 'data-testid': 'wh-delivery-alert' },
                d.alertId
                  ? h('a', { href: `#/alert/${encodeURIComponent(d.alertId)}` }, d.alertId)
                  : t('whNotice'),
                d.alertStatus ? h('span', { class: 'dim small' }, ` ${d.alertStatus}`) : null,
              ),
              h(
                'td',
                { class: 'wh-url', 'data-testid': 'wh-delivery-endpoint' },
                sub?.url ??
                  h('span', { class: 'dim' }, `${t('whEndpointGone')} ${d.subscriptionId}`),
              ),
              h(
                'td',
                { 'data-testid': 'wh-delivery-status' },
                h('span', { class: `badge dlv-${d.status}` }, t(`dlv_${d.status}`)),
              ),
              h('td', { class: 'num' }, int(d.attempts)),
              h(
                'td',
                { class: 'dim' },
                d.attempts > 0 ? when(d.updatedAt) : '–',
                d.lastStatusCode !== null ? ` · HTTP ${d.lastStatusCode}` : '',
              ),
              h('td', { class: 'dim' }, when(d.nextAttemptAt)),
              h('td', { class: 'wh-error', 'data-testid': 'wh-delivery-error' }, d.lastError ?? ''),
              h('td', {}, replay),
            );
          })
        : [
            h(
              'tr',
              {},
              h(
                'td',
                { colspan: cols, class: 'empty', 'data-testid': 'wh-deliveries-empty' },
                !deliveriesLoaded
                  ? t('noData')
                  : statusFilter.value
                    ? t('whNoDeliveriesOf')
                    : t('whNoDeliveries'),
              ),
            ),
          ]),
    );
  }

  async function loadSubs(): Promise<void> {
    try {
      subs = (await ctx.api.webhookSubscriptions()).items;
      subsLoaded = true;
    } catch (err) {
      ctx.toast(describeError(err), 'err');
    }
    if (!destroyed) drawSubs();
  }
  async function loadDeliveries(): Promise<void> {
    const status = deliveryStatusParam(statusFilter.value);
    try {
      const items = (await ctx.api.webhookDeliveries(status)).items;
      // an answer to an earlier filter is not this one's
      if (deliveryStatusParam(statusFilter.value) !== status) return;
      deliveries = items;
      deliveriesLoaded = true;
    } catch (err) {
      ctx.toast(describeError(err), 'err');
    }
    if (!destroyed) drawDeliveries();
  }

  const el = h(
    'div',
    { class: 'view webhooks', 'data-testid': 'webhooks-view' },
    h(
      'div',
      { class: 'toolbar' },
      h('h1', {}, `${t('navWebhooks')}${ctx.me.merchantId ? ` · ${ctx.me.merchantId}` : ''}`),
      h('span', { class: 'help dim small' }, t('whHelp')),
    ),
    h(
      'section',
      { class: 'panel' },
      formTitle,
      form,
      h('p', { class: 'dim small' }, `${t('whRules')} · ${t('whSeverities')}`),
    ),
    secretBox,
    h(
      'section',
      { class: 'panel' },
      h('table', { class: 'rates', 'data-testid': 'wh-subs' }, h('thead', {}, subHead), subRows),
    ),
    h(
      'section',
      { class: 'panel' },
      h(
        'div',
        { class: 'panel-head' },
        h('h2', {}, t('whDeliveries')),
        h('div', { class: 'filters wh-log-controls' }, statusFilter, refresh),
      ),
      h(
        'table',
        { class: 'rates', 'data-testid': 'wh-deliveries' },
        h('thead', {}, dlvHead),
        dlvRows,
      ),
    ),
  );
  drawSubs();
  drawDeliveries(true);
  void loadSubs();
  void loadDeliveries();
  // a delivery's attempts happen in the notifier: read the log again while the screen is open
  const timer = setInterval(() => {
    if (!document.hidden) void loadDeliveries();
  }, POLL_MS);

  return {
    el,
    // everything here is drawn when its data arrives, not on the live feed's frames
    render() {},
    destroy() {
      destroyed = true;
      clearInterval(timer);
    },
  };
}
