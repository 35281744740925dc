// Capture widgets shared by the station's screens: a photo (file or camera)
// and fingerprint templates (file, or the simulated scanner the demo uses).
import { api, ApiError } from '../common/api.js';
import { h } from '../common/dom.js';
import { t } from '../common/i18n.js';

const EXCEPTIONS = ['none', 'amputated', 'bandaged', 'unusable'];

export function select(options, labelOf = (v) => v) {
  return h('select', {}, options.map((value) => h('option', { value }, labelOf(value))));
}

export function readAsBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',')[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

export function base64ToBlob(base64, type) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type });
}

function randomSubject() {
  const words = new Uint32Array(1);
  crypto.getRandomValues(words);
  return words[0] % 1000000;
}

// A photo from a file or the browser's camera; `onchange(blob)`. The
// preview's frame keeps its size before and after a photo, so choosing one
// moves nothing the operator is about to click.
export function photoCapture(id, labelKey, accept, onchange) {
  const preview = h('img', { alt: '', hidden: true });
  const frame = h('div', { class: 'preview' }, preview);
  const video = h('video', { class: 'camera', autoplay: true, playsinline: true, muted: true, hidden: true });
  const file = h('input', { type: 'file', accept });
  const error = h('p', { class: 'error', id: `${id}-error`, role: 'alert' });
  let stream = null;
  const show = (blob) => {
    preview.src = URL.createObjectURL(blob);
    preview.hidden = false;
    onchange(blob);
  };
  file.addEventListener('change', () => { if (file.files[0]) show(file.files[0]); });
  const stopCamera = () => {
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
    shoot.hidden = true;
  };
  const shoot = h('button', { type: 'button', hidden: true, onclick: () => {
    const canvas = h('canvas', { width: video.videoWidth, height: video.videoHeight });
    canvas.getContext('2d').drawImage(video, 0, 0);
    canvas.toBlob((blob) => { stopCamera(); show(blob); }, 'image/jpeg', 0.9);
  } }, t('enroll.takePhoto'));
  const camera = h('button', { type: 'button', onclick: async () => {
    error.textContent = '';
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true });
      video.srcObject = stream;
      video.hidden = false;
      shoot.hidden = false;
    } catch {
      error.textContent = t('enroll.noCamera');
    }
  } }, t('enroll.camera'));
  file.id = id;
  file.setAttribute('aria-describedby', `${id}-error`);
  return h('div', { class: 'field', 'data-field': id }, h('label', { for: id }, t(labelKey)),
    h('div', { class: 'capture' }, file, camera, shoot), video, frame, error);
}

// At enrollment, the station scores each finger as it is captured (POST
// /api/v1/enrollments/check with the finger alone): the row shows the score,
// or the station's reason in Bahasa Indonesia when it is below the minimum
// and the finger must be captured again. `current()` is false once the
// template was replaced, so a late answer does not overwrite a newer one.
async function showQuality(position, blob, status, current) {
  try {
    const template = await readAsBase64(blob);
    const answer = await api('/api/v1/enrollments/check', { method: 'POST', body: { fingers: { [position]: template } } });
    const quality = answer.finger_quality?.[0];
    if (quality && current()) status.textContent = t('enroll.capturedQuality', { score: quality.score });
  } catch (error) {
    if (!current()) return;
    status.textContent = error instanceof ApiError ? error.operatorText : String(error);
    status.classList.add('low-quality');
  }
}

// One row per finger (1–10): a template file or, on a station started with
// --simulated-scanner, a scan of the chosen subject. `impression` picks the
// simulated capture (0 at enrollment, another at pickup: a fresh touch).
// With `exceptions`, each finger may be declared missing or unusable, and
// `onExceptions(declared)` hears each change of the declared set.
// Returns { element, templates (Map position → Blob), exceptions() }.
export function fingerCapture(session, { exceptions: withExceptions = false, impression = 0, onExceptions = () => {} } = {}) {
  const templates = new Map();
  const subject = h('input', { type: 'number', min: 0, value: randomSubject(), id: 'scanner-subject', class: 'inline' });
  const rows = [];
  const exceptionOf = new Map();
  for (let position = 1; position <= 10; position++) {
    const status = h('span', { class: 'finger-status', id: `finger-${position}-status` }, t('enroll.notCaptured'));
    const file = h('input', { type: 'file', id: `finger-${position}`, accept: '.iso,.ist,.bin,.dat,application/octet-stream',
      'aria-label': t('enroll.fingerFile', { finger: t(`finger.${position}`) }) });
    const setTemplate = (blob) => {
      if (blob) templates.set(position, blob); else templates.delete(position);
      status.textContent = blob ? t('enroll.captured') : t('enroll.notCaptured');
      status.classList.toggle('ok', Boolean(blob));
      status.classList.remove('low-quality');
      if (blob && withExceptions) showQuality(position, blob, status, () => templates.get(position) === blob);
    };
    let exception = null;
    if (withExceptions) {
      exception = select(EXCEPTIONS, (code) => t(`exception.${code}`));
      exception.id = `exception-${position}`;
      exception.setAttribute('aria-label', t('enroll.fingerException', { finger: t(`finger.${position}`) }));
      exception.addEventListener('change', () => {
        if (exception.value !== 'none') { file.value = ''; setTemplate(null); }
        onExceptions(exceptions());
      });
      exceptionOf.set(position, exception);
    }
    file.addEventListener('change', () => setTemplate(file.files[0] ?? null));
    const scan = session.simulated_scanner ? h('button', { type: 'button', id: `scan-${position}`, onclick: async () => {
      try {
        const { template } = await api('/api/v1/scanner/simulated', { method: 'POST',
          body: { subject: Number(subject.value), finger: position, impression } });
        if (exception && exception.value !== 'none') {
          exception.value = 'none';
          onExceptions(exceptions());
        }
        setTemplate(base64ToBlob(template, 'application/octet-stream'));
      } catch (error) {
        status.textContent = error instanceof ApiError ? error.operatorText : String(error);
      }
    } }, t('enroll.scan')) : null;
    rows.push(h('tr', {}, h('th', { scope: 'row' }, t(`finger.${position}`)), h('td', {}, scan, file),
      withExceptions ? h('td', {}, exception) : null, h('td', {}, status)));
  }
  const scanAll = session.simulated_scanner ? h('button', { type: 'button', id: 'scan-all', onclick: () => {
    for (let position = 1; position <= 10; position++) document.getElementById(`scan-${position}`).click();
  } }, t('enroll.scanAll')) : null;
  const element = h('div', {},
    session.simulated_scanner ? h('p', { class: 'hint' }, h('label', { for: 'scanner-subject' },
      t('enroll.simulatedSubject')), ' ', subject, ' ', scanAll) : null,
    h('table', { class: 'fingers' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('enroll.finger')),
      h('th', { scope: 'col' }, t('enroll.template')),
      withExceptions ? h('th', { scope: 'col' }, t('enroll.exception')) : null,
      h('th', { scope: 'col' }, t('enroll.state')))), h('tbody', {}, rows)),
    h('p', { class: 'error', id: 'fingers-error', role: 'alert' }));
  const exceptions = () => {
    const declared = {};
    for (const [position, el] of exceptionOf) if (el.value !== 'none') declared[position] = el.value;
    return declared;
  };
  return { element, templates, exceptions };
}
