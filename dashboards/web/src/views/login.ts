import { Api } from '../api';
import { h } from '../dom';
import { t } from '../i18n';
import type { Me } from '../types';

/** Paste an API key; it is checked against /api/me and kept for the session (main.ts: every tab of this browser until sign-out). */
export function loginView(
  onLogin: (key: string, me: Me, author: string) => void,
  langSwitch: HTMLElement,
): HTMLElement {
  const key = h('input', {
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    'data-testid': 'login-key',
    required: true,
  });
  const name = h('input', { type: 'text', maxlength: 64, 'data-testid': 'login-name' });
  const err = h('div', { class: 'err', role: 'alert' });
  const form = h(
    'form',
    { class: 'login-card', 'data-testid': 'login-form' },
    h('div', { class: 'brand big' }, h('span', { class: 'logo' }, '◆'), t('appName')),
    h('p', { class: 'dim' }, t('tagline')),
    h('h1', {}, t('loginTitle')),
    h('label', {}, t('loginKey'), key),
    h('label', {}, t('loginName'), name),
    err,
    h(
      'button',
      { class: 'btn wide', type: 'submit', 'data-testid': 'login-submit' },
      t('loginButton'),
    ),
    h('p', { class: 'dim small' }, t('loginHelp')),
    langSwitch,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const k = key.value.trim();
    new Api(k)
      .me()
      .then((me) => onLogin(k, me, name.value.trim()))
      .catch(() => {
        err.textContent = t('loginFailed');
      });
  });
  return h('div', { class: 'login' }, form);
}
