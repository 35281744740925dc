// Stations: every registered station with its state and last contact; an
// admin approves a new station, revokes a lost or stolen one (its later
// packets are refused), and creates the one-time token a new station
// registers with. Decisions are audited under the admin's account.
import { api } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { formatTime, t } from '../common/i18n.js';
import { failureText } from '../common/shell.js';
import { regionPicker } from './region_picker.js';

const KINDS = ['kecamatan_office', 'disdukcapil_office', 'mobile_van'];
const CAPABILITIES = ['enroll', 'print', 'pickup', 'suket'];

function tokenForm(fingerprint) {
  const kecamatan = regionPicker('token', ['province', 'regency', 'kecamatan']);
  const kind = h('select', { id: 'token-kind' }, KINDS.map((k) => h('option', { value: k }, t(`central.kind.${k}`))));
  const capabilities = CAPABILITIES.map((name) => h('input', { type: 'checkbox', id: `token-cap-${name}`, value: name,
    checked: name !== 'print' }));
  const hours = h('input', { type: 'number', id: 'token-hours', min: 1, max: 720, value: 72 });
  const message = h('p', { class: 'error', role: 'alert', id: 'token-message' });
  const result = h('div', { id: 'token-result' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('central.createToken'));
  return h('form', { class: 'card', id: 'token-form', onsubmit: async (event) => {
    event.preventDefault();
    message.textContent = '';
    replace(result);
    submit.disabled = true;
    try {
      const answer = await api('/api/v1/console/tokens', { method: 'POST', body: {
        kecamatan_code: kecamatan.value(), kind: kind.value, valid_hours: Number(hours.value),
        capabilities: capabilities.filter((box) => box.checked).map((box) => box.value) } });
      const command = ['ektp station init --dir /var/lib/ektp/station', `--central ${location.origin}`,
        `--token ${answer.token}`, fingerprint ? `--fingerprint ${fingerprint}` : null, '--admin-user admin']
        .filter(Boolean).join(' \\\n    ');
      replace(result, h('p', { class: 'ok', role: 'status' }, t('central.tokenCreated', { at: formatTime(answer.expires_at) })),
        h('code', { class: 'token', id: 'token-value' }, answer.token),
        h('p', { class: 'hint' }, t('central.tokenCommand')), h('pre', { class: 'command', id: 'token-command' }, command));
    } catch (error) {
      message.textContent = failureText(error);
    } finally {
      submit.disabled = false;
    }
  } },
  h('h2', {}, t('central.tokenTitle')), h('p', { class: 'hint' }, t('central.tokenHelp')),
  kecamatan.fields,
  h('div', { class: 'field' }, h('label', { for: 'token-kind' }, t('central.stationKind')), kind),
  h('fieldset', {}, h('legend', {}, t('central.capabilities')), capabilities.map((box) =>
    h('label', { for: box.id }, box, t(`central.capability.${box.value}`)))),
  h('div', { class: 'field' }, h('label', { for: 'token-hours' }, t('central.validHours')), hours),
  message, submit, result);
}

// Approve a pending station; revoke (with a reason) one that is not revoked yet.
function actions(station, isAdmin, done) {
  if (!isAdmin || station.status === 'revoked') return null;
  const message = h('span', { class: 'error', role: 'alert' });
  const act = (verb, body, noticeKey) => async () => {
    try {
      await api(`/api/v1/console/stations/${station.id}/${verb}`, { method: 'POST', body });
      done(t(noticeKey, { id: station.id }));
    } catch (error) {
      message.textContent = failureText(error);
    }
  };
  const reason = h('input', { class: 'inline', maxlength: 200, 'aria-label': t('central.revokeReason', { id: station.id }),
    placeholder: t('central.reasonPlaceholder') });
  return h('span', { class: 'station-actions' },
    station.status === 'pending'
      ? h('button', { type: 'button', class: 'primary', onclick: act('approve', undefined, 'central.approved') },
        t('central.approve')) : null, ' ',
    reason, ' ',
    h('button', { type: 'button', onclick: () => act('revoke', { reason: reason.value.trim() }, 'central.revoked')() },
      t('central.revoke')), ' ', message);
}

export async function renderStations(main, session, notice = '') {
  const { stations, certificate_sha256: fingerprint } = await api('/api/v1/console/stations');
  const isAdmin = session.role === 'admin';
  const again = (text) => renderStations(main, session, text).catch((error) =>
    replace(main, h('p', { class: 'error', role: 'alert' }, failureText(error))));
  const pending = stations.filter((s) => s.status === 'pending');
  replace(main, h('h1', {}, t('central.stationsTitle')),
    notice ? h('p', { class: 'ok', role: 'status', id: 'stations-notice' }, notice) : null,
    pending.length > 0 ? h('p', { class: 'warn' }, t('central.pendingAdvice', { count: pending.length })) : null,
    h('section', { class: 'card' }, stations.length === 0 ? h('p', {}, t('central.noStations')) :
      h('table', { id: 'station-table' },
        h('thead', {}, h('tr', {}, ['central.station', 'region.kecamatan', 'central.stationKind', 'central.capabilities',
          'central.stationStatus', 'central.lastContact', 'central.action'].map((key) => h('th', { scope: 'col' }, t(key))))),
        h('tbody', {}, stations.map((station) => h('tr', { 'data-station': station.id },
          h('th', { scope: 'row' }, station.id),
          h('td', {}, `${station.kecamatan_name}, ${station.regency_name}`),
          h('td', {}, t(`central.kind.${station.kind}`)),
          h('td', {}, station.capabilities.map((c) => t(`central.capability.${c}`)).join(', ')),
          h('td', {}, t(`central.status.${station.status}`)),
          h('td', {}, formatTime(station.last_contact)),
          h('td', {}, actions(station, isAdmin, again))))))),
    isAdmin ? tokenForm(fingerprint) : null);
}
