// Central's console for staff, served at /console.
//   #/masuk                 login
//   #/dasbor[/REGION]       the dashboard, drilled down to a province, regency or kecamatan
//   #/adjudikasi            open duplicate cases
//   #/adjudikasi/RECORD     one case, both records side by side, and the decision
import '../common/style.css';
import { api, ApiError, sessionToken, setSessionToken } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { language, onLanguageChange, setLanguage, t } from '../common/i18n.js';
import { go } from '../common/router.js';
import { renderAdjudication, renderCases } from './adjudication.js';
import { renderDashboard } from './dashboard.js';

const app = document.getElementById('app');

function route() {
  const [screen, arg] = location.hash.replace(/^#\/?/, '').split('/');
  return { screen: screen || 'dasbor', arg: arg ? decodeURIComponent(arg) : '' };
}

function failureText(error) { return error instanceof ApiError ? error.operatorText : String(error); }

async function loadSession() {
  if (!sessionToken()) return null;
  try {
    return await api('/api/v1/console/session');
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
  const username = h('input', { id: 'username', autocomplete: 'username', required: true, autofocus: true,
    'aria-describedby': 'login-error' });
  const password = h('input', { id: 'password', type: 'password', autocomplete: 'current-password', required: true,
    'aria-describedby': 'login-error' });
  replace(main, h('form', { class: 'card narrow', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const { token } = await api('/api/v1/console/login', { method: 'POST',
        body: { username: username.value.trim(), password: password.value } });
      setSessionToken(token);
      go('#/dasbor');
    } catch (failure) {
      error.textContent = failureText(failure);
      password.select();
    }
  } },
  h('h1', {}, t('central.loginTitle')),
  h('label', { for: 'username' }, t('login.username')), username,
  h('label', { for: 'password' }, t('login.password')), password,
  error, h('button', { type: 'submit', class: 'primary' }, t('login.submit'))));
}

async function logout() {
  try { await api('/api/v1/console/logout', { method: 'POST' }); } catch { /* ends here either way */ }
  setSessionToken(null);
  go('#/masuk');
}

function header(session) {
  const { screen } = route();
  const link = (hash, key) => h('a', { href: hash, 'aria-current': screen === hash.slice(2) ? 'page' : false }, t(key));
  const mayAdjudicate = session.role === 'admin' || session.role === 'adjudicator';
  return h('header', { class: 'top' },
    h('div', { class: 'brand' }, h('strong', {}, 'ektp'), ' ', t('central.title')),
    h('nav', { 'aria-label': t('nav.label') }, link('#/dasbor', 'central.navDashboard'),
      mayAdjudicate ? link('#/adjudikasi', 'central.navAdjudication') : null),
    h('div', { class: 'who' }, t('station.who', { name: session.name, role: t(`central.role.${session.role}`) }), ' ',
      languageToggle(), ' ', h('button', { type: 'button', class: 'link', onclick: logout }, t('nav.logout'))));
}

async function render() {
  const { screen, arg } = route();
  const main = h('main', { id: 'main' });
  let session;
  try {
    session = await loadSession();
  } catch (error) {
    replace(app, h('main', {}, h('p', { class: 'error', role: 'alert' }, failureText(error))));
    return;
  }
  if (!session) {
    replace(app, h('header', { class: 'top' }, h('div', { class: 'brand' }, h('strong', {}, 'ektp'), ' ',
      t('central.title')), h('div', { class: 'who' }, languageToggle())), main);
    document.title = `${t('central.loginTitle')} · ektp`;
    renderLogin(main);
    return;
  }
  replace(app, header(session), main);
  try {
    if (screen === 'adjudikasi' && arg) {
      document.title = `${t('central.caseTitle', { record: arg })} · ektp`;
      await renderAdjudication(main, arg);
    } else if (screen === 'adjudikasi') {
      document.title = `${t('central.casesTitle')} · ektp`;
      await renderCases(main);
    } else {
      document.title = `${t('central.dashboardTitle')} · ektp`;
      await renderDashboard(main, arg);
    }
  } catch (error) {
    replace(main, h('p', { class: 'error', role: 'alert' }, failureText(error)));
  }
}

window.addEventListener('hashchange', render);
onLanguageChange(render);
render();
