// A supervisor's review before upload (at a station whose policy requires
// it): each enrollment waiting, with what the operator captured, approved
// or rejected with a reason in the supervisor's own session. A supervisor
// may not approve what they recorded themselves; the station says so.
import { api } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { formatTime, t } from '../common/i18n.js';
import { failureText } from '../common/shell.js';

function image(base64, type, alt) {
  return base64 ? h('img', { class: 'face', src: `data:${type};base64,${base64}`, alt }) : null;
}

function enrollmentCard(enrollment, done) {
  const r = enrollment.resident ?? {};
  const address = r.address ?? {};
  const message = h('p', { class: 'error', role: 'alert' });
  const reason = h('input', { maxlength: 500, autocomplete: 'off', id: `reason-${enrollment.registration_number}` });
  const decide = (verb, body, noticeKey) => async () => {
    message.textContent = '';
    try {
      await api(`/api/v1/review/enrollments/${encodeURIComponent(enrollment.registration_number)}/${verb}`,
        { method: 'POST', body });
      done(t(noticeKey, { registration: enrollment.registration_number }));
    } catch (error) {
      message.textContent = failureText(error);
    }
  };
  const exceptions = Object.entries(enrollment.finger_exceptions ?? {});
  return h('article', { class: 'card', 'data-registration': enrollment.registration_number },
    h('h2', {}, `${enrollment.registration_number} · ${r.name ?? ''}`),
    h('div', { class: 'columns' },
      h('div', {}, image(enrollment.face_jpeg, 'image/jpeg', t('central.photoOf', { name: r.name ?? '' })),
        image(enrollment.signature_image, 'image/png', t('enroll.signature')),
        image(enrollment.exception_photo, 'image/jpeg', t('enroll.exceptionPhoto'))),
      h('dl', { class: 'facts' },
        h('dt', {}, t('receipt.kind')), h('dd', {}, t(`kind.${enrollment.application_kind}`)),
        h('dt', {}, t('receipt.operator')), h('dd', {}, enrollment.operator),
        h('dt', {}, t('receipt.capturedAt')), h('dd', {}, formatTime(enrollment.captured_at)),
        h('dt', {}, t('enroll.birthDate')), h('dd', {}, `${r.place_of_birth ?? ''}, ${r.birth_date ?? ''}`),
        h('dt', {}, t('enroll.address')), h('dd', {}, `${address.street ?? ''} RT ${address.rt ?? ''}/RW ${address.rw ?? ''}`),
        h('dt', {}, t('enroll.exception')), h('dd', {}, exceptions.length === 0 ? t('exception.none')
          : exceptions.map(([position, code]) => `${t(`finger.${position}`)}: ${t(`exception.${code}`)}`).join('; ')),
        enrollment.exception_approver ? [h('dt', {}, t('review.exceptionApprover')),
          h('dd', {}, enrollment.exception_approver)] : null,
        enrollment.location ? [h('dt', {}, t('review.location')),
          h('dd', {}, `${enrollment.location.lat}, ${enrollment.location.lon} (±${enrollment.location.accuracy_m} m)`)] : null)),
    h('div', { class: 'actions' }, message,
      h('label', { for: reason.id }, t('review.reason')), reason,
      h('button', { type: 'button', onclick: () => decide('reject', { reason: reason.value.trim() }, 'review.rejected')() },
        t('review.reject')),
      h('button', { type: 'button', class: 'primary', onclick: decide('approve', undefined, 'review.approved') },
        t('review.approve'))));
}

export async function renderReview(main, notice = '') {
  let enrollments;
  try {
    ({ enrollments } = await api('/api/v1/review/enrollments'));
  } catch (error) {
    replace(main, h('h1', {}, t('review.title')), h('p', { class: 'error', role: 'alert' }, failureText(error)));
    return;
  }
  const again = (text) => renderReview(main, text);
  replace(main, h('h1', {}, t('review.title')),
    notice ? h('p', { class: 'ok', role: 'status', id: 'review-notice' }, notice) : null,
    h('p', { class: 'hint' }, t('review.help')),
    enrollments.length === 0 ? h('p', { class: 'card' }, t('review.none'))
      : enrollments.map((enrollment) => enrollmentCard(enrollment, again)));
}
