// The Suket (surat keterangan): issued at the counter to a resident whose
// card is not in hand yet, offline or not, and checked offline with what
// central last sent. The signed PDF is the one the station made; the
// console only offers it to print or save.
import { api } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { language, t } from '../common/i18n.js';
import { failureText } from '../common/shell.js';
import { base64ToBlob, photoCapture, readAsBase64 } from './capture.js';

function issueForm(registration, onIssued) {
  let face = null;
  const number = h('input', { id: 'suket-registration', name: 'suket-registration', required: true, maxlength: 40,
    autocomplete: 'off', value: registration });
  const message = h('p', { class: 'error', role: 'alert', id: 'suket-message' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('suket.issue'));
  return h('form', { class: 'card', id: 'suket-form', onsubmit: async (event) => {
    event.preventDefault();
    message.textContent = '';
    if (!face) {
      message.textContent = t('suket.needFace');
      return;
    }
    submit.disabled = true;
    try {
      const reg = number.value.trim();
      const issued = await api(`/api/v1/enrollments/${encodeURIComponent(reg)}/suket`, { method: 'POST',
        body: { face_jpeg: await readAsBase64(face) }, timeoutMs: 60000 });
      onIssued(reg, issued);
    } catch (error) {
      message.textContent = failureText(error);
      submit.disabled = false;
    }
  } },
  h('h2', {}, t('suket.issueTitle')), h('p', {}, t('suket.issueHelp')),
  h('div', { class: 'field' }, h('label', { for: 'suket-registration' }, t('suket.registration')), number),
  photoCapture('suket-face', 'suket.face', 'image/jpeg', (blob) => { face = blob; }),
  message, submit);
}

function issued(reg, suket) {
  const pdf = URL.createObjectURL(base64ToBlob(suket.pdf, 'application/pdf'));
  return h('section', { class: 'card', id: 'suket-issued' },
    h('h2', {}, t('suket.issuedTitle')),
    h('dl', { class: 'facts' },
      h('dt', {}, t('suket.serial')), h('dd', { id: 'suket-serial' }, suket.serial),
      h('dt', {}, t('suket.registration')), h('dd', {}, reg),
      h('dt', {}, t('suket.validUntil')), h('dd', {}, suket.valid_until),
      suket.replaces ? [h('dt', {}, t('suket.replaces')), h('dd', {}, suket.replaces)] : null),
    h('p', {}, t('suket.printAdvice')),
    h('div', { class: 'actions' },
      h('a', { class: 'button primary', href: pdf, target: '_blank', rel: 'noopener', id: 'suket-open' }, t('suket.open')),
      h('a', { class: 'button', href: pdf, download: `suket-${suket.serial}.pdf` }, t('suket.save'))),
    h('details', {}, h('summary', {}, t('suket.token')), h('code', { class: 'token', id: 'suket-token' }, suket.token)));
}

function verifyForm() {
  const token = h('textarea', { id: 'verify-token', name: 'verify-token', rows: 3, required: true, spellcheck: 'false' });
  const result = h('div', { id: 'verify-result', role: 'status' });
  return h('form', { class: 'card', id: 'verify-form', onsubmit: async (event) => {
    event.preventDefault();
    try {
      const answer = await api('/api/v1/sukets/verify', { method: 'POST', body: { token: token.value.trim() } });
      const good = answer.outcome === 'valid';
      replace(result, h('p', { class: good ? 'ok' : 'error' },
        h('strong', { id: 'verify-verdict' }, language() === 'en' ? answer.message : answer.pesan)));
    } catch (error) {
      replace(result, h('p', { class: 'error' }, failureText(error)));
    }
  } },
  h('h2', {}, t('suket.verifyTitle')), h('p', {}, t('suket.verifyHelp')),
  h('label', { for: 'verify-token' }, t('suket.token')), token,
  h('button', { type: 'submit' }, t('suket.verify')), result);
}

export function renderSuket(main, registration) {
  const place = h('div', {});
  replace(main, h('h1', {}, t('suket.title')),
    h('div', { class: 'columns' },
      h('div', {}, issueForm(registration, (reg, suket) => replace(place, issued(reg, suket))), place),
      verifyForm()));
}
