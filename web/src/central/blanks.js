// Blank cards (blangko) at central: national stock, each regency's blanks on
// hand against its need, the allocation plan for a new supply, and, for an
// admin, the movements central records: a manufacturer's delivery into
// national stock, a shipment to a regency, a hand-over to a print station
// (which learns of it through its feed). #/blangko/REGENCY reconciles one
// regency: where each of its blanks went, and what does not add up.
import { api } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { failureText, showFailure } from '../common/shell.js';
import { regionPicker } from './region_picker.js';

const POLICIES = ['min-max-wait', 'proportional'];

function numberCell(value, warn = false) { return h('td', { class: `num${warn ? ' warn' : ''}` }, String(value)); }

function headRow(keys) {
  return h('thead', {}, h('tr', {}, keys.map((key, index) =>
    h('th', { scope: 'col', class: index === 0 ? null : 'num' }, t(key)))));
}

function serialField(id, labelKey) {
  const input = h('input', { id, inputmode: 'numeric', pattern: '[0-9]{1,10}', maxlength: 10, required: true });
  return { input, field: h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), input) };
}

// One movement form: the holder's fields (none for stock-in), first and last
// serial and a reference; on success `done(notice)` shows the screen afresh.
function movementForm({ id, titleKey, helpKey, path, holder, doneKey }, done) {
  const first = serialField(`${id}-first`, 'blanks.firstSerial');
  const last = serialField(`${id}-last`, 'blanks.lastSerial');
  const reference = h('input', { id: `${id}-reference`, maxlength: 200 });
  const message = h('p', { class: 'error', role: 'alert', id: `${id}-message` });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('blanks.record'));
  return h('form', { class: 'card', id, onsubmit: async (event) => {
    event.preventDefault();
    message.textContent = '';
    submit.disabled = true;
    try {
      const answer = await api(path, { method: 'POST', body: { ...(holder ? holder.body() : {}),
        first: first.input.value.trim(), last: last.input.value.trim(), reference: reference.value.trim() } });
      done(t(doneKey, { count: answer.blanks, range: answer.range, holder: answer.holder }));
    } catch (error) {
      showFailure(message, error);
      submit.disabled = false;
    }
  } },
  h('h2', {}, t(titleKey)), h('p', { class: 'hint' }, t(helpKey)),
  holder ? holder.fields : null, h('div', { class: 'row' }, first.field, last.field),
  h('div', { class: 'field' }, h('label', { for: `${id}-reference` }, t('blanks.reference')), reference),
  message, submit);
}

function stationChoice(printStations) {
  const select = h('select', { id: 'handover-station', required: true }, h('option', { value: '' }, t('enroll.choose')),
    printStations.map((s) => h('option', { value: s.id }, `${s.id} · ${s.kecamatan_name}`)));
  return { fields: h('div', { class: 'field' }, h('label', { for: select.id }, t('central.station')), select),
    body: () => ({ station_id: select.value }) };
}

function planSection() {
  const supply = h('input', { id: 'plan-supply', type: 'number', min: 0, required: true });
  const floor = h('input', { id: 'plan-floor', type: 'number', min: 0, value: 20 });
  const policy = h('select', { id: 'plan-policy' }, POLICIES.map((p) => h('option', { value: p }, t(`blanks.policy.${p}`))));
  const result = h('div', { id: 'plan-result' });
  const days = (value) => (value === null ? t('blanks.unbounded') : String(Math.round(value)));
  return h('form', { class: 'card', id: 'plan-form', onsubmit: async (event) => {
    event.preventDefault();
    replace(result);
    try {
      const plan = await api(`/api/v1/console/blanks/plan?supply=${encodeURIComponent(supply.value)}` +
        `&floor=${encodeURIComponent(floor.value)}&policy=${encodeURIComponent(policy.value)}`);
      // Regencies with a backlog or more than the minimum, largest allocation first;
      // the others are one line, not hundreds of rows.
      const minimum = plan.summary.floor_applied;
      const rows = plan.regencies.filter((r) => r.backlog > 0 || r.allocation > minimum)
        .sort((a, b) => b.allocation - a.allocation || a.code.localeCompare(b.code));
      const atFloor = plan.regencies.length - rows.length;
      replace(result, h('p', { role: 'status', id: 'plan-summary' }, t('blanks.planSummary', {
        max: days(plan.summary.max_wait_days), mean: days(plan.summary.mean_wait_days),
        left: plan.summary.backlog_left, floor: plan.summary.floor_applied, lead: plan.lead_days })),
      h('table', { id: 'plan-table' },
        headRow(['central.region', 'blanks.backlog', 'blanks.onHand', 'central.need', 'blanks.allocation',
          'blanks.waitDays', 'blanks.backlogLeft']),
        h('tbody', {}, rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, `${r.name} (${r.code})`),
          numberCell(r.backlog), numberCell(r.on_hand), numberCell(r.need), numberCell(r.allocation),
          numberCell(days(r.wait_days), r.wait_days === null), numberCell(r.backlog_left))))),
      atFloor > 0 ? h('p', { class: 'hint', id: 'plan-at-floor' }, t('blanks.atFloor', { count: atFloor, floor: minimum })) : null);
    } catch (error) {
      replace(result, h('p', { class: 'error', role: 'alert' }, failureText(error)));
    }
  } },
  h('h2', {}, t('blanks.planTitle')), h('p', { class: 'hint' }, t('blanks.planHelp')),
  h('div', { class: 'row' },
    h('div', { class: 'field' }, h('label', { for: supply.id }, t('blanks.supply')), supply),
    h('div', { class: 'field' }, h('label', { for: floor.id }, t('blanks.floor')), floor),
    h('div', { class: 'field' }, h('label', { for: policy.id }, t('blanks.policy')), policy)),
  h('button', { type: 'submit', class: 'primary' }, t('blanks.makePlan')), result);
}

export async function renderBlanks(main, session, notice = '') {
  const data = await api('/api/v1/console/blanks');
  const isAdmin = session.role === 'admin';
  const again = (text) => renderBlanks(main, session, text).catch((error) =>
    replace(main, h('p', { class: 'error', role: 'alert' }, failureText(error))));
  const short = data.regencies.filter((r) => r.shortfall > 0);
  const shipTo = regionPicker('ship', ['province', 'regency']);
  replace(main, h('h1', {}, t('blanks.title')),
    notice ? h('p', { class: 'ok', role: 'status', id: 'blanks-notice' }, notice) : null,
    h('div', { class: 'kpis' },
      h('div', { class: 'kpi' }, h('span', { class: 'kpi-value', id: 'national-stock' }, String(data.national_stock)),
        h('span', { class: 'kpi-label' }, t('blanks.nationalStock'))),
      h('div', { class: `kpi${short.length > 0 ? ' warn' : ''}` }, h('span', { class: 'kpi-value' }, String(short.length)),
        h('span', { class: 'kpi-label' }, t('central.kpiShortages')))),
    h('section', { class: 'card' }, h('h2', {}, t('blanks.byRegency')),
      data.regencies.length === 0 ? h('p', {}, t('blanks.none')) : h('table', { id: 'blanks-table' },
        headRow(['central.region', 'blanks.inStore', 'blanks.inTransit', 'blanks.atStations', 'central.need',
          'blanks.shortfall']),
        h('tbody', {}, data.regencies.map((r) => h('tr', { 'data-regency': r.code },
          h('th', { scope: 'row' }, h('a', { href: `#/blangko/${r.code}` }, `${r.name} (${r.code})`)),
          numberCell(r.in_store), numberCell(r.in_transit), numberCell(r.at_stations), numberCell(r.need),
          numberCell(r.shortfall > 0 ? r.shortfall : '-', r.shortfall > 0)))))),
    planSection(),
    isAdmin ? h('div', { class: 'columns three' },
      movementForm({ id: 'stock-in', titleKey: 'blanks.stockInTitle', helpKey: 'blanks.stockInHelp',
        path: '/api/v1/console/blanks/stock-in', doneKey: 'blanks.stockInDone' }, again),
      movementForm({ id: 'ship', titleKey: 'blanks.shipTitle', helpKey: 'blanks.shipHelp',
        path: '/api/v1/console/blanks/shipments', doneKey: 'blanks.shipDone',
        holder: { fields: shipTo.fields, body: () => ({ regency_code: shipTo.value() }) } }, again),
      movementForm({ id: 'handover', titleKey: 'blanks.handOverTitle', helpKey: 'blanks.handOverHelp',
        path: '/api/v1/console/blanks/handovers', doneKey: 'blanks.handOverDone',
        holder: stationChoice(data.print_stations) }, again)) : null);
}

export async function renderReconciliation(main, regency) {
  const r = await api(`/api/v1/console/blanks/regencies/${encodeURIComponent(regency)}`);
  const spoiled = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);
  const facts = [['blanks.shipped', r.shipped], ['blanks.handedOverTotal', r.handed_over], ['blanks.received', r.received],
    ['blanks.printed', r.printed], ['blanks.spoiled', spoiled(r.spoiled)], ['blanks.inStore', r.on_hand.in_store],
    ['blanks.inTransit', r.on_hand.in_transit], ['blanks.atStations', r.on_hand.at_stations]];
  replace(main, h('p', {}, h('a', { href: '#/blangko' }, t('blanks.back'))),
    h('h1', {}, t('blanks.reconciliationTitle', { name: r.regency_name, code: r.regency })),
    r.discrepancies.length > 0 ? h('div', { class: 'alert', role: 'alert', id: 'discrepancies' },
      r.discrepancies.map((d) => h('p', {}, d.pesan))) : h('p', { class: 'ok', role: 'status' }, t('blanks.balanced')),
    h('section', { class: 'card' }, h('dl', { class: 'facts', id: 'reconciliation-facts' },
      facts.flatMap(([key, value]) => [h('dt', {}, t(key)), h('dd', {}, String(value))]))),
    h('section', { class: 'card' }, h('h2', {}, t('blanks.stationsTitle')),
      r.stations.length === 0 ? h('p', {}, t('blanks.noStationMovements')) : h('table', { id: 'reconciliation-stations' },
        headRow(['central.station', 'blanks.handedOverTotal', 'blanks.received', 'blanks.printed', 'blanks.spoiled',
          'blanks.returned', 'blanks.inTransit', 'blanks.onHand']),
        h('tbody', {}, r.stations.map((s) => h('tr', {}, h('th', { scope: 'row' }, s.station), numberCell(s.handed_over),
          numberCell(s.received), numberCell(s.printed), numberCell(spoiled(s.spoiled)), numberCell(s.returned_to_regency),
          numberCell(s.in_transit, s.in_transit > 0), numberCell(s.on_hand)))))));
}
