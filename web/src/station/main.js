// The station console: one page, screens chosen by the URL's hash. Each
// account sees the screens its role may use on this station's capabilities.
//   #/masuk                login
//   #/rekam                the enrollment form (an operator's first screen)
//   #/tanda-terima/REG     an enrollment's receipt, printable
//   #/cetak                blanks, the print queue and dispatch (a print officer's first screen)
//   #/ambil[/QUERY]        card pickup: find, fingerprint check, hand-over
//   #/suket[/REG]          issue and check a Suket
//   #/tinjauan             a supervisor's review of enrollments before upload
//   #/sinkron              sync status and parked items
import '../common/style.css';
import { h, replace } from '../common/dom.js';
import { go, route } from '../common/router.js';
import { onLanguageChange, t } from '../common/i18n.js';
import { failureText, languageToggle, loadSession, logout, renderLogin } from '../common/shell.js';
import { renderEnrollment, renderReceipt } from './enroll.js';
import { renderPickup } from './pickup.js';
import { renderPrint } from './print.js';
import { renderReview } from './review.js';
import { renderSuket } from './suket.js';
import { renderSync, syncSummary } from './sync.js';

const app = document.getElementById('app');
const state = { session: null };

// The screens, in menu order: who may use each (the server checks again).
const SCREENS = [
  { hash: 'rekam', key: 'nav.enroll', title: 'enroll.title', capability: 'enroll',
    roles: ['operator', 'supervisor', 'admin'] },
  { hash: 'cetak', key: 'nav.print', title: 'print.title', capability: 'print',
    roles: ['print_officer', 'supervisor', 'admin'] },
  { hash: 'ambil', key: 'nav.pickup', title: 'pickup.title', capability: 'pickup', roles: ['operator', 'supervisor'] },
  { hash: 'suket', key: 'nav.suket', title: 'suket.title', capability: 'suket', roles: ['operator', 'supervisor'] },
  { hash: 'tinjauan', key: 'nav.review', title: 'review.title', capability: 'enroll', roles: ['supervisor'] },
  { hash: 'sinkron', key: 'nav.sync', title: 'sync.title' },
];

function screensFor(session) {
  return SCREENS.filter((screen) => (!screen.capability || session.capabilities.includes(screen.capability))
    && (!screen.roles || screen.roles.includes(session.role)));
}

function header(session, current) {
  // The current screen's link shows it afresh (what arrived by sync since).
  const link = (screen) => h('a', { href: `#/${screen.hash}`, 'aria-current': current === screen.hash ? 'page' : false,
    onclick: (event) => { event.preventDefault(); go(`#/${screen.hash}`); } }, t(screen.key));
  const summary = h('span', { class: 'sync-pill', id: 'sync-pill', role: 'status' });
  syncSummary(summary);
  return h('header', { class: 'top' },
    h('div', { class: 'brand' }, h('strong', {}, 'ektp'), ' ', t('station.title', { id: session.station_id })),
    h('nav', { 'aria-label': t('nav.label') }, screensFor(session).map(link)),
    summary,
    h('div', { class: 'who' }, t('station.who', { name: session.name, role: t(`role.${session.role}`) }), ' ',
      languageToggle(), ' ',
      h('button', { type: 'button', class: 'link', onclick: async () => { await logout('/api/v1/logout'); go('#/masuk'); } }, t('nav.logout'))));
}

async function render() {
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
    renderLogin(main, { titleKey: 'login.title', path: '/api/v1/login', onLoggedIn: () => go('#/'), fingerprint: true });
    return;
  }
  const allowed = screensFor(state.session);
  const wanted = route(allowed[0].hash);
  const screen = wanted.screen === 'tanda-terima' ? wanted.screen
    : (allowed.find((s) => s.hash === wanted.screen) ?? allowed[0]).hash;
  replace(app, header(state.session, screen), main);
  document.title = `${t(SCREENS.find((s) => s.hash === screen)?.title ?? 'receipt.title')} · ektp`;
  if (screen === 'tanda-terima') await renderReceipt(main, wanted.arg);
  else if (screen === 'cetak') await renderPrint(main);
  else if (screen === 'ambil') await renderPickup(main, state.session, wanted.arg);
  else if (screen === 'suket') renderSuket(main, wanted.arg);
  else if (screen === 'tinjauan') await renderReview(main);
  else if (screen === 'sinkron') await renderSync(main);
  else await renderEnrollment(main, state.session);
}

window.addEventListener('hashchange', render);
onLanguageChange(render);
render();
