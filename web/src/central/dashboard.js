// The national dashboard: records by stage for the chosen region and each
// region below it (click a bar or a row to go down), the backlog by stage
// day by day, throughput (records reaching each milestone per day), blanks
// on hand against need with shortage alerts, every station's last contact,
// and the integrity flags: operators' and stations' rates of failed
// fingerprint checks, overrides, delegated collections and finger
// exceptions that stand out from their peers', enrollments captured far
// from their station, and finger exceptions no supervisor approved.
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement,
  Tooltip,
} from 'chart.js';
import { api } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { formatTime, t } from '../common/i18n.js';
import { go } from '../common/router.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement,
  Legend, Tooltip);
Chart.defaults.animation = false;
Chart.defaults.font.family = '"DejaVu Sans", system-ui, sans-serif';

// The stages the charts show, each a group of record states (core/lifecycle).
const STAGES = [
  { key: 'processing', states: ['received', 'validated', 'dedupe_pending', 'duplicate_suspect', 'unique'], color: '#8aa4c8' },
  { key: 'adjudication', states: ['adjudication'], color: '#d98c1f' },
  { key: 'print_ready', states: ['print_ready'], color: '#0b5cad' },
  { key: 'to_collect', states: ['printed', 'dispatched'], color: '#6b4fbb' },
  { key: 'activated', states: ['activated'], color: '#1d6b38' },
  { key: 'stopped', states: ['failed_validation', 'rejected_duplicate', 'revoked', 'replaced'], color: '#9aa0a6' },
];
const STALE_CONTACT_MS = 24 * 3600 * 1000;
const MILESTONES = [
  { state: 'received', color: '#8aa4c8' }, { state: 'print_ready', color: '#0b5cad' },
  { state: 'printed', color: '#6b4fbb' }, { state: 'activated', color: '#1d6b38' },
];

function percent(rate) { return `${(rate * 100).toFixed(1)} %`; }

// The integrity flags, or a line saying there are none.
function integrityCard(integrity) {
  const items = [
    ...integrity.outliers.map((o) => t(`central.outlier.${o.kind}`, {
      who: o.operator ? t('central.operatorAt', { operator: o.operator, station: o.station }) : o.station,
      events: o.events, out_of: o.out_of, rate: percent(o.rate), peers: percent(o.peer_rate) })),
    ...integrity.far_enrollments.map((f) => t('central.farEnrollments', { station: f.station, far: f.far, located: f.located })),
    ...(integrity.unapproved_exceptions ?? []).map((u) => t('central.unapprovedExceptions',
      { station: u.station, enrollments: u.enrollments })),
  ];
  return h('section', { class: 'card', id: 'integrity' }, h('h2', {}, t('central.integrity')),
    items.length === 0 ? h('p', { class: 'ok' }, t('central.noIntegrityFlags'))
      : h('ul', { class: 'warn' }, items.map((item) => h('li', {}, item))),
    h('p', { class: 'hint' }, t('central.integrityHelp')));
}

function stageCount(byState, stage) { return stage.states.reduce((sum, state) => sum + (byState?.[state] ?? 0), 0); }

function chartCard(id, titleKey, canvasLabel) {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': canvasLabel });
  return { card: h('section', { class: 'card chart' }, h('h2', {}, t(titleKey)), h('div', { class: 'chart-box' }, canvas)), canvas };
}

function breadcrumb(chain) {
  const items = [h('a', { href: '#/dasbor' }, t('central.indonesia'))];
  for (const region of chain) items.push(' › ', h('a', { href: `#/dasbor/${region.code}` }, region.name));
  return h('nav', { class: 'breadcrumb', 'aria-label': t('central.breadcrumb') }, items);
}

export async function renderDashboard(main, region) {
  const data = await api(`/api/v1/console/dashboard${region ? `?region=${encodeURIComponent(region)}` : ''}`);
  const total = Object.values(data.by_state).reduce((a, b) => a + b, 0);
  const shortages = data.blanks.filter((b) => b.shortfall > 0);
  const canDrill = region.length < 8;

  const kpi = (key, value, warn) => h('div', { class: `kpi${warn ? ' warn' : ''}` }, h('span', { class: 'kpi-value' }, String(value)),
    h('span', { class: 'kpi-label' }, t(key)));
  const stagesChart = chartCard('chart-stages', 'central.byRegion', t('central.byRegionAlt'));
  const daysChart = chartCard('chart-days', 'central.overTime', t('central.overTimeAlt'));
  const blanksChart = chartCard('chart-blanks', 'central.blanks', t('central.blanksAlt'));
  const throughputChart = chartCard('chart-throughput', 'central.throughput', t('central.throughputAlt'));

  const childRows = data.children.map((child) => h('tr', {},
    h('th', { scope: 'row' }, canDrill ? h('a', { href: `#/dasbor/${child.code}` }, child.name) : child.name),
    STAGES.map((stage) => h('td', { class: 'num' }, String(stageCount(child.by_state, stage))))));

  replace(main,
    h('h1', {}, t('central.dashboardTitle')),
    breadcrumb(data.region.chain),
    h('div', { class: 'kpis' },
      kpi('central.kpiRecords', total),
      kpi('central.kpiPrintReady', stageCount(data.by_state, STAGES[2])),
      kpi('central.kpiAdjudication', stageCount(data.by_state, STAGES[1]), stageCount(data.by_state, STAGES[1]) > 0),
      kpi('central.kpiToCollect', stageCount(data.by_state, STAGES[3])),
      kpi('central.kpiShortages', shortages.length, shortages.length > 0)),
    shortages.length > 0 ? h('div', { class: 'alert', role: 'alert', id: 'shortage-alert' },
      h('strong', {}, t('central.shortageAlert')), ' ',
      shortages.map((b) => t('central.shortageItem', { name: b.name, on_hand: b.on_hand, need: b.need })).join('; ')) : null,
    h('div', { class: 'columns' }, stagesChart.card, daysChart.card),
    h('section', { class: 'card' }, h('h2', {}, t('central.byRegionTable')),
      data.children.length === 0 ? h('p', {}, t('central.noRecords')) :
        h('table', { id: 'region-table' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('central.region')),
          STAGES.map((stage) => h('th', { scope: 'col', class: 'num' }, t(`central.stage.${stage.key}`))))),
        h('tbody', {}, childRows))),
    h('div', { class: 'columns' }, blanksChart.card,
      h('section', { class: 'card' }, h('h2', {}, t('central.stations')),
        h('table', { id: 'station-table' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('central.station')),
          h('th', { scope: 'col' }, t('central.stationKind')), h('th', { scope: 'col' }, t('central.stationStatus')),
          h('th', { scope: 'col' }, t('central.lastContact')))),
        h('tbody', {}, data.stations.map((station) => {
          const stale = !station.last_contact || Date.now() - new Date(station.last_contact).getTime() > STALE_CONTACT_MS;
          return h('tr', {}, h('th', { scope: 'row' }, station.id), h('td', {}, t(`central.kind.${station.kind}`)),
            h('td', {}, t(`central.status.${station.status}`)),
            h('td', { class: stale ? 'warn' : 'ok' }, formatTime(station.last_contact)));
        }))))),
    h('div', { class: 'columns' }, throughputChart.card, integrityCard(data.integrity)));

  new Chart(stagesChart.canvas, {
    type: 'bar',
    data: {
      labels: data.children.map((child) => child.name),
      datasets: STAGES.map((stage) => ({ label: t(`central.stage.${stage.key}`), backgroundColor: stage.color,
        data: data.children.map((child) => stageCount(child.by_state, stage)) })),
    },
    options: {
      maintainAspectRatio: false, indexAxis: 'y',
      scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } },
      onClick: (event, elements) => {
        if (canDrill && elements.length > 0) go(`#/dasbor/${data.children[elements[0].index].code}`);
      },
    },
  });
  new Chart(daysChart.canvas, {
    type: 'line',
    data: {
      labels: data.days.map((day) => day.day),
      datasets: STAGES.slice(0, 5).map((stage) => ({ label: t(`central.stage.${stage.key}`), borderColor: stage.color,
        backgroundColor: stage.color, data: data.days.map((day) => stageCount(day.by_state, stage)) })),
    },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
  });
  new Chart(throughputChart.canvas, {
    type: 'bar',
    data: {
      labels: data.throughput.map((day) => day.day),
      datasets: MILESTONES.map((m) => ({ label: t(`stage.${m.state}`), backgroundColor: m.color,
        data: data.throughput.map((day) => day[m.state]) })),
    },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
  });
  new Chart(blanksChart.canvas, {
    type: 'bar',
    data: {
      labels: data.blanks.map((b) => b.name),
      datasets: [
        { label: t('central.onHand'), backgroundColor: '#1d6b38', data: data.blanks.map((b) => b.on_hand) },
        { label: t('central.need'), backgroundColor: '#b3261e', data: data.blanks.map((b) => b.need) },
      ],
    },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
  });
}
