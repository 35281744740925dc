// Central's public page, for residents and anyone checking a Suket, on a
// phone as on a desktop: the status of an application (NIK + receipt
// number) and a Suket's verification (the text of its QR code).
import '../common/style.css';
import { api, ApiError } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { language, onLanguageChange, setLanguage, t } from '../common/i18n.js';

const app = document.getElementById('app');

function failureText(error) { return error instanceof ApiError ? error.operatorText : String(error); }

function statusLookup() {
  const nik = h('input', { id: 'nik', inputmode: 'numeric', maxlength: 16, autocomplete: 'off', required: true });
  const receipt = h('input', { id: 'receipt', autocomplete: 'off', required: true });
  const result = h('div', { id: 'status-result', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'card', onsubmit: async (event) => {
    event.preventDefault();
    replace(result, t('public.checking'));
    try {
      const params = new URLSearchParams({ nik: nik.value.replace(/\D/g, ''), receipt: receipt.value.trim() });
      const status = await api(`/api/v1/status?${params}`);
      if (!status.found) {
        replace(result, h('p', { class: 'warn' }, t('public.notFound')));
        return;
      }
      replace(result, h('dl', { class: 'facts' },
        h('dt', {}, t('public.stage')), h('dd', { id: 'status-stage' }, t(`stage.${status.stage}`)),
        h('dt', {}, t('public.location')), h('dd', {}, status.location_label),
        status.queue_position ? [h('dt', {}, t('public.queue')),
          h('dd', {}, t('public.queuePosition', { position: status.queue_position, length: status.queue_length }))] : null,
        h('dt', {}, t('public.estimate')), h('dd', {}, status.estimated_collection_date ?? status.estimate_label)));
    } catch (error) {
      replace(result, h('p', { class: 'error' }, failureText(error)));
    }
  } },
  h('h2', {}, t('public.statusTitle')),
  h('p', { class: 'hint' }, t('public.statusHelp')),
  h('label', { for: 'nik' }, t('public.nik')), nik,
  h('label', { for: 'receipt' }, t('public.receipt')), receipt,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('public.check'))),
  result);
  return form;
}

function suketVerification() {
  const token = h('textarea', { id: 'suket-token', rows: 4, autocomplete: 'off', spellcheck: 'false', required: true });
  const result = h('div', { id: 'suket-result', role: 'status', 'aria-live': 'polite' });
  const fromLink = new URLSearchParams(location.search).get('suket');
  if (fromLink) token.value = fromLink;
  const form = h('form', { class: 'card', onsubmit: async (event) => {
    event.preventDefault();
    replace(result, t('public.checking'));
    try {
      const verdict = await api('/api/v1/suket/verify', { method: 'POST', body: { token: token.value.trim() } });
      const valid = verdict.outcome === 'valid';
      replace(result,
        h('p', { class: valid ? 'ok' : 'error', id: 'suket-verdict' },
          h('strong', {}, language() === 'en' ? verdict.message : verdict.pesan)),
        verdict.suket ? h('dl', { class: 'facts' },
          h('dt', {}, t('public.suketSerial')), h('dd', {}, verdict.suket.serial),
          h('dt', {}, t('public.suketName')), h('dd', {}, verdict.suket.name),
          h('dt', {}, t('public.suketValidUntil')), h('dd', {}, verdict.suket.valid_until)) : null);
    } catch (error) {
      replace(result, h('p', { class: 'error' }, failureText(error)));
    }
  } },
  h('h2', {}, t('public.suketTitle')),
  h('p', { class: 'hint' }, t('public.suketHelp')),
  h('label', { for: 'suket-token' }, t('public.suketToken')), token,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('public.verify'))),
  result);
  return form;
}

function render() {
  const other = language() === 'id' ? 'en' : 'id';
  document.title = `${t('public.title')} · ektp`;
  replace(app,
    h('header', { class: 'top' }, h('div', { class: 'brand' }, h('strong', {}, 'ektp'), ' ', t('public.title')),
      h('div', { class: 'who' }, h('button', { type: 'button', class: 'link', lang: other,
        onclick: () => setLanguage(other) }, t('common.otherLanguage')))),
    h('main', { class: 'public' }, statusLookup(), suketVerification(),
      h('p', { class: 'notice' }, t('receipt.free'))));
}

onLanguageChange(render);
render();
