// The station console: one page, screens chosen by the URL's hash.
//   #/masuk                login
//   #/rekam                the enrollment form (the default once logged in)
//   #/tanda-terima/REG     an enrollment's receipt, printable
//   #/sinkron              sync status and parked items
import '../common/style.css';
import { h, replace } from '../common/dom.js';
import { go, route } from '../common/router.js';
import { onLanguageChange, t } from '../common/i18n.js';
import { failureText, languageToggle, loadSession, logout, renderLogin } from '../common/shell.js';
import { renderEnrollment, renderReceipt } from './enroll.js';
import { renderSync, syncSummary } from './sync.js';

const app = document.getElementById('app');
const state = { session: null };


function header(session) {
  const { screen } = route('rekam');
  const link = (hash, key) => h('a', { href: hash, 'aria-current': screen === hash.slice(2) ? 'page' : false }, t(key));
  const summary = h('span', { class: 'sync-pill', id: 'sync-pill', role: 'status' });
  syncSummary(summary);
  return h('header', { class: 'top' },
    h('div', { class: 'brand' }, h('strong', {}, 'ektp'), ' ', t('station.title', { id: session.station_id })),
    h('nav', { 'aria-label': t('nav.label') }, link('#/rekam', 'nav.enroll'), link('#/sinkron', 'nav.sync')),
    summary,
    h('div', { class: 'who' }, t('station.who', { name: session.name, role: t(`role.${session.role}`) }), ' ',
      languageToggle(), ' ',
      h('button', { type: 'button', class: 'link', onclick: async () => { await logout('/api/v1/logout'); go('#/masuk'); } }, t('nav.logout'))));
}

async function render() {
  const { screen, arg } = route('rekam');
  const main = h('main', { id: 'main' });
  try {
    state.session = await loadSession('/api/v1/session');
  } catch (error) {
    replace(app, h('main', {}, h('p', { class: 'error', role: 'alert' },
      failureText(error))));
    return;
  }
  if (!state.session) {
    replace(app, h('header', { class: 'top' }, h('div', { class: 'brand' }, h('strong', {}, 'ektp'), ' ',
      t('station.console')), h('div', { class: 'who' }, languageToggle())), main);
    document.title = `${t('login.title')} · ektp`;
    renderLogin(main, { titleKey: 'login.title', path: '/api/v1/login', onLoggedIn: () => go('#/rekam') });
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
