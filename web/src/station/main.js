// The station console: one page, screens chosen by the URL's hash.
//   #/masuk                login
//   #/rekam                the enrollment form (the default once logged in)
//   #/tanda-terima/REG     an enrollment's receipt, printable
//   #/sinkron              sync status and parked items
import '../common/style.css';
import { api, ApiError, sessionToken, setSessionToken } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { go } from '../common/router.js';
import { language, onLanguageChange, setLanguage, t } from '../common/i18n.js';
import { renderEnrollment, renderReceipt } from './enroll.js';
import { renderSync, syncSummary } from './sync.js';

const app = document.getElementById('app');
const state = { session: null };

function route() {
  const [screen, arg] = location.hash.replace(/^#\/?/, '').split('/');
  return { screen: screen || 'rekam', arg: arg ? decodeURIComponent(arg) : '' };
}


async function loadSession() {
  if (!sessionToken()) return null;
  try {
    return await api('/api/v1/session');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

function languageToggle() {
  const other = language() === 'id' ? 'en' : 'id';
  return h('button', { type: 'button', class: 'link', lang: other, onclick: () => setLanguage(other) },
    t('common.otherLanguage'));
}

function renderLogin(main) {
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true,
    autofocus: true, 'aria-describedby': 'login-error' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password',
    required: true, 'aria-describedby': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  const form = h('form', { class: 'card narrow', onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    try {
      const { token } = await api('/api/v1/login', { method: 'POST',
        body: { username: username.value.trim(), password: password.value } });
      setSessionToken(token);
      go('#/rekam');
    } catch (failure) {
      error.textContent = failure instanceof ApiError ? failure.operatorText : String(failure);
      password.select();
    } finally {
      submit.disabled = false;
    }
  } },
  h('h1', {}, t('login.title')),
  h('label', { for: 'username' }, t('login.username')), username,
  h('label', { for: 'password' }, t('login.password')), password,
  error, submit);
  replace(main, form);
}

async function logout() {
  try { await api('/api/v1/logout', { method: 'POST' }); } catch { /* the session ends here either way */ }
  setSessionToken(null);
  state.session = null;
  go('#/masuk');
}

function header(session) {
  const { screen } = route();
  const link = (hash, key) => h('a', { href: hash, 'aria-current': screen === hash.slice(2) ? 'page' : false }, t(key));
  const summary = h('span', { class: 'sync-pill', id: 'sync-pill', role: 'status' });
  syncSummary(summary);
  return h('header', { class: 'top' },
    h('div', { class: 'brand' }, h('strong', {}, 'ektp'), ' ', t('station.title', { id: session.station_id })),
    h('nav', { 'aria-label': t('nav.label') }, link('#/rekam', 'nav.enroll'), link('#/sinkron', 'nav.sync')),
    summary,
    h('div', { class: 'who' }, t('station.who', { name: session.name, role: t(`role.${session.role}`) }), ' ',
      languageToggle(), ' ',
      h('button', { type: 'button', class: 'link', onclick: logout }, t('nav.logout'))));
}

async function render() {
  const { screen, arg } = route();
  const main = h('main', { id: 'main' });
  try {
    state.session = await loadSession();
  } catch (error) {
    replace(app, h('main', {}, h('p', { class: 'error', role: 'alert' },
      error instanceof ApiError ? error.operatorText : String(error))));
    return;
  }
  if (!state.session) {
    replace(app, h('header', { class: 'top' }, h('div', { class: 'brand' }, h('strong', {}, 'ektp'), ' ',
      t('station.console')), h('div', { class: 'who' }, languageToggle())), main);
    document.title = `${t('login.title')} · ektp`;
    renderLogin(main);
    return;
  }
  replace(app, header(state.session), main);
  if (screen === 'tanda-terima') {
    document.title = `${t('receipt.title')} · ektp`;
    await renderReceipt(main, arg);
  } else if (screen === 'sinkron') {
    document.title = `${t('sync.title')} · ektp`;
    await renderSync(main);
  } else {
    document.title = `${t('enroll.title')} · ektp`;
    await renderEnrollment(main, state.session);
  }
}

window.addEventListener('hashchange', render);
onLanguageChange(render);
render();
