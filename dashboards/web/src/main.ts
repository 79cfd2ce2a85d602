import './style.css';
import { Api } from './api';
import { h, setText } from './dom';
import { clock } from './format';
import { lang, setLang, t, type Lang } from './i18n';
import { parseHash, withParams } from './url-state';
import { Live } from './live';
import { BoardState } from './state';
import type { Me } from './types';
import { alertView } from './views/alert';
import { boardView } from './views/board';
import { ENTITY_SCOPES, entityView, type EntityScope } from './views/entity';
import { keysView } from './views/keys';
import { loginView } from './views/login';
import { merchantView } from './views/merchant';
import { regionsView } from './views/regions';
import { rulesView } from './views/rules';
import { silencesView } from './views/silences';
import { webhooksView } from './views/webhooks';
import { canUseWebhooks } from './webhooks';
import type { Ctx, View } from './views/view';

const root = document.getElementById('app')!;
/** this tab's view settings */
const S = window.sessionStorage;
/**
 * The session (key and author): in localStorage, so that a link opened in a new tab is signed
 * in too; signing out in any tab removes it, and every other tab follows (the storage event).
 */
const L = window.localStorage;
const KEY = 'tw.key';
const AUTHOR = 'tw.author';
window.addEventListener('storage', (e) => {
  if (e.key === KEY && e.newValue === null) location.reload();
});

setLang(
  parseHash(location.hash).params.lang ??
    (localStorage.getItem('tw.lang') as Lang | null) ??
    (navigator.language.startsWith('zh') ? 'zh' : 'en'),
);

/**
 * Light or dark: the person's choice (the header's switch, kept in this browser), else what
 * their system prefers. Set before the first paint.
 */
const THEME = 'tw.theme';
type Theme = 'light' | 'dark';
const applyTheme = (th: Theme) => {
  document.documentElement.dataset['theme'] = th;
};
applyTheme(
  (localStorage.getItem(THEME) as Theme | null) ??
    (window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark'),
);

function themeSwitch(): HTMLElement {
  const current = () => (document.documentElement.dataset['theme'] === 'light' ? 'light' : 'dark');
  // the button names the theme it switches to
  const label = () => (current() === 'light' ? t('themeDark') : t('themeLight'));
  const btn: HTMLButtonElement = h(
    'button',
    {
      class: 'btn ghost small',
      'data-testid': 'theme',
      title: label(),
      'aria-label': label(),
      onclick: () => {
        const next: Theme = current() === 'light' ? 'dark' : 'light';
        applyTheme(next);
        localStorage.setItem(THEME, next);
        btn.title = label();
        btn.setAttribute('aria-label', label());
        btn.textContent = current() === 'light' ? '☾' : '☀';
      },
    },
    current() === 'light' ? '☾' : '☀',
  );
  return btn;
}

// A demo link may carry the key in the fragment (#key=...): the fragment never reaches a
// server log; take it into the session and drop it from the address bar at once.
const frag = /^#key=([^&]+)/.exec(location.hash);
if (frag) {
  L.setItem(KEY, decodeURIComponent(frag[1]!));
  history.replaceState(null, '', location.pathname + location.search);
}

function langSwitch(onChange: () => void): HTMLElement {
  const mk = (l: Lang, label: string) =>
    h(
      'button',
      {
        class: `seg-btn${document.documentElement.lang.startsWith(l) ? ' on' : ''}`,
        'data-testid': `lang-${l}`,
        onclick: (e: Event) => {
          e.preventDefault();
          setLang(l);
          localStorage.setItem('tw.lang', l);
          // a link copied now opens in this language
          if (location.hash.startsWith('#/')) {
            history.replaceState(null, '', withParams(location.hash, { lang: l }));
          }
          onChange();
        },
      },
      label,
    );
  return h('div', { class: 'seg lang' }, mk('en', 'EN'), mk('zh', '中文'));
}

function showLogin(): void {
  root.replaceChildren(
    loginView(
      (key, me, author) => {
        L.setItem(KEY, key);
        L.setItem(AUTHOR, author);
        start(key, me, author);
      },
      h('div', { class: 'login-switches' }, langSwitch(showLogin), themeSwitch()),
    ),
  );
}

function defaultRoute(me: Me): string {
  return me.role === 'merchant' ? '#/merchant' : me.role === 'sre' ? '#/regions' : '#/board';
}

function start(key: string, me: Me, author: string): void {
  const api = new Api(key);
  const state = new BoardState();
  let win = parseHash(location.hash).params.w ?? S.getItem('tw.window') ?? '1m';
  const here = () => location.hash || defaultRoute(me);
  let view: View | undefined;
  let dirty = true;
  let frame = 0;
  const schedule = () => {
    dirty = true;
    if (!frame) frame = requestAnimationFrame(draw);
  };
  const live = new Live(key, api, state, () => win, schedule);

  const statusPill = h('span', { class: 'pill', 'data-testid': 'conn' });
  const rate = h('span', { class: 'dim small', 'data-testid': 'updates' });
  const toastBox = h('div', { class: 'toast' });
  const nav = h('nav', { class: 'tabs' });
  const main = h('main', {});
  /** over the views while the live feed is down: the numbers below are old, and how old */
  const stale = h('div', { class: 'stale-banner', 'data-testid': 'stale-banner', hidden: true });
  const who = `${author || me.id} · ${me.role}${me.merchantId ? ` ${me.merchantId}` : ''}`;
  const buildHeader = () =>
    h(
      'header',
      { class: 'top' },
      h('div', { class: 'brand' }, h('span', { class: 'logo' }, '◆'), t('appName')),
      nav,
      h('span', { class: 'spacer' }),
      rate,
      statusPill,
      langSwitch(() => render()),
      themeSwitch(),
      h('span', { class: 'who', title: `${who} (${me.id})` }, who),
      h(
        'button',
        {
          class: 'btn ghost small',
          'data-testid': 'logout',
          onclick: () => {
            L.removeItem(KEY);
            L.removeItem(AUTHOR);
            S.clear();
            live.close();
            location.hash = '';
            location.reload();
          },
        },
        t('logout'),
      ),
    );
  let header = buildHeader();

  const ctx: Ctx = {
    api,
    me,
    state,
    live,
    window: () => win,
    setWindow: (w) => {
      win = w;
      S.setItem('tw.window', w);
      history.replaceState(null, '', withParams(here(), { w }));
      void live.resync();
      render();
    },
    params: () => parseHash(here()).params,
    setParams: (changes) => {
      history.replaceState(null, '', withParams(here(), changes));
      schedule();
    },
    author,
    go: (hash) => {
      location.hash = hash;
    },
    toast: (msg, kind = 'ok') => {
      toastBox.textContent = msg;
      toastBox.className = `toast on ${kind}`;
      setTimeout(() => (toastBox.className = 'toast'), 2500);
    },
  };

  function tabs(): void {
    const items: [string, Parameters<typeof t>[0]][] =
      me.role === 'merchant'
        ? [['#/merchant', 'navMerchant']]
        : [
            ['#/board', 'navBoard'],
            ['#/regions', 'navRegions'],
            ['#/silences', 'navSilences'],
            ['#/rules', 'navRules'],
          ];
    // merchants (their own) and admins (everyone's): the roles the webhook routes let in
    if (canUseWebhooks(me)) items.push(['#/webhooks', 'navWebhooks']);
    if (me.role === 'admin') items.push(['#/keys', 'navKeys']);
    nav.replaceChildren(
      ...items.map(([hash, label]) =>
        h(
          'a',
          {
            // the window travels with the tab switch
            href: withParams(hash, { w: win }),
            class: location.hash.startsWith(hash) ? 'on' : '',
            'data-testid': `tab-${hash.slice(2)}`,
          },
          t(label),
        ),
      ),
    );
  }

  /** Build the view for the current route (on navigation or language change). */
  function render(): void {
    view?.destroy?.();
    const { path: hash, params } = parseHash(here());
    // a link's window and language win over this tab's
    if (params.w && params.w !== win) {
      win = params.w;
      void live.resync();
    }
    if (params.lang && params.lang !== lang()) setLang(params.lang);
    const m = /^#\/alert\/(.+)$/.exec(hash);
    const ent = /^#\/entity\/([a-z]+)\/(.+)$/.exec(hash);
    if (m) view = alertView(ctx, decodeURIComponent(m[1]!));
    else if (ent && (ENTITY_SCOPES as readonly string[]).includes(ent[1]!)) {
      view = entityView(ctx, ent[1] as EntityScope, decodeURIComponent(ent[2]!));
    } else if (hash === '#/regions' && me.role !== 'merchant') view = regionsView(ctx);
    else if (hash === '#/silences' && me.role !== 'merchant') {
      view = silencesView(ctx, loadSilences);
    } else if (hash === '#/rules' && me.role !== 'merchant') view = rulesView(ctx);
    else if (hash === '#/webhooks' && canUseWebhooks(me)) view = webhooksView(ctx);
    else if (hash === '#/keys' && me.role === 'admin') view = keysView(ctx);
    else if (hash === '#/merchant' || me.role === 'merchant') view = merchantView(ctx);
    else view = boardView(ctx);
    tabs();
    main.replaceChildren(view.el);
    const fresh = buildHeader();
    header.replaceWith(fresh);
    header = fresh;
    schedule();
  }

  // one DOM pass per animation frame, however many messages arrived since the last one
  function draw(): void {
    frame = 0;
    if (!dirty) return;
    dirty = false;
    view?.render();
    statusPill.dataset['status'] = live.status;
    setText(
      statusPill,
      t(live.status === 'live' ? 'live' : live.status === 'offline' ? 'offline' : 'reconnecting'),
    );
    drawStale();
  }
  function drawStale(): void {
    const down = live.status !== 'live' && live.lastHeard > 0;
    main.classList.toggle('stale', down);
    stale.hidden = !down;
    if (down) {
      const secs = Math.round((Date.now() - live.lastHeard) / 1000);
      setText(
        stale,
        `${t(live.status === 'offline' ? 'staleOffline' : 'staleReconnecting')} ${t('staleSince')} ${clock(live.lastHeard)} (${secs} s)`,
      );
    }
  }
  setInterval(() => {
    setText(rate, `${state.updates} ${t('msgsPerSec')}`);
    state.updates = 0;
    drawStale();
  }, 1000);

  /** Staff see which alerts a silence mutes, also one made elsewhere a moment ago. */
  async function loadSilences(): Promise<void> {
    if (me.role === 'merchant') return;
    try {
      state.silences = (await api.silences()).silences;
      schedule();
    } catch {
      // the next round tries again; the gateway's own marks still show
    }
  }
  void loadSilences();
  setInterval(() => void loadSilences(), 30_000);

  window.addEventListener('hashchange', render);
  root.replaceChildren(header, stale, main, toastBox);
  if (!location.hash) history.replaceState(null, '', defaultRoute(me));
  render();
}

const saved = L.getItem(KEY);
if (saved) {
  new Api(saved)
    .me()
    .then((me) => start(saved, me, L.getItem(AUTHOR) ?? ''))
    .catch(() => {
      L.removeItem(KEY);
      showLogin();
    });
} else {
  showLogin();
}
