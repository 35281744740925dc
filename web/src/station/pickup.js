// Card pickup at the counter: find the card, compare the collector's live
// fingerprints 1:1 with its chip, a supervisor's override after repeated
// failures (the supervisor signs in at this screen; the operator's session
// stays), then the hand-over that activates the card.
import { api } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { formatTime, t } from '../common/i18n.js';
import { go } from '../common/router.js';
import { failureText } from '../common/shell.js';
import { fingerCapture, readAsBase64, select } from './capture.js';
import { supervisorSignIn } from './supervisor.js';

const RELATIONS = ['spouse', 'parent', 'child', 'sibling', 'guardian'];

function labelled(id, labelKey, el) {
  el.id = id;
  el.name = id;
  return h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), el);
}

function text(attrs = {}) { return h('input', { autocomplete: 'off', ...attrs }); }

function searchForm(query) {
  const input = text({ value: query, required: true, maxlength: 32, autofocus: true });
  return h('form', { class: 'card', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    const wanted = input.value.replace(/\s/g, '');
    if (wanted) go(`#/ambil/${encodeURIComponent(wanted)}`);
  } }, h('h1', {}, t('pickup.title')), labelled('pickup-query', 'pickup.query', input),
  h('p', { class: 'hint' }, t('pickup.queryHint')),
  h('button', { type: 'submit', class: 'primary' }, t('pickup.find')));
}

function checkSection(session, card, onChecked) {
  const fingers = fingerCapture(session, { impression: 1 });
  const message = h('p', { class: 'error', role: 'alert', id: 'check-message' });
  const check = h('button', { type: 'button', class: 'primary', id: 'check', onclick: async () => {
    message.textContent = '';
    if (fingers.templates.size === 0) {
      message.textContent = t('pickup.needFingers');
      return;
    }
    check.disabled = true;
    try {
      const body = { fingers: await Promise.all([...fingers.templates].map(async ([position, blob]) =>
        ({ position, template: await readAsBase64(blob) }))) };
      const result = await api(`/api/v1/pickup/cards/${card.serial}/check`, { method: 'POST', body });
      onChecked(result);
    } catch (error) {
      message.textContent = failureText(error);
      check.disabled = false;
    }
  } }, t('pickup.check'));
  return h('section', { class: 'card' }, h('h2', {}, t('pickup.checkTitle')), h('p', {}, t('pickup.checkHelp')),
    fingers.element, h('div', { class: 'actions' }, message, check));
}

// The supervisor signs in here (supervisor.js); their session is used for
// the override alone and ended at once.
function overrideSection(card, onDone) {
  const approver = supervisorSignIn('supervisor', 'override-message');
  const reason = text({ required: true, maxlength: 500 });
  const message = h('p', { class: 'error', role: 'alert', id: 'override-message' });
  return h('form', { class: 'card', id: 'override-form', onsubmit: async (event) => {
    event.preventDefault();
    message.textContent = '';
    if (!approver.complete()) {
      message.textContent = t('pickup.needSupervisor');
      return;
    }
    try {
      const token = await approver.signIn();
      try {
        await api(`/api/v1/pickup/cards/${card.serial}/override`, { method: 'POST', asToken: token,
          body: { reason: reason.value.trim() } });
      } finally {
        await api('/api/v1/logout', { method: 'POST', asToken: token }).catch(() => {});
      }
      onDone();
    } catch (error) {
      message.textContent = failureText(error);
    }
  } },
  h('h2', {}, t('pickup.overrideTitle')), h('p', {}, t('pickup.overrideHelp')),
  labelled('supervisor-username', 'pickup.supervisor', approver.username),
  labelled('supervisor-password', 'login.password', approver.password),
  approver.fingerprint,
  labelled('override-reason', 'pickup.overrideReason', reason),
  message, h('button', { type: 'submit' }, t('pickup.override')));
}

function handOverSection(card, onHandedOver) {
  const byDelegate = h('input', { type: 'checkbox', id: 'by-delegate' });
  const delegateName = text({ maxlength: 100 });
  const delegateNik = text({ inputmode: 'numeric', maxlength: 16 });
  const relation = select(RELATIONS, (r) => t(`pickup.relation.${r}`));
  const delegate = h('fieldset', { hidden: true }, h('legend', {}, t('pickup.delegate')),
    labelled('delegate-name', 'pickup.delegateName', delegateName),
    labelled('delegate-nik', 'pickup.delegateNik', delegateNik),
    labelled('delegate-relation', 'pickup.relation', relation));
  byDelegate.addEventListener('change', () => { delegate.hidden = !byDelegate.checked; });
  const oldNik = text({ inputmode: 'numeric', maxlength: 16 });
  const oldSerial = text({ maxlength: 32 });
  const message = h('p', { class: 'error', role: 'alert', id: 'hand-over-message' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('pickup.handOver'));
  return h('form', { class: 'card', id: 'hand-over-form', onsubmit: async (event) => {
    event.preventDefault();
    message.textContent = '';
    const body = {};
    if (byDelegate.checked) {
      body.delegate = { name: delegateName.value.trim().toUpperCase(), nik: delegateNik.value.trim(), relation: relation.value };
    }
    if (oldNik.value.trim() || oldSerial.value.trim()) {
      body.surrendered_ktp = { nik: oldNik.value.trim(), serial: oldSerial.value.trim() };
    }
    submit.disabled = true;
    try {
      onHandedOver(await api(`/api/v1/pickup/cards/${card.serial}/hand-over`, { method: 'POST', body }));
    } catch (error) {
      message.textContent = failureText(error);
      submit.disabled = false;
    }
  } },
  h('h2', {}, t('pickup.handOverTitle')),
  h('div', { class: 'field' }, h('label', { for: 'by-delegate' }, byDelegate, ' ', t('pickup.byDelegate'))), delegate,
  h('fieldset', {}, h('legend', {}, t('pickup.surrendered')),
    labelled('old-nik', 'pickup.oldNik', oldNik), labelled('old-serial', 'pickup.oldSerial', oldSerial)),
  message, submit);
}

function handOverReceipt(card, receipt) {
  return h('article', { class: 'card receipt', id: 'hand-over-receipt' },
    h('h1', {}, t('pickup.doneTitle')),
    h('dl', { class: 'facts' },
      h('dt', {}, t('pickup.holder')), h('dd', {}, receipt.holder_name),
      h('dt', {}, t('pickup.registration')), h('dd', {}, card.registration_number),
      h('dt', {}, t('pickup.serial')), h('dd', {}, card.serial),
      h('dt', {}, t('pickup.activatedAt')), h('dd', {}, formatTime(receipt.hand_over?.at))),
    h('p', { class: 'notice' }, receipt.free_service_notice),
    h('p', {}, receipt.complaint_channel),
    h('div', { class: 'actions no-print' },
      h('button', { type: 'button', onclick: () => window.print() }, t('receipt.print')),
      h('button', { type: 'button', class: 'primary', onclick: () => go('#/ambil') }, t('pickup.nextCollector'))));
}

export async function renderPickup(main, session, query, notice = '') {
  if (!query) {
    replace(main, searchForm(''));
    return;
  }
  let card;
  try {
    card = await api(`/api/v1/pickup/cards/${encodeURIComponent(query)}`);
  } catch (error) {
    replace(main, searchForm(query), h('p', { class: 'error', role: 'alert', id: 'pickup-error' }, failureText(error)));
    return;
  }
  const again = (text) => renderPickup(main, session, query, text);
  const verified = card.check_passed || Boolean(card.override_by);
  let next;
  if (card.state === 'activated') {
    next = h('p', { class: 'ok', role: 'status' }, t('pickup.alreadyActivated', { at: formatTime(card.handed_over_at) }));
  } else if (card.state !== 'waiting') {
    next = h('p', { class: 'warn', role: 'status' }, t('pickup.returned'));
  } else if (verified) {
    next = handOverSection(card, (receipt) => replace(main, handOverReceipt(card, receipt)));
  } else {
    next = checkSection(session, card, (result) => again(result.passed
      ? t('pickup.passed', { score: result.score.toFixed(1), threshold: result.threshold.toFixed(1) })
      : t('pickup.failed', { attempt: result.attempt, score: result.score.toFixed(1), threshold: result.threshold.toFixed(1) })));
  }
  replace(main,
    searchForm(query),
    notice ? h('p', { class: verified ? 'ok' : 'warn', role: 'status', id: 'pickup-notice' }, notice) : null,
    h('section', { class: 'card', id: 'pickup-card' },
      h('h2', {}, t('pickup.cardTitle')),
      h('dl', { class: 'facts' },
        h('dt', {}, t('pickup.registration')), h('dd', {}, card.registration_number),
        h('dt', {}, t('pickup.serial')), h('dd', {}, card.serial),
        h('dt', {}, t('pickup.nik')), h('dd', { id: 'pickup-nik' }, card.nik || '—'),
        h('dt', {}, t('pickup.receivedAt')), h('dd', {}, formatTime(card.received_at)),
        h('dt', {}, t('pickup.checks')), h('dd', {}, t('pickup.checksValue', { checks: card.checks, failed: card.failed_checks })),
        card.override_by ? [h('dt', {}, t('pickup.overrideBy')), h('dd', {}, card.override_by)] : null)),
    next,
    card.override_allowed ? overrideSection(card, () => again(t('pickup.overridden'))) : null);
}
