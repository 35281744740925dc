// Central's console for staff, served at /console.
//   #/masuk                 login
//   #/dasbor[/REGION]       the dashboard, drilled down to a province, regency or kecamatan
//   #/adjudikasi            open duplicate cases
//   #/adjudikasi/RECORD     one case, both records side by side, and the decision
//   #/stasiun               stations: approval, revocation, registration tokens
//   #/blangko[/REGENCY]     blank cards: stock, need, the allocation plan, movements; one regency's reconciliation
import '../common/style.css';
import { h, replace } from '../common/dom.js';
import { onLanguageChange, t } from '../common/i18n.js';
import { failureText, languageToggle, loadSession, logout, renderLogin } from '../common/shell.js';
import { go, route } from '../common/router.js';
import { renderAdjudication, renderCases } from './adjudication.js';
import { renderBlanks, renderReconciliation } from './blanks.js';
import { renderDashboard } from './dashboard.js';
import { renderStations } from './stations.js';

const app = document.getElementById('app');


function header(session) {
  const { screen } = route('dasbor');
  const link = (hash, key) => h('a', { href: hash, 'aria-current': screen === hash.slice(2) ? 'page' : false }, t(key));
  const mayAdjudicate = session.role === 'admin' || session.role === 'adjudicator';
  const maySeeStations = session.role === 'admin' || session.role === 'supervisor';
  return h('header', { class: 'top' },
    h('div', { class: 'brand' }, h('strong', {}, 'ektp'), ' ', t('central.title')),
    h('nav', { 'aria-label': t('nav.label') }, link('#/dasbor', 'central.navDashboard'),
      mayAdjudicate ? link('#/adjudikasi', 'central.navAdjudication') : null,
      maySeeStations ? link('#/stasiun', 'central.navStations') : null,
      maySeeStations ? link('#/blangko', 'central.navBlanks') : null),
    h('div', { class: 'who' }, t('station.who', { name: session.name, role: t(`central.role.${session.role}`) }), ' ',
      languageToggle(), ' ', h('button', { type: 'button', class: 'link', onclick: async () => {
        await logout('/api/v1/console/logout');
        go('#/masuk');
      } }, t('nav.logout'))));
}

async function render() {
  const { screen, arg } = route('dasbor');
  const main = h('main', { id: 'main' });
  let session;
  try {
    session = await loadSession('/api/v1/console/session');
  } catch (error) {
    replace(app, h('main', {}, h('p', { class: 'error', role: 'alert' }, failureText(error))));
    return;
  }
  if (!session) {
    replace(app, h('header', { class: 'top' }, h('div', { class: 'brand' }, h('strong', {}, 'ektp'), ' ',
      t('central.title')), h('div', { class: 'who' }, languageToggle())), main);
    document.title = `${t('central.loginTitle')} · ektp`;
    renderLogin(main, { titleKey: 'central.loginTitle', path: '/api/v1/console/login', onLoggedIn: () => go('#/dasbor') });
    return;
  }
  replace(app, header(session), main);
  try {
    if (screen === 'adjudikasi' && arg) {
      document.title = `${t('central.caseTitle', { record: arg })} · ektp`;
      await renderAdjudication(main, arg);
    } else if (screen === 'stasiun') {
      document.title = `${t('central.stationsTitle')} · ektp`;
      await renderStations(main, session);
    } else if (screen === 'blangko' && arg) {
      document.title = `${t('blanks.title')} ${arg} · ektp`;
      await renderReconciliation(main, arg);
    } else if (screen === 'blangko') {
      document.title = `${t('blanks.title')} · ektp`;
      await renderBlanks(main, session);
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
