// Adjudication: the open duplicate cases, and one case with the record and
// each candidate side by side (face photos, demographics, per-finger
// scores), and the decision, which names the logged-in account.
import { api, ApiError, sessionToken } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { formatNumber, formatTime, t } from '../common/i18n.js';
import { go } from '../common/router.js';

// Why the pipeline opened a case, in the reader's language, from its
// suspicion_facts (docs/openapi.yaml, SuspicionFacts); the server's English
// text for a case opened before central kept the facts.
const SUSPICIONS = {
  no_fingerprints: () => t('central.suspicion.noFingerprints'),
  fingerprint_match: (facts) => t('central.suspicion.fingerprintMatch', { residents: facts.residents }),
  threshold_unreachable: (facts) => t('central.suspicion.thresholdUnreachable', {
    fingers: facts.fingers, max: formatNumber(facts.max_score), threshold: formatNumber(facts.threshold, 2),
    gallery: formatNumber(facts.gallery_subjects) }),
  own_card_mismatch: (facts) => t('central.suspicion.ownCardMismatch', { nik: facts.nik }),
};

function suspicionText(english, facts) {
  const say = SUSPICIONS[facts?.kind];
  return say ? say(facts) : english;
}

export async function renderCases(main) {
  const { cases } = await api('/api/v1/console/adjudications');
  replace(main, h('h1', {}, t('central.casesTitle')),
    h('section', { class: 'card' }, cases.length === 0 ? h('p', {}, t('central.noCases')) :
      h('table', { id: 'case-table' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('central.registration')),
        h('th', { scope: 'col' }, t('central.suspicion')), h('th', { scope: 'col' }, t('central.openedAt')))),
      h('tbody', {}, cases.map((c) => h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: `#/adjudikasi/${c.record_id}` }, c.registration_number)),
        h('td', {}, suspicionText(c.suspicion, c.suspicion_facts)), h('td', {}, formatTime(c.created_at))))))));
}

// The photo through fetch (it needs the session), shown from a blob: URL.
function photo(caseId, recordId, alt) {
  const img = h('img', { class: 'face', alt });
  fetch(`/api/v1/console/adjudications/${caseId}/photos/${recordId}`,
    { headers: { Authorization: `Bearer ${sessionToken()}` } })
    .then((response) => (response.ok ? response.blob() : null))
    .then((blob) => { if (blob) img.src = URL.createObjectURL(blob); });
  return img;
}

function person(caseId, record, titleKey) {
  const r = record.resident ?? {};
  const address = r.address ?? {};
  return h('section', { class: 'card side' },
    h('h2', {}, t(titleKey)),
    photo(caseId, record.record_id, t('central.photoOf', { name: r.name ?? '' })),
    h('dl', { class: 'facts' },
      h('dt', {}, t('central.registration')), h('dd', {}, record.registration_number),
      h('dt', {}, 'NIK'), h('dd', {}, record.holder_nik || record.nik || '—'),
      h('dt', {}, t('receipt.name')), h('dd', {}, r.name ?? ''),
      h('dt', {}, t('enroll.birthDate')), h('dd', {}, `${r.place_of_birth ?? ''}, ${r.birth_date ?? ''}`),
      h('dt', {}, t('enroll.sex')), h('dd', {}, r.sex ? t(`sex.${r.sex}`) : ''),
      h('dt', {}, t('enroll.address')), h('dd', {}, `${address.street ?? ''} RT ${address.rt ?? ''}/RW ${address.rw ?? ''}, ${address.village_code ?? ''}`),
      h('dt', {}, t('receipt.station')), h('dd', {}, record.station_id ?? '')));
}

export async function renderAdjudication(main, recordId) {
  const detail = await api(`/api/v1/console/adjudications/${encodeURIComponent(recordId)}`);
  const decided = detail.status !== 'open';
  const candidates = detail.candidates ?? [];
  const verdict = h('select', { id: 'verdict' }, ['different_people', 'same_person_reject', 'same_person_update']
    .map((v) => h('option', { value: v }, t(`central.verdict.${v}`))));
  const candidate = h('select', { id: 'candidate' }, candidates.map((c) => h('option', { value: c.nik }, c.nik)));
  const note = h('textarea', { id: 'note', rows: 3, required: true });
  const error = h('p', { class: 'error', role: 'alert', id: 'decide-error' });
  const showCandidate = () => { candidate.parentElement.hidden = verdict.value === 'different_people'; };
  verdict.addEventListener('change', showCandidate);

  const decision = decided
    ? h('section', { class: 'card', id: 'decision' }, h('h2', {}, t('central.decided')),
      h('p', { id: 'decided-as' }, t('central.decidedAs', { verdict: t(`central.verdict.${detail.decision.verdict}`),
        by: detail.decision.by, at: formatTime(detail.decision.at) })),
      h('p', {}, detail.decision.note),
      h('p', {}, t('central.recordNow', { state: t(`stage.${detail.record.state}`) })))
    : h('form', { class: 'card', id: 'decision', onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = '';
      try {
        await api(`/api/v1/console/adjudications/${encodeURIComponent(recordId)}/decide`, { method: 'POST',
          body: { verdict: verdict.value, candidate_nik: verdict.value === 'different_people' ? '' : candidate.value,
            note: note.value.trim() } });
        go(`#/adjudikasi/${recordId}`);
      } catch (failure) {
        error.textContent = failure instanceof ApiError ? failure.operatorText : String(failure);
      }
    } },
    h('h2', {}, t('central.decision')),
    h('div', { class: 'field' }, h('label', { for: 'verdict' }, t('central.verdict')), verdict),
    h('div', { class: 'field' }, h('label', { for: 'candidate' }, t('central.candidate')), candidate),
    h('div', { class: 'field' }, h('label', { for: 'note' }, t('central.note')), note),
    error, h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('central.decide'))));

  replace(main,
    h('h1', {}, t('central.caseTitle', { record: detail.record.registration_number })),
    h('p', {}, t('central.suspicionIs', { suspicion: suspicionText(detail.suspicion, detail.suspicion_facts) })),
    h('div', { class: 'columns compare' },
      person(recordId, detail.record, 'central.thisRecord'),
      candidates.map((c) => h('div', {},
        person(recordId, c.record, 'central.candidateRecord'),
        h('section', { class: 'card' }, h('h3', {}, t('central.scores', { score: Number(c.fused_score).toFixed(1) })),
          h('table', { class: 'scores' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('enroll.finger')),
            h('th', { scope: 'col' }, t('central.score')))),
          h('tbody', {}, (c.fingers ?? []).map((f) => h('tr', {}, h('th', { scope: 'row' }, t(`finger.${f.position}`)),
            h('td', { class: 'num' }, Number(f.score).toFixed(1)))))))))),
    decision);
  if (!decided) showCandidate();
}
