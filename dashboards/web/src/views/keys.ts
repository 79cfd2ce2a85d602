import { ROLES } from '@tillwatch/contracts';
import { actionButton, h } from '../dom';
import { describeError } from '../errors';
import { dateTime } from '../format';
import { t } from '../i18n';
import type { ConfiguredKey, ManagedKey } from '../types';
import type { Ctx, View } from './view';

/**
 * Admins' API keys (#/keys): the configured ones (TILLWATCH_API_KEYS: a redeploy changes them)
 * and those made here, with role, merchant, holder, fingerprint, who made it and when, and
 * Revoke; a form to make one, whose key is shown once, here, and never again.
 */
export function keysView(ctx: Ctx): View {
  const rows = h('tbody', { 'data-testid': 'keys-rows' });
  const shown = h('div', { class: 'key-shown', 'data-testid': 'key-shown', hidden: true });
  const role = h(
    'select',
    { 'data-testid': 'key-role' },
    ...ROLES.map((r) => h('option', { value: r }, r)),
  ) as HTMLSelectElement;
  const merchant = h('input', {
    placeholder: t('colMerchant'),
    'data-testid': 'key-merchant',
  }) as HTMLInputElement;
  const name = h('input', {
    placeholder: t('keyHolder'),
    'data-testid': 'key-name',
    class: 'grow',
  }) as HTMLInputElement;
  let destroyed = false;

  async function load(): Promise<void> {
    try {
      const list = await ctx.api.keys();
      if (!destroyed) draw(list.configured, list.managed);
    } catch (e) {
      ctx.toast(describeError(e), 'err');
    }
  }

  function draw(configured: ConfiguredKey[], managed: ManagedKey[]): void {
    const row = (
      k: { role: string; merchantId?: string; name: string; fingerprint: string },
      source: string,
      extra: (HTMLElement | string)[],
      attrs: Record<string, string> = {},
    ) =>
      h(
        'tr',
        { 'data-testid': 'key-row', ...attrs },
        h('td', {}, k.name),
        h('td', {}, k.role),
        h('td', {}, k.merchantId ?? '–'),
        h('td', { class: 'mono dim' }, k.fingerprint),
        h('td', { class: 'dim' }, source),
        ...extra.map((x) => h('td', {}, x)),
      );
    rows.replaceChildren(
      ...managed.map((k) => {
        const revoke = actionButton(
          t('keyRevoke'),
          'key-revoke',
          () => ctx.api.revokeKey(k.id).then(load),
          (e) => ctx.toast(describeError(e), 'err'),
        );
        return row(
          k,
          `${t('keyMadeBy')} ${k.createdBy}, ${dateTime(k.createdAt)}`,
          [
            k.revokedAt ? `${t('keyRevoked')} ${dateTime(k.revokedAt)} (${k.revokedBy ?? ''})` : '',
            k.revokedAt ? '' : revoke,
          ],
          { 'data-key-id': k.id, 'data-state': k.revokedAt ? 'revoked' : 'active' },
        );
      }),
      ...configured.map((k) =>
        row(k, t('keyConfigured'), ['', ''], { 'data-state': 'configured' }),
      ),
    );
  }

  const form = h(
    'form',
    {
      class: 'filters',
      'data-testid': 'key-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const made = await ctx.api.createKey({
            role: role.value,
            ...(role.value === 'merchant' ? { merchantId: merchant.value.trim() } : {}),
            name: name.value,
          });
          // the one time the key is shown: copy it now
          shown.hidden = false;
          shown.replaceChildren(
            h('div', {}, t('keyShownOnce')),
            h('code', { class: 'mono', 'data-testid': 'key-secret' }, made.key),
          );
          name.value = '';
          await load();
        } catch (err) {
          ctx.toast(describeError(err), 'err');
        }
      },
    },
    role,
    merchant,
    name,
    h('button', { class: 'btn', type: 'submit', 'data-testid': 'key-create' }, t('keyCreate')),
  );

  const el = h(
    'div',
    { class: 'view keys', 'data-testid': 'keys-view' },
    h('div', { class: 'toolbar' }, h('h1', {}, t('navKeys'))),
    h('section', { class: 'panel' }, h('h2', {}, t('keyNew')), form, shown),
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
                'keyHolder',
                'keyRole',
                'colMerchant',
                'keyFingerprint',
                'keySource',
                'keyState',
              ] as const
            ).map((k) => h('th', {}, t(k))),
            h('th', {}),
          ),
        ),
        rows,
      ),
    ),
  );
  void load();
  return {
    el,
    render() {},
    destroy() {
      destroyed = true;
    },
  };
}
