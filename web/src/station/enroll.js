// The enrollment form and its receipt.
//
// Live validation asks the station (POST /api/v1/enrollments/check), so the
// form's rules are the server's rules. A submit carries an Idempotency-Key
// made once per application: if no answer arrives, the form stays locked and
// "send again" resends the very same request with the same key, so a
// resident is never enrolled twice.
import { api, ApiError } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { formatTime, t } from '../common/i18n.js';
import { go } from '../common/router.js';
import { showFailure } from '../common/shell.js';
import { fingerCapture, photoCapture, select } from './capture.js';
import { supervisorSignIn } from './supervisor.js';

const KINDS = ['first_card', 'lost', 'damaged', 'data_change', 'move_in'];
const RELIGIONS = ['ISLAM', 'KRISTEN', 'KATOLIK', 'HINDU', 'BUDDHA', 'KONGHUCU', 'KEPERCAYAAN'];
const MARITAL = ['BELUM KAWIN', 'KAWIN', 'CERAI HIDUP', 'CERAI MATI'];
const BLOOD = ['-', 'A', 'B', 'AB', 'O', 'A+', 'A-', 'B+', 'B-', 'AB+', 'AB-', 'O+', 'O-'];
const OCCUPATIONS = ['BELUM/TIDAK BEKERJA', 'PELAJAR/MAHASISWA', 'MENGURUS RUMAH TANGGA', 'PETANI/PEKEBUN',
  'WIRASWASTA', 'KARYAWAN SWASTA', 'PEGAWAI NEGERI SIPIL', 'GURU', 'PEDAGANG', 'NELAYAN/PERIKANAN'];
const REGION_LEVELS = ['province', 'regency', 'kecamatan', 'village'];

function field(id, labelKey, input, { hint } = {}) {
  input.id = id;
  input.name = id;
  const error = h('p', { class: 'error', id: `${id}-error`, role: 'alert' });
  const described = [`${id}-error`];
  let hintEl = null;
  if (hint !== undefined) {
    hintEl = h('p', { class: 'hint', id: `${id}-hint` }, hint);
    described.push(`${id}-hint`);
  }
  input.setAttribute('aria-describedby', described.join(' '));
  return h('div', { class: 'field', 'data-field': id }, h('label', { for: id }, t(labelKey)), input, hintEl, error);
}

// A signature from a file or drawn on a pad (mouse, pen or finger).
function signatureCapture(onchange) {
  const pad = h('canvas', { class: 'pad', width: 360, height: 120, 'aria-label': t('enroll.signaturePad'), role: 'img' });
  const ctx = pad.getContext('2d');
  const clear = () => { ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, pad.width, pad.height); onchange(null); };
  clear();
  let drawing = false;
  const at = (event) => {
    const box = pad.getBoundingClientRect();
    return [(event.clientX - box.left) * (pad.width / box.width), (event.clientY - box.top) * (pad.height / box.height)];
  };
  pad.addEventListener('pointerdown', (event) => { drawing = true; ctx.beginPath(); ctx.moveTo(...at(event)); });
  pad.addEventListener('pointermove', (event) => {
    if (!drawing) return;
    ctx.lineWidth = 2.5; ctx.lineCap = 'round'; ctx.strokeStyle = '#000';
    ctx.lineTo(...at(event)); ctx.stroke();
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    pad.toBlob((blob) => onchange(blob), 'image/png');
  };
  pad.addEventListener('pointerup', finish);
  pad.addEventListener('pointerleave', finish);
  const file = h('input', { type: 'file', accept: 'image/png,image/jpeg', id: 'signature',
    'aria-describedby': 'signature-error' });
  file.addEventListener('change', () => { if (file.files[0]) onchange(file.files[0]); });
  return h('div', { class: 'field', 'data-field': 'signature' }, h('label', { for: 'signature' }, t('enroll.signature')),
    file, h('p', { class: 'hint' }, t('enroll.signatureOrDraw')), pad,
    h('button', { type: 'button', onclick: clear }, t('enroll.clearPad')),
    h('p', { class: 'error', id: 'signature-error', role: 'alert' }));
}

// The four cascading region pickers; `initial` is a code at any level.
function regionPickers(initial, onvillage) {
  const pickers = REGION_LEVELS.map((level) => {
    const el = h('select', { required: true }, h('option', { value: '' }, t('enroll.choose')));
    return { level, el };
  });
  async function fill(index, parentCode, wanted) {
    for (const later of pickers.slice(index)) replace(later.el, h('option', { value: '' }, t('enroll.choose')));
    if (index >= pickers.length) return;
    const { children } = await api(parentCode ? `/api/v1/regions/${parentCode}` : '/api/v1/regions');
    const picker = pickers[index].el;
    for (const region of children) picker.append(h('option', { value: region.code }, `${region.name} (${region.code})`));
    const prefix = wanted.split('.').slice(0, index + 1).join('.');
    if (wanted && children.some((region) => region.code === prefix)) {
      picker.value = prefix;
      await fill(index + 1, prefix, wanted);
    }
  }
  pickers.forEach(({ el }, index) => el.addEventListener('change', async () => {
    if (index + 1 < pickers.length) await fill(index + 1, el.value, '');
    onvillage(pickers[3].el.value);
  }));
  const ready = fill(0, '', initial ?? '');
  const set = async (code) => { await fill(0, '', code); onvillage(pickers[3].el.value); };
  const fields = pickers.map(({ level, el }) => field(`region-${level}`, `region.${level}`, el));
  return { fields, ready, set, village: () => pickers[3].el.value };
}

export async function renderEnrollment(main, session) {
  const captured = { face: null, signature: null, exceptionPhoto: null };
  let idempotencyKey = crypto.randomUUID();
  let unanswered = null;  // the FormData of a submit that got no answer

  const kind = select(KINDS, (k) => t(`kind.${k}`));
  const previousNik = h('input', { inputmode: 'numeric', maxlength: 16, pattern: '[0-9]{16}', autocomplete: 'off' });
  const nikHint = h('span', {});
  const name = h('input', { required: true, maxlength: 60, autocomplete: 'off' });
  const placeOfBirth = h('input', { required: true, maxlength: 40, autocomplete: 'off' });
  const birthDate = h('input', { type: 'date', required: true, max: new Date().toISOString().slice(0, 10) });
  const sex = select(['male', 'female'], (s) => t(`sex.${s}`));
  const blood = select(BLOOD);
  const religion = select(RELIGIONS);
  const marital = select(MARITAL);
  const occupation = h('input', { list: 'occupations', required: true, maxlength: 40, autocomplete: 'off' });
  const citizenship = select(['WNI', 'WNA']);
  const street = h('input', { required: true, maxlength: 80, autocomplete: 'off' });
  const rt = h('input', { type: 'number', min: 1, max: 999, required: true });
  const rw = h('input', { type: 'number', min: 1, max: 999, required: true });
  const regions = regionPickers(session.kecamatan_code, () => scheduleCheck());

  const previousNikField = field('previous_nik', 'enroll.previousNik', previousNik, { hint: nikHint });
  const showPreviousNik = () => { previousNikField.hidden = kind.value === 'first_card'; };
  kind.addEventListener('change', () => { showPreviousNik(); scheduleCheck(); });

  previousNik.addEventListener('input', async () => {
    const digits = previousNik.value.replace(/\D/g, '');
    nikHint.textContent = '';
    if (digits.length !== 16) return;
    try {
      const decoded = await api('/api/v1/nik/decode', { method: 'POST', body: { nik: digits } });
      const [province, regency, kecamatan] = decoded.chain;
      nikHint.textContent = t('enroll.nikHint', { kecamatan: kecamatan.name, regency: regency.name,
        province: province.name, date: decoded.birth_date, sex: t(`sex.${decoded.sex}`) });
      if (!birthDate.value) birthDate.value = decoded.birth_date;
      sex.value = decoded.sex;
      if (!regions.village()) await regions.set(kecamatan.code);
    } catch (error) {
      nikHint.textContent = error instanceof ApiError ? error.operatorText : String(error);
    }
  });

  function application() {
    const app = {
      kind: kind.value,
      resident: {
        name: name.value.trim().toUpperCase(),
        place_of_birth: placeOfBirth.value.trim().toUpperCase(),
        birth_date: birthDate.value,
        sex: sex.value,
        blood_type: blood.value,
        religion: religion.value,
        marital_status: marital.value,
        occupation: occupation.value.trim().toUpperCase(),
        citizenship: citizenship.value,
        address: { street: street.value.trim().toUpperCase(), rt: Number(rt.value), rw: Number(rw.value),
          village_code: regions.village() },
      },
      finger_exceptions: fingers.exceptions(),
    };
    if (kind.value !== 'first_card') app.previous_nik = previousNik.value.replace(/\D/g, '');
    return app;
  }

  const fieldIds = { 'name': 'name', 'place_of_birth': 'place_of_birth', 'birth_date': 'birth_date', 'sex': 'sex',
    'occupation': 'occupation', 'previous_nik': 'previous_nik', 'address.street': 'street', 'address.rt': 'rt',
    'address.rw': 'rw', 'address.village_code': 'region-village', 'nik': 'previous_nik' };
  const touched = new Set();

  function clearErrors() {
    for (const el of main.querySelectorAll('.field .error')) el.textContent = '';
    for (const el of main.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  }

  // Shows a refusal next to its field when it names one the operator has
  // touched (or always, on submit); otherwise in the form's message.
  function showError(error, { onSubmit }) {
    const id = fieldIds[error.field];
    const target = id && main.querySelector(`#${id}-error`);
    if (target && (onSubmit || touched.has(id))) {
      target.textContent = error.operatorText;
      main.querySelector(`#${id}`)?.setAttribute('aria-invalid', 'true');
      if (onSubmit) main.querySelector(`#${id}`)?.focus();
      return true;
    }
    if (onSubmit) showFailure(formMessage, error);
    return false;
  }

  // The live check runs 300 ms after the last change. A submit cancels it,
  // and the answer of a check that was under way is dropped, so it cannot
  // clear the refusal the submit shows (the click that submits also blurs
  // the field last typed in, which schedules a check).
  let checkTimer = null;
  let checksCancelled = 0;
  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(async () => {
      const cancelled = checksCancelled;
      try {
        await api('/api/v1/enrollments/check', { method: 'POST', body: application() });
        if (cancelled !== checksCancelled) return;
        clearErrors();
      } catch (error) {
        if (cancelled !== checksCancelled || !(error instanceof ApiError) || !error.answered) return;
        clearErrors();
        showError(error, { onSubmit: false });
      }
    }, 300);
  }
  function cancelChecks() {
    clearTimeout(checkTimer);
    checksCancelled++;
  }

  const fingers = fingerCapture(session, { exceptions: true, onExceptions: (declared) => {
    exceptionPanel.hidden = Object.keys(declared).length === 0;
    scheduleCheck();
  } });

  // A finger declared missing or unusable needs a photo of the hand and a
  // supervisor's approval, given here (supervisor.js); at submit their
  // session approves this enrollment alone and is logged out whatever the
  // answer.
  const approver = supervisorSignIn('exception', 'exception-supervisor-error');
  const exceptionPanel = h('fieldset', { id: 'exception-approval', hidden: true },
    h('legend', {}, t('enroll.exceptionTitle')),
    h('p', { class: 'hint' }, t('enroll.exceptionHelp')),
    photoCapture('exception_photo', 'enroll.exceptionPhoto', 'image/jpeg,image/png',
      (blob) => { captured.exceptionPhoto = blob; }),
    h('div', { class: 'row' }, field('exception-supervisor', 'enroll.exceptionSupervisor', approver.username),
      field('exception-password', 'enroll.exceptionPassword', approver.password)),
    approver.fingerprint);

  // The approving supervisor's session, or null after a local refusal shown.
  async function supervisorSession() {
    if (!captured.exceptionPhoto) {
      showError(localError('exception_photo', 'enroll.needExceptionPhoto'), { onSubmit: true });
      return null;
    }
    if (!approver.complete()) {
      showError(localError('exception_approval', 'enroll.needSupervisor'), { onSubmit: true });
      return null;
    }
    try {
      return await approver.signIn();
    } catch (error) {
      showError(error instanceof ApiError ? new ApiError(error.status, { ...error.body, field: 'exception_approval' })
        : localError('exception_approval', 'error.unknown'), { onSubmit: true });
      return null;
    }
  }

  const formMessage = h('p', { class: 'error', role: 'alert', id: 'form-message' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'submit' }, t('enroll.submit'));
  const resend = h('button', { type: 'button', id: 'resend', hidden: true, onclick: () => send(unanswered) },
    t('enroll.resend'));

  async function send(form) {
    submit.disabled = true;
    resend.hidden = true;
    formMessage.textContent = t('enroll.sending');
    try {
      const receipt = await api('/api/v1/enrollments', { method: 'POST', form,
        headers: { 'Idempotency-Key': idempotencyKey }, timeoutMs: 30000 });
      idempotencyKey = crypto.randomUUID();
      unanswered = null;
      go(`#/tanda-terima/${encodeURIComponent(receipt.registration_number)}`);
    } catch (error) {
      if (error instanceof ApiError && error.answered) {
        // Refused: nothing was recorded, so the operator may fix the form.
        unanswered = null;
        fieldset.disabled = false;
        formMessage.textContent = '';
        showError(error, { onSubmit: true });
      } else {
        // No answer: it may have been recorded. Only the same request, with
        // the same key, may go again.
        unanswered = form;
        resend.hidden = false;
        formMessage.textContent = t('enroll.noAnswer');
      }
    } finally {
      submit.disabled = unanswered !== null;
    }
  }

  const fieldset = h('fieldset', { class: 'plain' },
    h('div', { class: 'columns' },
      h('section', { class: 'card' },
        h('h2', {}, t('enroll.applicant')),
        field('kind', 'enroll.kind', kind), previousNikField,
        field('name', 'enroll.name', name),
        h('div', { class: 'row' }, field('place_of_birth', 'enroll.placeOfBirth', placeOfBirth),
          field('birth_date', 'enroll.birthDate', birthDate)),
        h('div', { class: 'row' }, field('sex', 'enroll.sex', sex), field('blood_type', 'enroll.bloodType', blood)),
        h('div', { class: 'row' }, field('religion', 'enroll.religion', religion),
          field('marital_status', 'enroll.maritalStatus', marital)),
        h('div', { class: 'row' }, field('occupation', 'enroll.occupation', occupation),
          field('citizenship', 'enroll.citizenship', citizenship)),
        h('datalist', { id: 'occupations' }, OCCUPATIONS.map((value) => h('option', { value }))),
        h('h2', {}, t('enroll.address')),
        field('street', 'enroll.street', street),
        h('div', { class: 'row' }, field('rt', 'enroll.rt', rt), field('rw', 'enroll.rw', rw)),
        h('div', { class: 'row' }, regions.fields[0], regions.fields[1]),
        h('div', { class: 'row' }, regions.fields[2], regions.fields[3])),
      h('section', { class: 'card' },
        h('h2', {}, t('enroll.biometrics')),
        photoCapture('face', 'enroll.face', 'image/jpeg', (blob) => { captured.face = blob; }),
        signatureCapture((blob) => { captured.signature = blob; }),
        h('h3', {}, t('enroll.fingers')),
        fingers.element,
        exceptionPanel)));

  const form = h('form', { id: 'enroll-form', novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    cancelChecks();
    clearErrors();
    formMessage.textContent = '';
    if (!captured.face) return showError(localError('face', 'enroll.needFace'), { onSubmit: true });
    if (!captured.signature) return showError(localError('signature', 'enroll.needSignature'), { onSubmit: true });
    const body = new FormData();
    body.append('application', new Blob([JSON.stringify(application())], { type: 'application/json' }), 'application.json');
    body.append('face', captured.face, 'face.jpg');
    body.append('signature', captured.signature, 'signature.png');
    for (const [position, blob] of fingers.templates) body.append(`finger_${position}`, blob, `finger_${position}.iso`);
    let approval = null;
    if (Object.keys(fingers.exceptions()).length > 0) {
      approval = await supervisorSession();
      if (!approval) return;
      body.append('exception_photo', captured.exceptionPhoto, 'tangan.jpg');
      body.append('exception_approval', new Blob([JSON.stringify({ session: approval })], { type: 'application/json' }),
        'persetujuan.json');
    }
    fieldset.disabled = true;
    try {
      await send(body);
    } finally {
      if (approval) await api('/api/v1/logout', { method: 'POST', asToken: approval }).catch(() => {});
    }
  } }, h('h1', {}, t('enroll.title')), fieldset, h('div', { class: 'actions' }, formMessage, resend, submit));

  fieldIds.face = 'face';
  fieldIds.signature = 'signature';
  fieldIds.exception_photo = 'exception_photo';
  fieldIds.exception_approval = 'exception-supervisor';
  function localError(fieldName, key) {
    return new ApiError(400, { pesan: t(key), error: t(key), field: fieldName });
  }

  for (const input of form.querySelectorAll('input, select')) {
    input.addEventListener('change', () => { touched.add(input.id); scheduleCheck(); });
    input.addEventListener('blur', () => { if (input.value) { touched.add(input.id); scheduleCheck(); } });
  }
  showPreviousNik();
  replace(main, form);
  // Focus the first field at once: moving it after the region lists load
  // would pull the cursor away from a field the operator is already typing in.
  name.focus();
  await regions.ready.catch(() => {});
}

export async function renderReceipt(main, registration) {
  let receipt;
  try {
    receipt = await api(`/api/v1/enrollments/${encodeURIComponent(registration)}/receipt`);
  } catch (error) {
    replace(main, h('p', { class: 'error', role: 'alert' }, error instanceof ApiError ? error.operatorText : String(error)));
    return;
  }
  replace(main, h('article', { class: 'card receipt', id: 'receipt' },
    h('h1', {}, t('receipt.title')),
    h('dl', { class: 'facts' },
      h('dt', {}, t('receipt.registration')), h('dd', { id: 'receipt-registration' }, h('strong', {}, receipt.registration_number)),
      h('dt', {}, t('receipt.name')), h('dd', {}, receipt.resident_name),
      h('dt', {}, t('receipt.kind')), h('dd', {}, t(`kind.${receipt.application_kind}`)),
      h('dt', {}, t('receipt.capturedAt')), h('dd', {}, formatTime(receipt.captured_at)),
      h('dt', {}, t('receipt.station')), h('dd', {}, receipt.station_id),
      h('dt', {}, t('receipt.operator')), h('dd', {}, receipt.operator)),
    h('p', {}, t('receipt.keep')),
    h('p', { class: 'notice' }, t('receipt.free')),
    h('div', { class: 'actions no-print' },
      h('button', { type: 'button', onclick: () => window.print() }, t('receipt.print')),
      h('button', { type: 'button', class: 'primary', onclick: () => go('#/rekam') }, t('receipt.next')))));
  main.querySelector('.actions .primary').focus();
}
