// The print officer's screen: blank cards on hand, the print queue, printing
// the next card (central need not answer), misprints and spoiled blanks, and
// dispatch manifests for the collecting stations.
import { api } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { formatTime, t } from '../common/i18n.js';
import { failureText } from '../common/shell.js';
import { select } from './capture.js';

const SPOIL_REASONS = ['damaged_in_transit', 'printer_jam', 'misprint'];

function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([label, value, id]) => [h('dt', {}, label), h('dd', { id }, value)]));
}

function input(id, attrs = {}) {
  return h('input', { id, name: id, autocomplete: 'off', ...attrs });
}

// A small form: `fields` are [labelKey, element] pairs. `action()` resolves
// with what happened, for `done(text)`; a refusal stays next to the form.
function actionForm(id, titleKey, fields, submitKey, action, done) {
  const message = h('p', { class: 'error', role: 'alert', id: `${id}-message` });
  const submit = h('button', { type: 'submit' }, t(submitKey));
  return h('form', { class: 'card', id, onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    message.textContent = '';
    try {
      done(await action());
    } catch (error) {
      message.textContent = failureText(error);
      submit.disabled = false;
    }
  } },
  h('h2', {}, t(titleKey)),
  fields.map(([labelKey, el]) => h('div', { class: 'field' }, h('label', { for: el.id }, t(labelKey)), el)),
  submit, message);
}

// `notice`: what the last action did, shown above the screen.
export async function renderPrint(main, notice = '') {
  let blanks;
  let jobs;
  try {
    [blanks, { jobs }] = await Promise.all([api('/api/v1/print/blanks'), api('/api/v1/print/jobs')]);
  } catch (error) {
    replace(main, h('h1', {}, t('print.title')), h('p', { class: 'error', role: 'alert' }, failureText(error)));
    return;
  }
  const refresh = (text) => renderPrint(main, text);
  const waiting = jobs.filter((job) => job.state === 'pending' || job.state === 'printing');
  const printMessage = h('p', { class: 'error', role: 'alert', id: 'print-message' });
  const printNext = h('button', { type: 'button', class: 'primary', id: 'print-next',
    disabled: waiting.length === 0 || blanks.on_hand === 0, onclick: async () => {
      printNext.disabled = true;
      try {
        const card = await api('/api/v1/print/next', { method: 'POST', timeoutMs: 60000 });
        refresh(t('print.printed', { registration: card.registration_number, serial: card.serial }));
      } catch (error) {
        printMessage.textContent = failureText(error);
        printNext.disabled = false;
      }
    } }, t('print.next'));

  const first = input('first-serial', { inputmode: 'numeric', maxlength: 10, required: true });
  const last = input('last-serial', { inputmode: 'numeric', maxlength: 10, required: true });
  const receive = actionForm('receive-form', 'print.receiveTitle',
    [['print.firstSerial', first], ['print.lastSerial', last]], 'print.receive', async () => {
      const { received } = await api('/api/v1/print/blanks/receive', { method: 'POST',
        body: { first_serial: first.value.trim(), last_serial: last.value.trim() } });
      return t('print.received', { count: received });
    }, refresh);

  const misprintSerial = input('misprint-serial', { inputmode: 'numeric', maxlength: 10, required: true });
  const misprintNote = input('misprint-note', { maxlength: 500 });
  const misprint = actionForm('misprint-form', 'print.misprintTitle',
    [['print.serial', misprintSerial], ['print.note', misprintNote]], 'print.recordMisprint', async () => {
      const { misprinted } = await api(`/api/v1/print/cards/${encodeURIComponent(misprintSerial.value.trim())}/misprint`,
        { method: 'POST', body: { note: misprintNote.value.trim() } });
      return t('print.misprinted', { serial: misprinted });
    }, refresh);

  const spoilSerial = input('spoil-serial', { inputmode: 'numeric', maxlength: 10, required: true });
  const spoilReason = select(SPOIL_REASONS, (reason) => t(`print.reason.${reason}`));
  spoilReason.id = 'spoil-reason';
  const spoilNote = input('spoil-note', { maxlength: 500 });
  const spoil = actionForm('spoil-form', 'print.spoilTitle',
    [['print.serial', spoilSerial], ['print.reason', spoilReason], ['print.note', spoilNote]], 'print.spoil', async () => {
      const { spoiled } = await api(`/api/v1/print/blanks/${encodeURIComponent(spoilSerial.value.trim())}/spoil`,
        { method: 'POST', body: { reason: spoilReason.value, note: spoilNote.value.trim() } });
      return t('print.spoiled', { serial: spoiled });
    }, refresh);

  const manifests = h('div', { id: 'manifests' });
  const dispatch = h('button', { type: 'button', id: 'dispatch', onclick: async () => {
    dispatch.disabled = true;
    try {
      const answer = await api('/api/v1/print/dispatch', { method: 'POST' });
      replace(manifests, answer.manifests.length === 0 ? h('p', {}, t('print.nothingToDispatch')) :
        answer.manifests.map((manifest) => h('article', { class: 'manifest' },
          h('h3', {}, t('print.manifest', { id: manifest.manifest_id, station: manifest.to_station })),
          h('ol', {}, manifest.cards.map((card) => h('li', {}, `${card.registration_number} · ${t('print.blank')} ${card.serial}`))))),
      answer.manifests.length > 0 ? h('button', { type: 'button', class: 'no-print', onclick: () => window.print() },
        t('print.printManifests')) : null);
    } catch (error) {
      replace(manifests, h('p', { class: 'error', role: 'alert' }, failureText(error)));
    } finally {
      dispatch.disabled = false;
    }
  } }, t('print.dispatch'));

  const jobRow = (job) => h('tr', {},
    h('td', {}, job.registration_number), h('td', {}, job.urgent ? t('print.urgent') : ''),
    h('td', {}, formatTime(job.reserved_at)), h('td', {}, t(`print.state.${job.state}`)),
    h('td', {}, job.serial || '—'), h('td', {}, job.withdrawn_reason || job.refused_reason || ''));

  replace(main,
    h('h1', {}, t('print.title')),
    notice ? h('p', { class: 'ok', role: 'status', id: 'print-notice' }, notice) : null,
    h('div', { class: 'columns' },
      h('section', { class: 'card' },
        h('h2', {}, t('print.blanksTitle')),
        facts([[t('print.onHand'), String(blanks.on_hand), 'blanks-on-hand'],
          [t('print.expected'), String(blanks.expected), 'blanks-expected'],
          [t('print.used'), String(blanks.used), 'blanks-used'],
          [t('print.spoiledCount'), String(blanks.spoiled), 'blanks-spoiled']]),
        blanks.expected > 0 ? h('p', { class: 'warn' }, t('print.expectedAdvice', { count: blanks.expected })) : null,
        blanks.on_hand === 0 ? h('p', { class: 'warn' }, t('print.noBlanks')) : null),
      h('section', { class: 'card' },
        h('h2', {}, t('print.queueTitle')),
        h('p', {}, t('print.waiting', { count: waiting.length })),
        h('div', { class: 'actions' }, printNext), printMessage,
        jobs.length === 0 ? h('p', {}, t('print.noJobs')) : h('table', { id: 'print-jobs' },
          h('thead', {}, h('tr', {}, ['print.registration', 'print.urgentCol', 'print.reservedAt', 'print.stateCol',
            'print.blank', 'print.reasonCol'].map((key) => h('th', { scope: 'col' }, t(key))))),
          h('tbody', {}, jobs.map(jobRow))))),
    h('section', { class: 'card' },
      h('h2', {}, t('print.dispatchTitle')),
      h('p', {}, t('print.dispatchHelp')), dispatch, manifests),
    h('div', { class: 'columns three' }, receive, misprint, spoil));
}
